"""Full text: after a feed's items are stored, read the article behind each (issue 15).

    new items of a full-text feed ─► body_status 'pending' (in the feed's write)
    pending items ─► fetch the page (the feeds' Fetcher: per-host limits, timeouts, size
        cap, redirects capped, http/https only) ─► extract the text (monitor.reader.article,
        in the parser processes) ─► store it ─► match the item again with its body

Each page is fetched once; a failure is retried on later polls (monitor.store.bodies,
MAX_ATTEMPTS). A cycle's budget (pages and seconds) bounds the work, and each feed takes at
most PAGES_PER_FEED of it, so a feed that brings 500 new items neither stalls the cycle nor
starves the other feeds: the rest wait for the next poll. The item never waits for its
body: it is stored and matched on its title and summary first.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from monitor.errors import FetchError
from monitor.model import FeedSource, Item, Match
from monitor.pipeline.parse_worker import ArticleRead, MatchPlan, read_article
from monitor.reader.fetch import Fetcher
from monitor.store.bodies import BodyResult, BodyTask, mark_pending, pending, save_bodies
from monitor.store.db import utcnow
from monitor.store.writer import ArchiveWriter, Database

if TYPE_CHECKING:
    from monitor.pipeline.poll import Poller

log = logging.getLogger(__name__)

SHORT_SUMMARY = 400  # characters: under this, `auto` takes a feed's summaries for teasers
PAGES_PER_CYCLE = 100  # article pages fetched in one poll cycle, over all feeds
SECONDS_PER_CYCLE = 120.0  # and the time they may take together
PAGES_PER_FEED = 25  # one feed's share of a cycle
ARTICLE_MAX_BYTES = 5_000_000  # an article page larger than this is not read
ARTICLE_TIMEOUT = 20.0  # seconds for one page (the feed's own timeout if shorter)


def wants_full_text(feed: FeedSource, items: Sequence[Item]) -> bool:
    """Whether the feed's new items get their article page read. ``auto``: when most of
    the items the feed gave have a summary under SHORT_SUMMARY characters, or none."""
    if feed.full_text != "auto":
        return feed.full_text == "always"
    if not items:
        return False
    short = sum(1 for i in items if len(i.summary) < SHORT_SUMMARY)
    return short * 2 >= len(items)


def mark_new_items(
    db: Database, feed: FeedSource, items: Sequence[Item], new: Sequence[Item]
) -> None:
    """On the writer thread, in the feed's own transaction: queue the new items' pages."""
    if new and wants_full_text(feed, items):
        mark_pending(db, [i.id for i in new if i.url])


_T = TypeVar("_T")


class Budget:
    """What a cycle may spend on article pages: a count and a deadline, cut short when
    ``stop`` is set (the monitor shutting down: pages still loading wait for the next run)."""

    def __init__(
        self,
        pages: int | None = None,
        seconds: float | None = None,
        stop: asyncio.Event | None = None,
    ) -> None:
        self.pages = PAGES_PER_CYCLE if pages is None else pages
        self.seconds = SECONDS_PER_CYCLE if seconds is None else seconds
        self.deadline = time.monotonic() + self.seconds
        self.stop = stop or asyncio.Event()

    def take(self, wanted: int) -> int:
        n = max(0, min(wanted, self.pages))
        self.pages -= n
        return n

    def time_left(self) -> float:
        return 0.0 if self.stop.is_set() else self.deadline - time.monotonic()

    async def wait(
        self, jobs: Sequence[asyncio.Future[_T]]
    ) -> tuple[set[asyncio.Future[_T]], set[asyncio.Future[_T]]]:
        """(done, not done) once every job is done, the time is up or ``stop`` is set."""
        pending: set[asyncio.Future[_T]] = set(jobs)
        stopped = asyncio.ensure_future(self.stop.wait())
        try:
            while pending and self.time_left() > 0:
                watched: set[asyncio.Future[Any]] = {*pending, stopped}
                await asyncio.wait(watched, timeout=self.time_left(), return_when="FIRST_COMPLETED")
                pending = {j for j in pending if not j.done()}
        finally:
            stopped.cancel()
        return {j for j in jobs if j.done()}, pending


@dataclass(frozen=True)
class BodyOutcome:
    fetched: int = 0  # pages tried
    ok: int = 0
    failed: int = 0
    matches: int = 0  # new matches found with the bodies
    deferred: int = 0  # tried but not done when the budget's time ran out


Extract = Callable[[FeedSource, Item, bytes, dict[str, str], str], Awaitable[ArticleRead]]
Matcher = Callable[[Item, FeedSource], list[Match]]


def _page_source(feed: FeedSource, item: Item) -> FeedSource:
    """The article page as something the Fetcher can fetch: the feed's politeness, a
    smaller size cap, its own id (the host's limit is what is shared with the feed)."""
    return replace(
        feed,
        id=f"{feed.id}:article:{item.id}",
        url=item.url,
        timeout=min(feed.timeout, ARTICLE_TIMEOUT),
        max_bytes=min(feed.max_bytes, ARTICLE_MAX_BYTES),
    )


async def read_bodies(
    feed: FeedSource,
    *,
    writer: ArchiveWriter,
    fetcher: Fetcher,
    extract: Extract,
    matcher: Matcher | None,
    budget: Budget,
    plan: MatchPlan | None = None,
) -> BodyOutcome:
    """Fetch, extract, store and match the feed's pending article pages within ``budget``."""
    if feed.full_text == "never" or budget.time_left() <= 0 or budget.pages <= 0:
        return BodyOutcome()
    waiting: list[BodyTask] = await writer.run(lambda db: pending(db, feed.id, PAGES_PER_FEED))
    # Taken after the query, with no await between: a feed with nothing waiting never holds
    # a share that another feed polled meanwhile then finds missing.
    tasks = waiting[: budget.take(len(waiting))]
    if not tasks:
        return BodyOutcome()

    async def one(task: BodyTask) -> tuple[BodyResult, ArticleRead | None]:
        item = task.item
        if not item.url.lower().startswith(("http://", "https://")):
            note = f"the link is not a web address ({item.url[:60]})"
            return BodyResult(item.id, "not_html", error=note), None
        try:
            result = await fetcher.fetch(_page_source(feed, item))
        except FetchError as exc:
            return BodyResult(item.id, "fetch_error", error=exc.message), None
        read = await extract(feed, item, result.body or b"", result.headers, result.url)
        if read.status == "ok":
            return BodyResult(item.id, "ok", read.text, read.note), read
        return BodyResult(item.id, read.status, error=read.note), read  # type: ignore[arg-type]

    jobs = [asyncio.ensure_future(one(t)) for t in tasks]
    done, late = await budget.wait(jobs)
    for job in late:  # out of time: these stay pending for the next poll, not counted
        job.cancel()
    if late:
        await asyncio.gather(*late, return_exceptions=True)
        log.info(
            "feed %s: %d article pages left for the next poll (the cycle's %g s for full "
            "text ran out)",
            feed.id,
            len(late),
            budget.seconds,
        )
    results: list[tuple[BodyResult, ArticleRead | None]] = []
    for job in done:
        try:
            results.append(job.result())
        except Exception:  # a bug reading one page must not lose the others
            log.exception("feed %s: reading an article page failed", feed.id)
    items = {t.item.id: t.item for t in tasks}
    now = utcnow()
    saved = await writer.run(lambda db: _store(db, feed, results, items, matcher, now))
    ok = sum(1 for r, _ in results if r.status == "ok")
    return BodyOutcome(len(results), ok, len(results) - ok, saved, len(late))


def _store(
    db: Database,
    feed: FeedSource,
    results: list[tuple[BodyResult, ArticleRead | None]],
    items: dict[str, Item],
    matcher: Matcher | None,
    now: datetime,
) -> int:
    """Writer thread: the bodies, then the item's matches with its body. Matches already
    stored stay as they are, so only what the body added is new (and delivered once)."""
    from monitor.store.matches import save_matches

    save_bodies(db, [r for r, _ in results], now)
    found: list[Match] = []
    for result, read in results:
        if result.status != "ok":
            continue
        if read is not None and read.matches is not None:
            found.extend(read.matches)
        elif matcher is not None:
            item = replace(items[result.item_id], body=result.text or "")
            try:
                found.extend(matcher(item, feed))
            except Exception:
                log.exception("matching item %s with its body failed", item.id)
    return save_matches(db, found, now) if found else 0


# One page at a time when extraction runs in threads (no parser processes): trafilatura
# parses with one lxml HTMLParser kept at module level (trafilatura.utils.HTML_PARSER), and
# lxml allows a parser one thread at a time; two at once crashed the interpreter once under
# load. Each parser process reads one page at a time anyway.
_INLINE = threading.Lock()


def _read_inline(*args: Any) -> ArticleRead:
    with _INLINE:
        return read_article(*args)


async def poll_bodies(poller: Poller, feed: FeedSource) -> BodyOutcome:
    """The Poller's hook, after a feed's poll: its pending pages, extracted in the parser
    processes (or a thread for tiny lists), matched there with the rule set in force."""
    if feed.full_text == "never":
        return BodyOutcome()
    budget = poller.body_budget or Budget(PAGES_PER_FEED, SECONDS_PER_CYCLE / 2, poller.stopping)
    rules = poller.rules
    book = rules.book if rules is not None else None

    async def extract(
        source: FeedSource, item: Item, body: bytes, headers: dict[str, str], url: str
    ) -> ArticleRead:
        plan = poller._match_plan(source)
        args = (source, item, body, headers, url, plan)
        if poller.workers <= 0:
            read = await asyncio.to_thread(_read_inline, *args)
        else:
            crashed = ArticleRead("empty", note="the parser process crashed on this page")
            read = await poller.parsers.run(read_article, *args, crashed=crashed)
        if read.matches is not None and (rules is None or rules.book is not book):
            read = replace(read, matches=None)  # rules reloaded meanwhile: the writer matches
        return read

    def match(item: Item, source: FeedSource) -> list[Match]:
        matcher = rules.matcher if rules is not None else None
        return matcher.match(item, source) if matcher is not None else []

    assert poller._fetcher is not None
    outcome = await read_bodies(
        feed,
        writer=poller.writer,
        fetcher=poller._fetcher,
        extract=extract,
        matcher=match if rules is not None else None,
        budget=budget,
    )
    if outcome.fetched:
        log.info(
            "feed %s: %d article pages read, %d failed, %d new matches",
            feed.id,
            outcome.ok,
            outcome.failed,
            outcome.matches,
        )
    return outcome
