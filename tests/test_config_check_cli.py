"""`monitor config check` and the start-up guard: exact output and exit codes.

Broken feed lists are derived from the shipped feeds.yaml by string replacement. Tests of
feeds.yaml output run beside a one-rule folder and the default settings, so they assert the
exact text whatever state the shipped rule pack is in; two tests check the shipped files
together, as a user's `monitor config check` would.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.cli.common import AppContext
from monitor.config.check import check_all, collect_checks
from monitor.config.feeds import load_feeds
from monitor.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


ONE_RULE = "name: Watch\nquery: Japan\n"


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run the CLI with ./rules (one rule) and ./monitor.yaml (absent: defaults) by default."""
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def line_of(text: str, needle: str) -> int:
    assert text.count(needle) == 1, needle
    return text[: text.index(needle)].count("\n") + 1


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in tmp_path so the problems name a plain `feeds.yaml`, as users see it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "watch.yaml").write_text(ONE_RULE, encoding="utf-8")
    return tmp_path


def write_broken(folder: Path, *replacements: tuple[str, str]) -> str:
    text = (ROOT / "feeds.yaml").read_text(encoding="utf-8")
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    (folder / "feeds.yaml").write_text(text, encoding="utf-8")
    return text


def test_shipped_configuration_checks_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    config = load_feeds(ROOT / "feeds.yaml")
    code, out, err = run("config", "check")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"feeds.yaml: {len(config.feeds)} feeds ({len(config.enabled())} enabled)"
    assert len(lines) == 3
    assert lines[1].startswith("rules: ")
    assert "rules" in lines[1][7:]
    assert lines[2].startswith("monitor.yaml: ")
    assert "digest" in lines[2]
    assert "alerts" in lines[2]


def test_broken_feeds_yaml_lists_every_problem(in_tmp: Path) -> None:
    text = write_broken(
        in_tmp,
        ("id: korea-times", "id: korea-herald"),
        ("url: https://thediplomat.com/feed/", "url: ftp://thediplomat.com/feed/"),
        ("id: im-mining\n", "id: im-mining\n    intervall: 1h\n"),
        ("id: wsj-world\n", "id: wsj-world\n    interval: 15\n"),
    )
    code, out, err = run("config", "check")
    wsj_interval = line_of(text, "interval: 15\n")
    first, second = [
        i + 1 for i, line in enumerate(text.splitlines()) if line == "  - id: korea-herald"
    ]
    assert code == 2
    assert out == ""
    assert err == (
        f"feeds.yaml:{second}: duplicate feed id 'korea-herald' "
        f"(first used on line {first}; ids must be unique)\n"
        f"feeds.yaml:{wsj_interval}: feed 'wsj-world': interval must be a "
        "duration, not a number (15) (write a duration with a unit, e.g. '15m' or '15s')\n"
        f"feeds.yaml:{line_of(text, 'ftp://')}: feed 'the-diplomat': url scheme 'ftp' is not "
        "allowed (use an http:// or https:// URL)\n"
        f"feeds.yaml:{line_of(text, 'intervall:')}: unknown key 'intervall' in feed "
        "'im-mining' (did you mean 'interval'?)\n"
        "Error: 4 problems found\n"
    )


def test_yaml_syntax_error_names_line_and_column(in_tmp: Path) -> None:
    text = write_broken(in_tmp, ("\nfeeds:\n", "\n feeds:\n"))
    code, _, err = run("config", "check")
    assert code == 2
    assert err == (
        f"feeds.yaml:{line_of(text, ' feeds:')}:2: YAML syntax error: expected <block end>, "
        "but found '<block mapping start>' (check indentation and quoting around this line)\n"
        "Error: 1 problem found\n"
    )


def test_missing_feeds_file(in_tmp: Path) -> None:
    code, out, err = run("--feeds", "nowhere.yaml", "config", "check")
    assert (code, out) == (2, "")
    assert err == (
        "nowhere.yaml: file not found (check the path, or create the file)\n"
        "Error: 1 problem found\n"
    )


def test_feeds_path_from_environment(in_tmp: Path) -> None:
    write_broken(in_tmp, ("url: https://www.mining.com/feed/", "url: gopher://mining.com/"))
    (in_tmp / "feeds.yaml").rename(in_tmp / "env-feeds.yaml")
    code, _, err = run("config", "check", env={"MONITOR_FEEDS": "env-feeds.yaml"})
    assert code == 2
    assert err.startswith("env-feeds.yaml:")
    assert "url scheme 'gopher' is not allowed" in err


