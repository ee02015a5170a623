"""monitor.yaml: the shipped file loads, defaults without it, every problem with FILE:LINE."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from monitor.config.cron import cron_problem
from monitor.config.settings import (
    Settings,
    load_settings,
    parse_duration,
    rule_problems,
    slack_credentials_from_env,
)
from monitor.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_settings_load() -> None:
    settings = load_settings(ROOT / "monitor.yaml")
    daily = settings.digest("daily")
    assert settings.timezone == "Australia/Sydney"
    assert daily.schedule == "0 8 * * *"
    assert set(daily.rules) == {
        "jkus-trilateral",
        "japan-korea",
        "critical-minerals",
        "tech-competition",
        "australia-angle",
    }
    assert settings.alerts.rules == ("jkus-trilateral",)
    assert settings.ops.enabled
    assert settings.ops.channel == "#jkus-ops"


def test_missing_file_gives_one_daily_digest_of_every_rule(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "absent.yaml")
    assert settings == Settings()
    assert [(d.name, d.schedule, d.rules) for d in settings.digests] == [("daily", "0 8 * * *", ())]


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text(
        "timezone: Mars/Olympus\n"
        "digests:\n"
        "  - name: daily\n"
        '    schedule: "0 25 * * *"\n'
        "    max_itmes: 5\n"
        "  - name: daily\n"
        "    post_when_empty: sometimes\n"
        "alerts:\n"
        "  channel: '#has space'\n"
        "  max_age: forever\n"
        "opss: {}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    lines = [p.format() for p in info.value.problems]
    f = str(path)
    assert (
        f"{f}:1: unknown timezone 'Mars/Olympus' (use an IANA name such as Australia/Sydney, Asia/Tokyo or UTC)"
        in lines
    )
    assert (
        f"{f}:4: bad schedule '0 25 * * *': hour field '25': 25 is outside 0-23 (e.g. \"0 8 * * *\")"
        in lines
    )
    assert f"{f}:5: unknown key 'max_itmes' in a digest (did you mean 'max_items'?)" in lines
    assert f"{f}:6: duplicate digest name 'daily' (give each digest its own name)" in lines
    assert f"{f}:7: post_when_empty must be true or false, not 'sometimes'" in lines
    assert any(line.startswith(f"{f}:9: channel '#has space' contains a space") for line in lines)
    assert (
        f"{f}:10: 'forever' is not a duration: write e.g. '15m', '1h' or '1h30m'; units w, d, h, m, s"
        in lines
    )
    assert any(line.startswith(f"{f}:11: unknown key 'opss' in monitor.yaml") for line in lines)
    assert len(lines) == 8


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text("digests:\n  - name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.problems[0].line >= 2


def test_a_misspelt_timezone_gets_a_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text("timezone: Asia/Tokio\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert [p.format() for p in info.value.problems] == [
        f"{path}:1: unknown timezone 'Asia/Tokio' (did you mean 'Asia/Tokyo'?)"
    ]


def test_unknown_rule_ids_are_problems_with_a_hint() -> None:
    settings = load_settings(ROOT / "monitor.yaml")
    problems = rule_problems(settings, {"jkus-trilateral", "japan-korea"})
    texts = [p.format() for p in problems]
    assert any("digest 'daily' names unknown rule 'critical-minerals'" in t for t in texts)
    assert all(p.line > 0 for p in problems)


@pytest.mark.parametrize(
    ("expr", "ok"),
    [
        ("0 8 * * *", True),
        ("*/15 * * * mon-fri", True),
        ("30 7 1,15 jan,jul 0", True),
        ("0 8 * *", False),
        ("60 8 * * *", False),
        ("0 8 * * funday", False),
        ("*/0 * * * *", False),
    ],
)
def test_cron_validation(expr: str, ok: bool) -> None:
    assert (cron_problem(expr) is None) is ok


def test_durations() -> None:
    assert parse_duration("24h") == timedelta(hours=24)
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("7d") == timedelta(days=7)
    with pytest.raises(ValueError, match=r"'soon' is not a duration: write e\.g\. '15m'"):
        parse_duration("soon")


def test_credentials_come_only_from_the_environment() -> None:
    assert slack_credentials_from_env({}) is None
    web = slack_credentials_from_env(
        {
            "SLACK_BOT_TOKEN": "xoxb-secret",
            "SLACK_WEBHOOK_URL": "https://hooks",
            "SLACK_API_URL": "http://127.0.0.1:9/api",
        }
    )
    assert web is not None
    assert web.kind == "web"
    assert web.api_url == "http://127.0.0.1:9/api/"
    assert "xoxb-secret" not in repr(web)
    hook = slack_credentials_from_env({"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/x"})
    assert hook is not None
    assert hook.kind == "webhook"
