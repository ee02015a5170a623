"""The import rules from docs/architecture: pure steps do no I/O, one owner per library."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "monitor"

IO_LIBRARIES = {
    "httpx",
    "sqlite3",
    "sqlite_utils",
    "slack_sdk",
    "feedparser",
    "apscheduler",
    "yaml",
    "socket",
    "urllib.request",
    "requests",
    "subprocess",
}
PURE = ("monitor/reader/normalize.py", "monitor/rules/", "monitor/digest/")
OWNERS = {
    "sqlite_utils": ("monitor/store/",),
    "slack_sdk": ("monitor/deliver/slack.py", "monitor/deliver/blocks.py", "monitor/slackapp/"),
    "slack_bolt": ("monitor/slackapp/",),
    "httpx": ("monitor/reader/fetch.py", "monitor/reader/fetch_errors.py"),
    "feedparser": ("monitor/reader/parse.py",),
    "fastfeedparser": ("monitor/reader/fastparse.py",),
    "apscheduler": ("monitor/scheduler.py",),
    "yaml": ("monitor/config/",),
}


def _modules() -> list[tuple[str, set[str]]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found.append((rel, names))
    return found


MODULES = _modules()


def _top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize("rel,names", MODULES, ids=[m[0] for m in MODULES])
def test_pure_steps_import_no_io_library(rel: str, names: set[str]) -> None:
    if not rel.startswith(PURE):
        return
    bad = {n for n in names if n in IO_LIBRARIES or _top(n) in IO_LIBRARIES}
    assert not bad, f"{rel} is a pure step but imports {sorted(bad)}"


@pytest.mark.parametrize("rel,names", MODULES, ids=[m[0] for m in MODULES])
def test_each_io_library_has_one_owner(rel: str, names: set[str]) -> None:
    for library, owners in OWNERS.items():
        if any(_top(n) == library for n in names):
            assert rel.startswith(owners), f"{rel} imports {library}; only {owners} may"


@pytest.mark.parametrize("rel,names", MODULES, ids=[m[0] for m in MODULES])
def test_nothing_imports_cli_or_scheduler(rel: str, names: set[str]) -> None:
    if rel.startswith("monitor/cli/") or rel == "monitor/__main__.py":
        return
    for n in names:
        assert not n.startswith("monitor.cli"), f"{rel} imports the CLI"
        if rel not in ("monitor/scheduler.py", "monitor/pipeline/daemon.py"):
            assert n != "monitor.scheduler", f"{rel} imports the scheduler"


def test_model_is_stdlib_only() -> None:
    names = dict(MODULES)["monitor/model.py"]
    assert {_top(n) for n in names} <= {"__future__", "dataclasses", "datetime", "typing"}


def test_reader_errors_survive_pickling() -> None:
    # Parse workers run in other processes and send these back.
    import pickle

    from monitor.errors import FetchError, ParseError

    fetch = pickle.loads(
        pickle.dumps(FetchError("http_status", "HTTP 503", status=503, retry_after=5))
    )
    assert (fetch.kind, fetch.message, fetch.status, fetch.retry_after) == (
        "http_status",
        "HTTP 503",
        503,
        5,
    )
    parse = pickle.loads(pickle.dumps(ParseError("empty", "the body is empty")))
    assert (parse.kind, parse.message) == ("empty", "the body is empty")