def test_success_prints_one_line_per_file(in_tmp: Path) -> None:
    write_broken(in_tmp)
    config = load_feeds(in_tmp / "feeds.yaml")
    code, out, err = run("config", "check")
    assert (code, err) == (0, "")
    assert out == (
        f"feeds.yaml: {len(config.feeds)} feeds ({len(config.enabled())} enabled)\n"
        "rules: 1 rule, 0 lists\n"
        "monitor.yaml: 1 digest, alerts on (file not found: defaults used)\n"
    )


def test_rule_naming_an_unknown_feed(in_tmp: Path) -> None:
    write_broken(in_tmp)
    rule = ONE_RULE + "sources:\n  feeds:\n    - japan-times\n    - japan-time\n"
    (in_tmp / "rules" / "watch.yaml").write_text(rule, encoding="utf-8")
    code, _, err = run("config", "check")
    assert code == 2
    assert err == (
        "rules/watch.yaml:6: rule 'watch' names unknown feed 'japan-time' "
        "(did you mean 'japan-times'?)\n"
        "Error: 1 problem found\n"
    )


def test_check_all_raises_one_error_with_every_problem(in_tmp: Path) -> None:
    write_broken(
        in_tmp,
        ("url: https://www.mining.com/feed/", "url: gopher://mining.com/"),
        ("    country: SG\n", "    country: Singapore\n"),
    )
    ctx = AppContext(
        feeds_path=Path("feeds.yaml"),
        rules_path=Path("rules"),
        settings_path=Path("monitor.yaml"),
        db_path=in_tmp / "never.db",
    )
    with pytest.raises(ConfigError) as caught:
        check_all(ctx)
    assert [p.message for p in caught.value.problems] == [
        "feed 'cna-asia': unknown country code 'Singapore'",
        "feed 'mining-com': url scheme 'gopher' is not allowed",
    ]
    assert caught.value.message == "2 problems found"
    assert not (in_tmp / "never.db").exists()


def test_collect_checks_returns_a_report_instead_of_raising(in_tmp: Path) -> None:
    # The library half of `monitor config check`: every problem and what loaded, for the
    # CLI to print. Both files load, so the check across them runs.
    write_broken(in_tmp)
    (in_tmp / "rules" / "watch.yaml").write_text(
        ONE_RULE + "sources:\n  feeds:\n    - japan-time\n", encoding="utf-8"
    )
    paths = AppContext(
        feeds_path=Path("feeds.yaml"),
        rules_path=Path("rules"),
        settings_path=Path("monitor.yaml"),
        db_path=in_tmp / "never.db",
    )
    report = collect_checks(paths)
    assert [(p.file, p.line, p.message) for p in report.problems] == [
        ("rules/watch.yaml", 5, "rule 'watch' names unknown feed 'japan-time'"),
    ]
    assert report.feeds is not None
    assert report.book is not None
    assert report.summaries[1:] == [
        "rules: 1 rule, 0 lists",
        "monitor.yaml: 1 digest, alerts on (file not found: defaults used)",
    ]


def test_check_all_passes_on_the_shipped_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    ctx = AppContext(
        feeds_path=Path("feeds.yaml"),
        rules_path=Path("rules"),
        settings_path=Path("monitor.yaml"),
        db_path=Path("unused.db"),
    )
    check_all(ctx)  # raises on any problem


@pytest.mark.parametrize("args", [["config", "-h"], ["config", "check", "-h"]])
def test_help_has_an_example(args: list[str]) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0
    assert "Example:\n    monitor config check\n" in result.stdout


@pytest.mark.parametrize("command", [["poll", "--once"], ["run"]])
def test_bad_file_stops_poll_and_run_before_anything_is_written(
    in_tmp: Path, command: list[str]
) -> None:
    text = write_broken(in_tmp, ("url: https://www.mining.com/feed/", "url: ftp://mining.com/"))
    code, _out, err = run("--db", "data/monitor.db", *command)
    assert code == 2
    assert err == (
        f"feeds.yaml:{line_of(text, 'ftp://')}: feed 'mining-com': url scheme 'ftp' is not "
        "allowed (use an http:// or https:// URL)\n"
        "Error: 1 problem found\n"
    )
    assert not (in_tmp / "data").exists()  # no archive, no lock file
