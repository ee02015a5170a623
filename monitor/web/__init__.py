"""Datasette over the archive: the command line and the metadata that goes with it.

Datasette runs as a subprocess (``python -m datasette``) so the CLI never imports it; the
database is served in Datasette's mutable mode, whose connections are opened read-only
(``mode=ro``), and no writable canned query is defined, so nothing can write through it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from monitor.errors import MonitorError

METADATA = Path(__file__).with_name("metadata.json")
TEMPLATE_DB = "monitor"  # the database key used in metadata.json


def metadata_for(db_path: Path) -> dict[str, Any]:
    """The shipped metadata with its database section keyed by this file's name."""
    meta: dict[str, Any] = json.loads(METADATA.read_text(encoding="utf-8"))
    databases = meta.get("databases", {})
    if TEMPLATE_DB in databases:
        databases[db_path.stem] = databases.pop(TEMPLATE_DB)
    return meta


def datasette_command(db_path: Path, host: str, port: int) -> list[str]:
    """The argv that serves ``db_path`` read-only. Raises if Datasette is not installed."""
    if importlib.util.find_spec("datasette") is None:
        raise MonitorError(
            "Datasette is not installed, so the archive cannot be served",
            "install the web extra: pip install '.[web]' (or pip install datasette)",
        )
    # One file per user and archive name, rewritten each start: nothing piles up in /tmp.
    folder = Path(tempfile.gettempdir()) / f"monitor-serve-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    meta_path = folder / f"{db_path.stem}-metadata.json"
    meta_path.write_text(json.dumps(metadata_for(db_path), ensure_ascii=False), encoding="utf-8")
    return [
        sys.executable,
        "-m",
        "datasette",
        "serve",
        str(db_path),
        "--host",
        host,
        "--port",
        str(port),
        "--metadata",
        str(meta_path),
        "--setting",
        "sql_time_limit_ms",
        "3000",
        "--setting",
        "suggest_facets",
        "off",
        "--setting",
        "facet_time_limit_ms",
        "500",
    ]
