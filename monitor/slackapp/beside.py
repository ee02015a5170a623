"""The Slack app in a thread beside `monitor run`'s poller, when both tokens are set."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from monitor.errors import LockedError
from monitor.slackapp.runner import Runner, config_from_env, start_in_thread
from monitor.slackapp.workbench import Paths
from monitor.store.lock import ArchiveLock

log = logging.getLogger(__name__)


@contextmanager
def app_beside_poller(paths: Paths) -> Iterator[None]:
    """Start the Slack app when both tokens are set and no other process runs it for this
    archive; stop it on the way out. Without tokens, or when it runs elsewhere, do nothing."""
    config = config_from_env(dict(os.environ))
    if config is None:
        yield
        return
    lock = ArchiveLock(paths.db, role="slack")
    try:
        lock.acquire()
    except LockedError as exc:
        log.warning("not starting the Slack app: %s", exc.message)
        yield
        return
    try:
        runner = Runner(paths, config)
        thread = start_in_thread(runner)
        log.info("Slack app started (buttons and /monitor)")
        try:
            yield
        finally:
            runner.stop.set()
            thread.join(timeout=15)
    finally:
        lock.release()
