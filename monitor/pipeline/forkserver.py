"""The forkserver the parser processes fork from, started early by `monitor poll --once`.

A one-shot cycle spends its first half second on one CPU: imports, then the configuration
check. Started before them, the forkserver imports the parse step on the other CPU in the
meantime, and every worker the Poller then starts forks with it imported, instead of
importing it on the cycle's clock. Only the one-shot command does this: `monitor run` starts
its workers once for the whole run, and a forkserver holding the parse modules is one more
copy of them in memory (docs/performance.md, "A cycle's fixed cost").
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver

# The parse step: what a worker needs before its first body (parse_worker.load_parsers).
PARSERS = ("monitor.reader.parse", "monitor.reader.normalize")
PRELOAD = ["monitor.pipeline.parse_worker", *PARSERS]


def start_early() -> None:
    """Start the forkserver now, with the parse step imported in it. Nothing waits for it:
    the first worker's start does. If it is already running (a second cycle in the same
    process), this does nothing."""
    multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
    multiprocessing.forkserver.ensure_running()
