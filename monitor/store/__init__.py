"""The archive: the only package that imports sqlite_utils.

Times are stored as ISO 8601 UTC text ``YYYY-MM-DDTHH:MM:SSZ`` (sortable as text).

What it may import, and what may import it: docs/architecture.md.
"""

import sys
import threading


def _import_sqlite_utils() -> None:
    """Import sqlite_utils without numpy and pandas. It imports them only to map their scalar
    types to column types when it creates a table from Python values, which the archive never
    does (its tables come from the migrations' SQL), and numpy alone was ~0.1 s of every
    command that opens the archive. A module that needs numpy (monitor.embed) imports it
    later as usual. Only while no other thread runs: one importing numpy in the meantime
    would find it missing."""
    if "sqlite_utils" in sys.modules or threading.active_count() > 1:
        return
    hidden = [name for name in ("numpy", "pandas") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # "import numpy" raises ImportError
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for name in hidden:
            del sys.modules[name]


_import_sqlite_utils()
