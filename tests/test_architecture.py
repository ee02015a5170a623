"""The import rules from docs/architecture, one test per rule, each naming every offender.

Every import counts, including those inside functions (lazy imports): the whole syntax tree
is walked, so a layer cannot be crossed by moving an import into a function body.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "monitor"

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
LEAVES = ("monitor/model.py", "monitor/errors.py")
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
# Packages by module name, so a rule holds whether monitor.pipeline is a module or a package.
NOT_FROM_STORE = ("monitor.digest", "monitor.deliver", "monitor.pipeline", "monitor.cli")


def imports_of(source: str) -> list[tuple[int, str]]:
    """(line, module) of every absolute import anywhere in ``source``, top level or not."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return sorted(found)


def _modules() -> list[tuple[str, list[tuple[int, str]]]]:
    return [
        (path.relative_to(ROOT).as_posix(), imports_of(path.read_text(encoding="utf-8")))
        for path in sorted(PACKAGE.rglob("*.py"))
    ]


MODULES = _modules()


def within(name: str, packages: Iterable[str]) -> bool:
    """Whether module ``name`` is one of ``packages`` or inside one of them."""
    return any(name == p or name.startswith(p + ".") for p in packages)


def offenders(
    modules: Iterable[tuple[str, list[tuple[int, str]]]],
    applies: Callable[[str], bool],
    forbidden: Callable[[str, str], bool],
) -> list[str]:
    """'path:line imports module' for each import that ``forbidden(path, module)`` refuses,
    in the files ``applies`` selects."""
    return [
        f"{rel}:{line} imports {name}"
        for rel, names in modules
        if applies(rel)
        for line, name in names
        if forbidden(rel, name)
    ]


def _report(found: list[str]) -> str:
    return "\n".join(["", *found])


def _imports_io(_rel: str, name: str) -> bool:
    return within(name, IO_LIBRARIES)


def _not_owner(rel: str, name: str) -> bool:
    return any(within(name, [lib]) and not rel.startswith(own) for lib, own in OWNERS.items())


def _project(_rel: str, name: str) -> bool:
    return within(name, ["monitor"])


def test_model_and_errors_import_nothing_of_the_project() -> None:
    found = offenders(MODULES, lambda rel: rel in LEAVES, _project)
    assert not found, _report(found)


def test_pure_steps_import_no_io_library() -> None:
    found = offenders(MODULES, lambda rel: rel.startswith(PURE), _imports_io)
    assert not found, _report(found)


def test_each_io_library_has_one_owner() -> None:
    found = offenders(MODULES, lambda rel: True, _not_owner)
    assert not found, _report(found)


def test_store_imports_no_digest_delivery_pipeline_or_cli() -> None:
    found = offenders(
        MODULES,
        lambda rel: rel.startswith("monitor/store/"),
        lambda _rel, name: within(name, NOT_FROM_STORE),
    )
    assert not found, _report(found)


def test_delivery_imports_no_store() -> None:
    found = offenders(
        MODULES,
        lambda rel: rel.startswith("monitor/deliver/"),
        lambda _rel, name: within(name, ["monitor.store"]),
    )
    assert not found, _report(found)


def test_nothing_outside_the_cli_imports_it() -> None:
    found = offenders(
        MODULES,
        lambda rel: not rel.startswith("monitor/cli/") and rel != "monitor/__main__.py",
        lambda _rel, name: within(name, ["monitor.cli"]),
    )
    assert not found, _report(found)


def test_nothing_but_its_wiring_imports_the_scheduler() -> None:
    found = offenders(
        MODULES,
        lambda rel: (
            not rel.startswith("monitor/cli/")
            and rel not in ("monitor/__main__.py", "monitor/scheduler.py")
            and rel != "monitor/pipeline/daemon.py"  # assembles `monitor run`'s jobs
        ),
        lambda _rel, name: within(name, ["monitor.scheduler"]),
    )
    assert not found, _report(found)


SYNTHETIC = """
import os
from monitor.store import db

def later():
    import httpx
    from monitor.cli.main import cli
"""


def test_the_checker_sees_lazy_imports_and_names_each_offender() -> None:
    # Each rule above is offenders() over the real tree; here it is shown able to fail.
    modules = [("monitor/deliver/x.py", imports_of(SYNTHETIC))]
    assert imports_of(SYNTHETIC) == [
        (2, "os"),
        (3, "monitor.store"),
        (6, "httpx"),
        (7, "monitor.cli.main"),
    ]
    assert offenders(modules, lambda rel: True, _project) == [
        "monitor/deliver/x.py:3 imports monitor.store",
        "monitor/deliver/x.py:7 imports monitor.cli.main",
    ]
    assert offenders(modules, lambda rel: True, _imports_io) == [
        "monitor/deliver/x.py:6 imports httpx"
    ]
    assert offenders(modules, lambda rel: True, _not_owner) == [
        "monitor/deliver/x.py:6 imports httpx"
    ]
    assert offenders(modules, lambda rel: rel.startswith("monitor/store/"), _project) == []
    assert within("monitor.pipeline.poll", ["monitor.pipeline"])
    assert not within("monitor.pipeline_fulltext", ["monitor.pipeline"])


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


# --- size: modules a newcomer can read, functions that fit on a screen ----------------------

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60  # the body, docstring left out: a command's help is its docstring
# Linear orchestrators, allowed to be long because they read top to bottom (the first
# schema: one statement after another):
LINEAR = {"monitor/store/migrations/before_0500.py:_core"}


def function_lengths(source: str) -> list[tuple[str, int]]:
    """(name, lines of its body without the docstring) of every function in ``source``."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            first = body[0]
            is_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            start = body[1] if is_doc and len(body) > 1 else first
            out.append((node.name, (node.end_lineno or start.lineno) - start.lineno + 1))
    return out


def test_no_module_over_400_lines() -> None:
    found = [
        f"{p.relative_to(ROOT).as_posix()}: {n} lines"
        for p in sorted(PACKAGE.rglob("*.py"))
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert not found, "split by concern:\n" + "\n".join(found)


def test_no_function_over_60_lines_but_linear_orchestrators() -> None:
    found = []
    for p in sorted(PACKAGE.rglob("*.py")):
        rel = p.relative_to(ROOT).as_posix()
        for name, lines in function_lengths(p.read_text(encoding="utf-8")):
            if lines > MAX_FUNCTION_LINES and f"{rel}:{name}" not in LINEAR:
                found.append(f"{rel}:{name}: {lines} lines")
    assert not found, "split into named steps:\n" + "\n".join(found)


def test_function_lengths_leave_the_docstring_out() -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(3))
    source = f'def f():\n    """Doc.\n\n    More.\n    """\n{body}\nasync def g():\n{body}'
    assert function_lengths(source) == [("f", 3), ("g", 3)]
