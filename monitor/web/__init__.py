"""Datasette over the archive: the command line and the metadata that goes with it.

Datasette runs as a subprocess (``python -m datasette``) so the CLI never imports it; the
metadata lives in a private temporary folder removed when Datasette stops; the
database is served in Datasette's mutable mode, whose connections are opened read-only
(``mode=ro``), and no writable canned query is defined, so nothing can write through it.
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any

from monitor.errors import MonitorError

METADATA = Path(__file__).with_name("metadata.json")
PLUGINS = Path(__file__).with_name("plugins")  # monitor_search(): the CLI's search as SQL
TEMPLATE_DB = "monitor"  # the database key used in metadata.json
TRUNCATE_CELLS = 160  # characters of a cell shown in tables: summaries stay one or two lines


def metadata_for(db_path: Path) -> dict[str, Any]:
    """The shipped metadata with its database section keyed by this file's name."""
    # The first screen's links and search form point at this database's pages.
    link = html.escape(urllib.parse.quote(db_path.stem), quote=True)
    text = METADATA.read_text(encoding="utf-8").replace("/{db}/", f"/{link}/")
    meta: dict[str, Any] = json.loads(text)
    databases = meta.get("databases", {})
    if TEMPLATE_DB in databases:
        databases[db_path.stem] = databases.pop(TEMPLATE_DB)
    return meta


def write_metadata(db_path: Path) -> Path:
    """The metadata file in a fresh private folder (``mkdtemp``: mode 0700, a name nobody can
    guess, so nothing planted in $TMPDIR is followed). The caller removes the folder."""
    folder = Path(tempfile.mkdtemp(prefix="monitor-serve-"))
    meta_path = folder / "metadata.json"
    with open(meta_path, "x", encoding="utf-8") as out:  # "x": never through a link
        json.dump(metadata_for(db_path), out, ensure_ascii=False)
    return meta_path


def remove_metadata(meta_path: Path) -> None:
    shutil.rmtree(meta_path.parent, ignore_errors=True)


def datasette_command(db_path: Path, host: str, port: int, meta_path: Path) -> list[str]:
    """The argv that serves ``db_path`` read-only. Raises if Datasette is not installed.

    Where the archive's folder is not writable it is served immutable (``-i``): a reader of
    a WAL file must otherwise create the -shm file beside it, and cannot.
    """
    if importlib.util.find_spec("datasette") is None:
        raise MonitorError(
            "Datasette is not installed, so the archive cannot be served",
            "install the web extra: pip install '.[web]' (or pip install datasette)",
        )
    writable_folder = os.access(db_path.absolute().parent, os.W_OK)
    database = [str(db_path)] if writable_folder else ["-i", str(db_path)]
    return [
        sys.executable,
        "-m",
        "datasette",
        "serve",
        *database,
        "--host",
        host,
        "--port",
        str(port),
        "--metadata",
        str(meta_path),
        "--plugins-dir",
        str(PLUGINS),
        "--setting",
        "sql_time_limit_ms",
        "3000",
        "--setting",
        "suggest_facets",
        "off",
        "--setting",
        "facet_time_limit_ms",
        "500",
        "--setting",
        "truncate_cells_html",
        str(TRUNCATE_CELLS),
    ]


def run_datasette(args: list[str]) -> int:
    """Run Datasette as a child and wait; SIGTERM and SIGHUP are passed on so a supervisor
    stopping `monitor serve` stops Datasette (Ctrl-C reaches both: same process group)."""
    proc = subprocess.Popen(args)

    def forward(signum: int, frame: object) -> None:
        proc.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGHUP)}
    previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if proc.poll() is None:
            proc.terminate()
            proc.wait()
