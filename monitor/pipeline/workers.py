"""The parser processes of a Poller: started once, as the Poller opens, and replaced if one dies.

Starting them costs about a quarter of a second (the forkserver, then each worker importing
the parse and normalise steps and unpickling the rule set), which used to wait for the
first fetched feed. ``start`` begins it at once, on a thread (spawning blocks), so it runs
while the first requests are in flight; the first parse then finds its workers ready. A
`monitor run` keeps the same workers for every cycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import pickle
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from monitor.pipeline.parse_worker import install_rules, load_parsers
from monitor.pipeline.rules import RuleFiles, Rules

T = TypeVar("T")


class ParserPool:
    """``workers`` processes (none: the caller parses in-process), with the rule set in
    force at their start installed in each."""

    def __init__(self, workers: int, rules: Rules | None) -> None:
        self.workers = workers
        self.rules = rules
        self.executor: ProcessPoolExecutor | None = None
        self._starting: asyncio.Future[None] | None = None

    def start(self) -> None:
        """From the event loop: create the pool and start its workers in the background."""
        if self.workers <= 0 or self._starting is not None:
            return
        pool = self._pool()
        self._starting = asyncio.get_running_loop().run_in_executor(
            None, _spawn, pool, self.workers
        )

    def _pool(self) -> ProcessPoolExecutor:
        if self.executor is None:
            # forkserver: workers start clean, not as forks of this process and its threads.
            # Nothing preloaded here: each worker imports what it uses (the same wall time
            # once the Poller is open), and the tree holds one copy fewer (1,000 bench feeds:
            # 250 -> 236 MB peak RSS). `poll --once` starts the forkserver early, with the
            # parse step, while it has a CPU to spare (monitor.pipeline.forkserver).
            context = multiprocessing.get_context("forkserver")
            rules = self.rules
            shipped: tuple[RuleFiles, bytes] | None = None
            if rules is not None and rules.from_files and rules.book is not None:
                assert rules.book_files is not None
                # The rule set in force, compiled once here and pickled once: every worker
                # starts with it (parse_worker.install_rules) instead of compiling its own.
                shipped = (rules.book_files, pickle.dumps(rules.book.matcher))
            if shipped is None:
                self.executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
            else:
                self.executor = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=context,
                    initializer=install_rules,
                    initargs=shipped,
                )
        return self.executor

    async def run(self, fn: Callable[..., T], *args: object, crashed: T) -> T:
        """``fn(*args)`` in a worker. A worker that died (killed, out of memory) takes its
        pool with it: a fresh pool is started and the call tried once more, so one crash
        does not fail every feed of this and later cycles; ``crashed`` if it dies again."""
        loop = asyncio.get_running_loop()
        for _attempt in (1, 2):
            pool = self._pool()
            try:
                return await loop.run_in_executor(pool, fn, *args)
            except BrokenProcessPool:
                self.reset(pool)
        return crashed

    def reset(self, pool: ProcessPoolExecutor) -> None:
        if self.executor is pool:
            self.executor = None
            pool.shutdown(wait=False, cancel_futures=True)

    async def close(self) -> None:
        if self._starting is not None:
            with contextlib.suppress(Exception):  # a start cut short by the close itself
                await self._starting
        if self.executor is not None:
            await asyncio.to_thread(self.executor.shutdown, wait=True, cancel_futures=True)


def _spawn(pool: ProcessPoolExecutor, workers: int) -> None:
    # ProcessPoolExecutor starts a worker per task submitted while none is idle, up to its
    # size: one task each starts them all (and runs install_rules in each).
    for _ in range(workers):
        pool.submit(load_parsers)
