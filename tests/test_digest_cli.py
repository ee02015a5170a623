"""`monitor digest` and `monitor digest preview`: output, exit codes and exact error text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from tests.digestdata import NOW, Seed, make_db, write_config
from tests.fakeslack import FakeSlack

SEEDS = [
    Seed(
        "a1",
        "Japan, South Korea and US hold trilateral talks",
        feed="reuters",
        rules={"jkus-trilateral": 5.0, "japan-korea": 3.0},
        age_hours=2,
    ),
    Seed(
        "a2",
        "Japan, South Korea and US hold trilateral talks - Yonhap",
        feed="yonhap",
        rules={"jkus-trilateral": 4.0},
        age_hours=3,
    ),
    Seed(
        "b1",
        "Seoul and Tokyo resume shuttle diplomacy",
        feed="kyodo",
        rules={"japan-korea": 2.0},
        age_hours=5,
    ),
    Seed(
        "c1",
        "Lithium prices <!channel> slump",
        feed="mining",
        rules={"critical-minerals": 1.5},
        age_hours=1,
    ),
]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for var in ("SLACK_BOT_TOKEN", "SLACK_WEBHOOK_URL", "SLACK_API_URL"):
        monkeypatch.delenv(var, raising=False)
    values = write_config(tmp_path)
    make_db(tmp_path, SEEDS, now=NOW.replace(year=2030))  # items recent relative to the real clock
    return values


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_without_credentials_the_digest_prints_to_the_terminal_once(env: dict[str, str]) -> None:
    code, out, err = run(env, "digest")
    assert code == 0, err
    assert "# to #watch" in out
    assert "# to #minerals" in out
    assert "Japan, South Korea and US hold trilateral talks" in out
    assert "also: Yonhap" in out
    assert "also matched: Japan–Korea relations" in out
    assert "daily digest: 2 messages sent to the terminal." in err
    code, out, err = run(env, "digest")
    assert (code, out) == (0, "")
    assert err == "daily digest: nothing new to send.\n"


def test_preview_and_dry_run_claim_nothing(env: dict[str, str]) -> None:
    code, out, _ = run(env, "digest", "preview")
    assert code == 0
    assert "Seoul and Tokyo resume shuttle diplomacy" in out
    code, out, err = run(env, "digest", "--dry-run")
    assert code == 0
    assert "Seoul and Tokyo" in out
    assert "Dry run: nothing was claimed or sent." in err
    code, out, _ = run(env, "digest", "preview", "--json")
    payloads = json.loads(out)
    assert [p["channel"] for p in payloads] == ["#watch", "#minerals"]
    assert all(p["unfurl_links"] is False and p["unfurl_media"] is False for p in payloads)
    assert payloads[0]["blocks"][0]["type"] == "header"
    minerals = json.dumps(payloads[1]["blocks"])
    assert "&lt;!channel&gt;" in minerals
    assert "<!channel>" not in minerals
    # still everything there to send
    code, out, _ = run(env, "digest")
    assert "Seoul and Tokyo" in out


def test_posts_to_slack_when_a_token_is_set(env: dict[str, str], fake_slack: FakeSlack) -> None:
    code, _, err = run({**env, **fake_slack.env()}, "digest")
    assert code == 0, err
    assert err == "daily digest: 2 messages sent to Slack.\n"
    assert [m["channel"] for m in fake_slack.messages] == ["#watch", "#minerals"]
    assert fake_slack.injected == []  # "Lithium prices <!channel> slump" mentions nobody
    code, _, err = run({**env, **fake_slack.env()}, "digest")
    assert err == "daily digest: nothing new to send.\n"
    assert fake_slack.requests["chat.postMessage"] == 2


def test_bad_token_exits_2_with_a_hint_and_keeps_messages_pending(
    env: dict[str, str], fake_slack: FakeSlack
) -> None:
    bad = {**env, **fake_slack.env(), "SLACK_BOT_TOKEN": "xoxb-wrong"}
    code, _, err = run(bad, "digest")
    assert code == 2
    assert err.endswith(
        "Error: Slack refused the message: invalid_auth\n"
        "Hint: check SLACK_BOT_TOKEN (a bot token starts with xoxb-)\n"
    )
    code, _, err = run({**env, **fake_slack.env()}, "digest")
    assert code == 0
    assert len(fake_slack.messages) == 2


def test_unknown_digest_and_bad_since_are_usage_errors(env: dict[str, str]) -> None:
    code, _, err = run(env, "digest", "--name", "weekly")
    assert code == 2
    assert (
        err
        == f"{env['MONITOR_SETTINGS']}: no digest named 'weekly' (known: daily)\nError: 1 problem found\n"
    )
    code, _, err = run(env, "digest", "--since", "soon")
    assert code == 2
    assert (
        "Error: Invalid value for '--since': 'soon' is not a duration: write e.g. '15m', '1h' or '1h30m'; units w, d, h, m, s"
        in err
    )


def test_preview_without_an_archive_says_what_to_do(env: dict[str, str], tmp_path: Path) -> None:
    code, _, err = run({**env, "MONITOR_DB": str(tmp_path / "none.db")}, "digest", "preview")
    assert code == 2
    assert err.startswith(f"Error: no archive at {tmp_path / 'none.db'}\nHint: ")
    assert not (tmp_path / "none.db").exists()
