"""The APScheduler wiring, and the `monitor run` daemon as a real subprocess."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.job import Job
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.model import FeedSource
from monitor.pipeline.daemon import feed_jobs
from monitor.scheduler import JobSpec, build_scheduler, serve
from tests.feedserver import SMALL_FEED, FeedServer

DATA = Path(__file__).parent / "data" / "feeds"


def feed(feed_id: str, interval: int) -> FeedSource:
    return FeedSource(feed_id, feed_id, "http://127.0.0.1/x", "news", "", "en", interval)


async def nothing() -> None:
    pass


def test_one_job_per_feed_with_jitter_and_safe_defaults() -> None:
    async def poll(source: FeedSource) -> object:
        return source.id

    first = datetime(2026, 8, 22, 9, 0, tzinfo=UTC)
    jobs = feed_jobs([feed("a", 900), feed("b", 3600)], poll, first_runs={"b": first})
    assert [(j.id, j.every, j.jitter, j.first_run) for j in jobs] == [
        ("poll:a", 900, 60.0, None),
        ("poll:b", 3600, 60.0, first),
    ]
    assert feed_jobs([feed("c", 300)], poll)[0].jitter == 30.0
    assert asyncio.run(jobs[0].func()) == "a"

    jobs.append(JobSpec(id="digest:daily", func=nothing, cron="0 8 * * *", timezone="Asia/Tokyo"))

    async def registered_jobs() -> dict[str, Job]:
        scheduler = build_scheduler(jobs)
        assert str(scheduler.timezone) == "UTC"
        scheduler.start(paused=True)  # defaults are applied to jobs when the scheduler starts
        try:
            return {j.id: j for j in scheduler.get_jobs()}
        finally:
            scheduler.shutdown(wait=False)

    registered = asyncio.run(registered_jobs())
    assert set(registered) == {"poll:a", "poll:b", "digest:daily"}
    for job in registered.values():
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 300)
    trigger = registered["poll:a"].trigger
    assert isinstance(trigger, IntervalTrigger)
    assert (trigger.interval, trigger.jitter) == (timedelta(seconds=900), 60)
    assert registered["poll:b"].next_run_time == first
    cron = registered["digest:daily"].trigger
    assert isinstance(cron, CronTrigger)
    assert str(cron.timezone) == "Asia/Tokyo"


def test_stop_waits_for_work_in_flight_then_runs_nothing_more() -> None:
    events: list[str] = []

    async def scenario() -> None:
        stop = asyncio.Event()
        started = asyncio.Event()
        in_flight: set[asyncio.Task[None]] = set()

        async def job() -> None:
            task = asyncio.current_task()
            assert task is not None
            in_flight.add(task)  # type: ignore[arg-type]
            events.append("start")
            started.set()
            await asyncio.sleep(0.2)
            events.append("end")
            in_flight.discard(task)  # type: ignore[arg-type]

        async def drain() -> None:
            events.append("drain")
            if in_flight:
                await asyncio.wait(in_flight)
            events.append("drained")

        spec = JobSpec(id="work", func=job, every=0.05, first_run=datetime.now(UTC))
        runner = asyncio.create_task(serve([spec], drain=drain, stop=stop, handle_signals=False))
        await started.wait()
        stop.set()
        await runner
        await asyncio.sleep(0.15)  # a job that still ran after shutdown would show up here

    asyncio.run(scenario())
    assert events == ["start", "drain", "end", "drained"]


def test_sighup_calls_reload() -> None:
    reloaded: list[bool] = []

    async def scenario() -> None:
        stop = asyncio.Event()

        async def reload() -> None:
            reloaded.append(True)
            stop.set()

        async def drain() -> None:
            pass

        runner = asyncio.create_task(serve([], drain=drain, on_reload=reload, stop=stop))
        await asyncio.sleep(0.05)
        signal.raise_signal(signal.SIGHUP)
        await asyncio.wait_for(runner, 5)

    asyncio.run(scenario())
    assert reloaded == [True]


def _wait_for(predicate: object, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():  # type: ignore[operator]
                return True
        except sqlite3.OperationalError:
            pass  # the archive is being created
        time.sleep(0.05)
    return False


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        return list(conn.execute(sql))


def test_the_daemon_polls_reloads_rules_refuses_a_twin_and_stops_cleanly(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.add_file("/small.xml", SMALL_FEED)
    (tmp_path / "feeds.yaml").write_text(
        "defaults:\n  interval: 1m\n  kind: news\n  lang: en\nfeeds:\n"
        f"  - id: small\n    name: Small\n    url: {feed_server.url('/small.xml')}\n",
        encoding="utf-8",
    )
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "jk.yaml").write_text("id: jk\nname: JK\nquery: Japan AND Korea\n", encoding="utf-8")
    db = tmp_path / "archive.db"
    command = [
        sys.executable, "-m", "monitor",
        "--feeds", str(tmp_path / "feeds.yaml"),
        "--rules", str(rules),
        "--settings", str(tmp_path / "monitor.yaml"),
        "--db", str(db),
    ]  # fmt: skip
    daemon = subprocess.Popen(
        [*command, "run", "--workers", "0"], stderr=subprocess.PIPE, text=True
    )
    try:
        assert _wait_for(lambda: _query(db, "SELECT count(*) FROM items") == [(1,)])

        twin = subprocess.run([*command, "run"], capture_output=True, text=True, timeout=30)
        assert twin.returncode == 2
        assert twin.stderr == (
            f"Error: another monitor (pid {daemon.pid}) is already using {db}\n"
            "Hint: stop it first, or point --db at a different archive\n"
        )

        # a broken rule set is refused on SIGHUP and reported; the daemon keeps running
        (rules / "jk.yaml").write_text("id: jk\nname: JK\nquery: Japan AND (Korea\n")
        daemon.send_signal(signal.SIGHUP)
        assert _wait_for(lambda: _query(db, "SELECT value FROM state WHERE key = 'rules_error'"))
        assert daemon.poll() is None

        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=20) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
        stderr = daemon.communicate()[1]
    assert "feed small: ok, 1 new" in stderr
    assert "rules not reloaded, the last good set stays in force" in stderr
    assert "stopped" in stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
