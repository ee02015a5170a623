"""Digest cron jobs fire at local time in the configured timezone, across DST changes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.pipeline import daemon


async def _noop(name: str) -> None:
    return None


def _fires(tz: str, cron: str, start: datetime, n: int) -> list[datetime]:
    (job,) = daemon.digest_jobs([("daily", cron)], tz, _noop)
    trigger = job.trigger()
    out: list[datetime] = []
    previous = None
    now = start
    for _ in range(n):
        fire = trigger.get_next_fire_time(previous, now)
        assert fire is not None
        out.append(fire)
        previous, now = fire, fire + timedelta(seconds=1)
    return out


def test_sydney_08_00_stays_08_00_local_when_dst_starts() -> None:
    # DST starts in Sydney on Sunday 4 October 2026 (AEST +10 → AEDT +11).
    fires = _fires("Australia/Sydney", "0 8 * * *", datetime(2026, 10, 2, tzinfo=UTC), 4)
    assert [(f.hour, f.minute) for f in fires] == [(8, 0)] * 4
    assert [f.strftime("%a %d") for f in fires] == ["Sat 03", "Sun 04", "Mon 05", "Tue 06"]
    # Saturday 08:00 AEST is 22:00 UTC the day before; from Sunday, AEDT makes it 21:00.
    assert [f.astimezone(UTC).strftime("%m-%d %H:%M") for f in fires] == [
        "10-02 22:00",
        "10-03 21:00",
        "10-04 21:00",
        "10-05 21:00",
    ]


def test_new_york_across_dst_end() -> None:
    # DST ends in New York on Sunday 1 November 2026 (EDT -4 → EST -5).
    fires = _fires("America/New_York", "30 7 * * mon-fri", datetime(2026, 10, 29, tzinfo=UTC), 3)
    assert [f.astimezone(UTC).strftime("%a %m-%d %H:%M") for f in fires] == [
        "Thu 10-29 11:30",
        "Fri 10-30 11:30",
        "Mon 11-02 12:30",
    ]


def test_tokyo_has_no_dst_and_the_job_calls_send_with_its_name() -> None:
    fires = _fires("Asia/Tokyo", "0 8 * * *", datetime(2026, 3, 7, tzinfo=UTC), 3)
    assert {f.astimezone(UTC).hour for f in fires} == {23}
    called: list[str] = []

    async def send(name: str) -> None:
        called.append(name)

    (job,) = daemon.digest_jobs([("morning", "0 8 * * *")], "Asia/Tokyo", send)
    asyncio.run(job.func())  # type: ignore[arg-type]
    assert (job.id, called) == ("digest:morning", ["morning"])


def test_alert_check_runs_every_interval() -> None:
    async def check() -> None:
        return None

    job = daemon.alert_job(60, check)
    trigger = job.trigger()
    now = datetime(2026, 8, 22, 12, 0, tzinfo=UTC)
    first = trigger.get_next_fire_time(None, now)
    assert first is not None
    second = trigger.get_next_fire_time(first, first)
    assert second is not None
    assert second - first == timedelta(seconds=60)


def test_monitor_run_gets_the_shipped_digest_and_alert_jobs(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    jobs = daemon.delivery_jobs(root / "monitor.yaml", tmp_path / "monitor.db", None)
    assert [j.id for j in jobs] == ["digest:daily", "alerts:check"]
    assert (jobs[0].cron, jobs[0].timezone) == ("0 8 * * *", "Australia/Sydney")
    assert jobs[1].every == 60
