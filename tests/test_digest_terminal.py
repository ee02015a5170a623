"""Digest text as people read it: the period with its year, once; the terminal shows rich
text, not raw Slack syntax; no bidi or zero-width tricks reach Slack.

Issue 10 points 11 and 14 (and the fake Slack sees what Slack would).
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from rich.console import Console

from monitor.cli import cli
from monitor.deliver.console import ConsoleDeliverer
from monitor.deliver.slack import SlackWebDeliverer
from monitor.digest.mrkdwn import safe_url
from monitor.digest.render import period_text, render_alert, render_digest
from monitor.digest.select import plan_digest, stories
from monitor.model import Candidate, Hit, Rule
from monitor.pipeline.outbox import send_digest
from tests.digestdata import NOW, RULES, Seed, make_db, write_config
from tests.fakeslack import FakeSlack
from tests.test_deliver_slack import SETTINGS

TZ = ZoneInfo("Asia/Tokyo")
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
INVISIBLE = BIDI + "\u200b\u2060\ufeff"
HOSTILE = {
    "title": "Invoice\u202egpj.exe\u202c for \u2066Seoul\u2069 summit\u200b\u2060\ufeff",
    "summary": "Officials \u200fsaid\u200e Japan and \u202bKorea\u202c agreed 日韓\u2067会談\u2069",
    "feed": "Reu\u202eters\u202c",
    "rule": "Tri\u2066lateral\u2069 \u202ewatch",
}


def texts(body: dict[str, object]) -> list[str]:
    out = [str(body.get("text") or "")]
    for block in body.get("blocks") or []:  # type: ignore[attr-defined]
        if isinstance(block.get("text"), dict):
            out.append(block["text"]["text"])
        out += [e.get("text", "") for e in block.get("elements", [])]
    return out


def test_bidi_and_zero_width_characters_never_reach_slack(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    rule = Rule(id="tri", name=HOSTILE["rule"], query="x", priority="high")
    summary = HOSTILE["summary"]
    hits = (Hit("Japan", "summary", summary.index("Japan"), summary.index("Japan") + 5),)
    lead = Candidate(
        "a",
        "tri",
        3.0,
        hits,
        HOSTILE["title"],
        summary,
        "https://example.com/\u202eexe.txt",
        NOW,
        "f",
        HOSTILE["feed"],
    )
    copy = Candidate("b", "tri", 1.0, (), HOSTILE["title"], "", lead.url, NOW, "g", "Yon\u2067hap")
    sections = plan_digest([lead, copy], [rule], channel="#w", max_items=5)
    messages = render_digest(
        sections, name="daily", channel="#w", start=NOW - timedelta(days=1), end=NOW, tz=TZ,
        rules={"tri": rule},
    )  # fmt: skip
    alert = render_alert(stories([lead, copy], [rule])[0], channel="#a", tz=TZ, rules={"tri": rule})
    deliverer = SlackWebDeliverer(fake_slack.token, base_url=fake_slack.api_url, timeout=15)
    for m in [*messages, alert]:
        deliverer.send(m)
    seen = [t for body in fake_slack.messages for t in texts(body)]
    assert any("Invoicegpj.exe for Seoul summit" in t for t in seen)  # the words stay
    for text in seen:
        assert not set(text) & set(BIDI), repr(text)
        # our own zero-width space gives Slack's bold a word edge in CJK, only beside a *
        for found in re.finditer("\u200b", text):
            assert "*" in text[found.start() - 1 : found.end() + 1], repr(text)
        assert "\u2060" not in text
        assert "\ufeff" not in text
    assert safe_url("https://example.com/\u202eexe") == "https://example.com/%E2%80%AEexe"


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (datetime(2022, 3, 3, 0, tzinfo=UTC), datetime(2026, 8, 22, 0, tzinfo=UTC),
         "3 Mar 2022 09:00 – 22 Aug 2026 09:00 JST"),
        (datetime(2026, 8, 21, 0, tzinfo=UTC), datetime(2026, 8, 22, 0, tzinfo=UTC),
         "21 Aug 09:00 – 22 Aug 2026 09:00 JST"),
        (datetime(2026, 8, 22, 0, tzinfo=UTC), datetime(2026, 8, 22, 3, tzinfo=UTC),
         "22 Aug 2026 09:00–12:00 JST"),
    ],
)  # fmt: skip
def test_the_period_shows_its_years(start: datetime, end: datetime, expected: str) -> None:
    assert period_text(start, end, TZ) == expected


SEEDS = [
    Seed(
        "old",
        "Japan [link=file:///etc/passwd]click[/link] *bold* <!here> & co",
        summary="Officials said 日韓の通貨当局高官が会談 and [bold red]x[/] & <b>",
        rules={"jkus-trilateral": 2.0},
        hits=(Hit("日韓", "summary", 15, 17),),
        age_hours=24 * 365 * 4,  # from 2022: the period spans four years
    ),
    Seed("new", "Tokyo lithium refinery deal", rules={"japan-korea": 2.0}),
]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for var in ("SLACK_BOT_TOKEN", "SLACK_WEBHOOK_URL", "SLACK_API_URL"):
        monkeypatch.delenv(var, raising=False)
    values = write_config(tmp_path)
    make_db(tmp_path, SEEDS, now=NOW).close()
    return values


def assert_terminal_text(out: str) -> None:
    assert "\u200b" not in out
    assert "<http" not in out
    assert "|" not in out.replace("  |  ", "")
    assert "*" not in out  # bold is bold, not stars (feed stars are look-alikes: ∗)
    assert "&amp;" not in out
    assert "&lt;" not in out
    # feed text that looks like rich markup is shown as it is, not interpreted
    assert "Japan [link=file:///etc/passwd]click[/link] ∗bold∗ <!here> & co" in out
    assert "[bold red]x[/] & <b>" in out
    assert "https://example.com/old" in out  # the link's URL is shown after its title
    assert "日韓の通貨当局高官が会談" in out
    (header,) = [line for line in out.splitlines() if line.startswith("Daily digest")]
    period = header.split(" · ", 1)[1]
    assert re.fullmatch(r"\d+ \w{3} 2022 \d\d:\d\d – \d+ \w{3} 20\d\d \d\d:\d\d JST", period)
    assert out.count(period) == 1  # once, in the header


def test_preview_renders_for_the_terminal(env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["digest", "preview"], env=env, catch_exceptions=False)
    assert result.exit_code == 0
    assert_terminal_text(result.stdout)


def test_the_console_deliverer_renders_for_the_terminal(env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["digest"], env=env, catch_exceptions=False)
    assert result.exit_code == 0
    assert_terminal_text(result.stdout)


def test_on_a_real_terminal_feed_markup_makes_no_link_and_bold_is_bold(tmp_path: Path) -> None:
    db = make_db(tmp_path, SEEDS)
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, color_system="truecolor", width=120)
    send_digest(db, SETTINGS, RULES, ConsoleDeliverer(console), now=NOW)
    out = buffer.getvalue()
    targets = set(re.findall(r"\x1b]8;[^;]*;([^\x1b]+)\x1b\\", out))  # OSC 8 hyperlinks
    assert targets == {"https://example.com/old", "https://example.com/new"}  # none from feeds
    assert "[link=file:///etc/passwd]click" in out
    assert "\x1b[1m" in out  # bold
