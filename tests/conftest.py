"""Shared fixtures live in their own modules; they are registered here as plugins."""

import os
import tempfile
from pathlib import Path

pytest_plugins = ["tests.feedserver", "tests.fakeslack"]

# The encoder cache (monitor/embed/cache.py) of every test and of the commands they run, not
# the user's own ~/.cache: one folder for the whole run and its xdist workers (they inherit
# the variable), reused by the next run, so the suite builds the encoder once.
os.environ.setdefault(
    "MONITOR_CACHE_DIR", str(Path(tempfile.gettempdir()) / f"monitor-test-cache-{os.getuid()}")
)
