"""Delivery orchestration: select → cluster → render → reserve → send → confirm.

The delivery steps that `monitor digest` calls directly and `monitor run` through
monitor.pipeline.dispatch. Each ``send_*`` first reserves its new messages — claiming their matches in the same
transaction — and then flushes every pending message in the ledger, oldest first, so a
message left pending by a crash or an outage goes out before anything newer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from monitor.config.settings import DigestSpec, Settings, feedback_buttons_from_env
from monitor.deliver.base import Deliverer
from monitor.digest.cluster import WINDOW
from monitor.digest.render import (
    render_alert,
    render_digest,
    render_feed_failing,
    render_feed_recovered,
    render_set_aside,
)
from monitor.digest.select import (
    Entry,
    alert_rules,
    eligible,
    sections_of,
    split_covered,
    stories,
)
from monitor.digest.thread import render_thread
from monitor.embed.feedback import with_feedback
from monitor.embed.vectors import ensure
from monitor.errors import DeliveryError
from monitor.message import Message
from monitor.model import Candidate, Rule, StoryKey
from monitor.store import backlog, threads
from monitor.store import deliveries as ledger
from monitor.store.db import utcnow
from monitor.store.feedback import hidden_items
from monitor.store.writer import Database

log = logging.getLogger(__name__)

ALERTS = "alerts"  # the ledger name all alerts share, so an item alerts once


@dataclass
class DeliveryReport:
    reserved: int = 0  # new messages put in the ledger by this call
    sent: int = 0  # messages confirmed by the destination (new or left from before)
    pending: int = 0  # messages still waiting (Slack down, or a setup error)
    failed: int = 0  # messages set aside by this call: Slack refused them for good
    errors: list[DeliveryError] = field(default_factory=list)

    def merge(self, other: DeliveryReport) -> None:
        self.reserved += other.reserved
        self.sent += other.sent
        self.pending = other.pending
        self.failed += other.failed
        self.errors += other.errors


@dataclass(frozen=True)
class DigestDraft:
    """What a digest would post now, without claiming anything (preview and --dry-run)."""

    spec: DigestSpec
    messages: list[Message]
    start: datetime
    end: datetime
    # Later copies of stories an earlier message told: (entry, that message's delivery id).
    covered: list[tuple[Entry, int]] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)  # the stories the messages carry

    def stories_of(self, message: Message) -> list[dict[str, object]]:
        """The stories one message carries, for `digest preview --json`."""
        return [
            {
                "rule": e.rule_id,
                "title": e.lead.title,
                "items": list(e.items),
                "outlets": list(e.outlets),
            }
            for e in self.entries
            if (e.lead.item_id, e.rule_id) in message.claims
        ]


def story_vectors(
    db: Database,
    candidates: Sequence[Candidate],
    told: Sequence[tuple[StoryKey, int]] = (),
    *,
    keep: bool = False,
) -> dict[str, Any] | None:
    """Embeddings of the candidates' and told stories' items; None without the encoder."""
    titles = {c.item_id: c.title for c in candidates}
    titles.update((key.id, key.title) for key, _ in told)
    return ensure(db, list(titles.items()), keep=keep)


def digest_rules(spec: DigestSpec, rules: Sequence[Rule]) -> list[Rule]:
    """The digest's rules in the order monitor.yaml lists them (every rule when it lists none)."""
    if not spec.rules:
        return list(rules)
    by_id = {r.id: r for r in rules}
    return [by_id[rule_id] for rule_id in spec.rules if rule_id in by_id]


def threaded(spec: DigestSpec, destination: str) -> bool:
    """Thread unless the digest says ``layout: single`` or a webhook posts it (a webhook
    gives no ts to reply under)."""
    return destination != "webhook" and spec.layout != "single"


def draft_digest(
    db: Database,
    settings: Settings,
    rules: Sequence[Rule],
    *,
    name: str | None = None,
    since: timedelta | None = None,
    now: datetime | None = None,
    destination: str = "slack",
    keep: bool = False,
) -> DigestDraft:
    """Render the digest from the matches it has not delivered yet. Reads only, except
    that ``keep`` stores the item vectors it had to compute (monitor.embed).
    ``destination`` (a deliverer's name) decides the layout with the digest's ``layout``."""
    now = now or utcnow()
    spec = settings.digest(name)
    chosen = digest_rules(spec, rules)
    lower = now - since if since else None
    found = ledger.candidates(
        db, kind="digest", name=spec.name, rule_ids=[r.id for r in chosen], since=lower
    )
    muted = hidden_items(db, (c.item_id for c in found), now)  # feeds muted from Slack
    found = [c for c in found if c.item_id not in muted]
    start = lower or ledger.last_period_end(db, "digest", spec.name)
    if start is None:
        start = min((c.published for c in found), default=now - timedelta(days=1))
    usable = eligible(found, chosen, min_score=spec.min_score)
    told = ledger.told_stories(db, kind="digest", name=spec.name, since=now - WINDOW)
    vectors = story_vectors(db, usable, told, keep=keep)
    usable = with_feedback(db, usable, vectors, keep=keep)
    entries = stories(usable, chosen, vectors)
    fresh, covered = split_covered(entries, told, vectors)
    sections = sections_of(fresh, chosen, channel=spec.channel, max_items=spec.max_items)
    render = render_thread if threaded(spec, destination) else render_digest
    messages = render(
        sections,
        name=spec.name,
        channel=spec.channel,
        start=min(start, now),
        end=now,
        tz=ZoneInfo(settings.timezone),
        rules={r.id: r for r in rules},
        post_when_empty=spec.post_when_empty,
        feedback=feedback_buttons_from_env(),
    )
    return DigestDraft(spec, messages, min(start, now), now, covered, fresh)


def _embed_first(
    db: Database,
    *,
    kind: str,
    name: str,
    rule_ids: Sequence[str],
    since: datetime | None = None,
) -> None:
    """Compute and store missing vectors before the claim's write transaction, so the
    encoder (seconds for hundreds of items) never holds the archive's write lock."""
    found = ledger.candidates(db, kind=kind, name=name, rule_ids=rule_ids, since=since)
    story_vectors(db, found, keep=True)
    if db.conn.in_transaction:
        db.conn.commit()


def send_digest(
    db: Database,
    settings: Settings,
    rules: Sequence[Rule],
    deliverer: Deliverer,
    *,
    name: str | None = None,
    since: timedelta | None = None,
    now: datetime | None = None,
) -> DeliveryReport:
    """Post one digest now: claim its matches with the messages in one transaction, then send."""
    now = now or utcnow()
    spec = settings.digest(name)
    _embed_first(
        db,
        kind="digest",
        name=spec.name,
        rule_ids=[r.id for r in digest_rules(spec, rules)],
        since=now - since if since else None,
    )
    with ledger.claiming(db):
        draft = draft_digest(
            db,
            settings,
            rules,
            name=name,
            since=since,
            now=now,
            destination=deliverer.name,
            keep=True,
        )
        ids = ledger.reserve(
            db,
            kind="digest",
            name=draft.spec.name,
            messages=draft.messages,
            now=now,
            period=(draft.start, draft.end),
        )
        threads.link(db, ids, draft.messages)
        for entry, delivery_id in draft.covered:
            ledger.attach(db, delivery_id, kind="digest", name=draft.spec.name, claims=entry.claims)
    report = flush_pending(db, deliverer, settings)
    report.reserved = len(ids)
    return report


def send_alerts(
    db: Database,
    settings: Settings,
    rules: Sequence[Rule],
    deliverer: Deliverer,
    *,
    now: datetime | None = None,
) -> DeliveryReport:
    """One message per new story matched by an alerting rule (priority high by default)."""
    now = now or utcnow()
    spec = settings.alerts
    chosen = alert_rules(rules, spec.rules) if spec.enabled else []
    messages: list[Message] = []
    if chosen:
        tz = ZoneInfo(settings.timezone)
        by_id = {r.id: r for r in rules}
        _embed_first(
            db, kind="alert", name=ALERTS, rule_ids=[r.id for r in chosen], since=now - spec.max_age
        )
        with ledger.claiming(db):
            found = ledger.candidates(
                db,
                kind="alert",
                name=ALERTS,
                rule_ids=[r.id for r in chosen],
                since=now - spec.max_age,
            )
            told = ledger.told_stories(db, kind="alert", name=ALERTS, since=now - WINDOW)
            usable = eligible(found, chosen)
            vectors = story_vectors(db, usable, told, keep=True)
            usable = with_feedback(db, usable, vectors, keep=True)
            fresh, covered = split_covered(stories(usable, chosen, vectors), told, vectors)
            for entry in fresh:
                channel = by_id[entry.rule_id].channel or spec.channel
                messages.append(
                    render_alert(
                        entry,
                        channel=channel,
                        tz=tz,
                        rules=by_id,
                        feedback=feedback_buttons_from_env(),
                    )
                )
            for entry, delivery_id in covered:
                ledger.attach(db, delivery_id, kind="alert", name=ALERTS, claims=entry.claims)
            ledger.reserve(db, kind="alert", name=ALERTS, messages=messages, now=now)
    report = flush_pending(db, deliverer, settings)
    report.reserved = len(messages)
    return report


def send_ops_alerts(
    db: Database,
    settings: Settings,
    deliverer: Deliverer,
    *,
    now: datetime | None = None,
) -> DeliveryReport:
    """Tell the ops channel once when a feed has failed for ``failing_hours``, once on recovery."""
    now = now or utcnow()
    spec = settings.ops
    reserved = 0
    if spec.enabled:
        tz = ZoneInfo(settings.timezone)
        threshold = timedelta(hours=spec.failing_hours)
        with ledger.claiming(db):
            for feed in ledger.feed_health(db):
                message = None
                if feed.failing_since and not feed.alerted_since:
                    if now - feed.failing_since >= threshold:
                        message = render_feed_failing(
                            channel=spec.channel,
                            feed_name=feed.name,
                            since=feed.failing_since,
                            error=feed.last_error,
                            failures=feed.failures,
                            tz=tz,
                        )
                        ledger.set_ops_state(db, feed.id, "failing", feed.failing_since, now)
                elif feed.alerted_since and not feed.failing_since:
                    message = render_feed_recovered(
                        channel=spec.channel, feed_name=feed.name, since=feed.alerted_since, tz=tz
                    )
                    ledger.set_ops_state(db, feed.id, "ok", None, now)
                if message:
                    ledger.reserve(db, kind="ops", name=feed.id, messages=[message], now=now)
                    reserved += 1
    report = flush_pending(db, deliverer, settings)
    report.reserved = reserved
    return report


def flush_pending(
    db: Database, deliverer: Deliverer, settings: Settings | None = None
) -> DeliveryReport:
    """Send every pending message, oldest first, and mark each sent once the destination said ok.

    Each row is leased before sending (``ledger.take``), so a `monitor digest` beside a
    running `monitor run` never sends one row twice. What a failure does depends on its kind
    (DeliveryError.kind): a transient one (Slack unreachable, rate limits exhausted) stops
    the flush, keeping order; a setup error holds back that channel's messages (or all, for
    a bad token or webhook), which stay pending for the next run; a message Slack refuses
    for good is set aside as failed with its reason, the ops channel (``settings.ops``) is
    told once, and the flush goes on with the rest.
    """
    report = DeliveryReport()
    blocked: set[str] = set()
    tried: set[int] = set()
    while rows := [r for r in ledger.pending(db) if r.id not in tried]:
        for row in rows:
            tried.add(row.id)
            if row.message.channel in blocked:
                continue
            parent_ts = threads.parent_ts(db, row.id)
            if parent_ts == threads.WAIT:  # its parent is not posted yet: it goes first
                continue
            if not ledger.take(db, row.id, utcnow()):
                continue  # another process is sending it right now
            message = replace(row.message, thread_ts=parent_ts) if parent_ts else row.message
            try:
                result = deliverer.send(message)
            except DeliveryError as exc:
                log.warning("delivery %d (%s %s) failed: %s", row.id, row.kind, row.name, exc)
                report.errors.append(exc)
                if exc.kind == "rejected":
                    _set_aside(db, row, exc, settings)
                    report.failed += 1
                    continue
                ledger.mark_failed(db, row.id, exc.message)
                if exc.kind == "transient" or exc.everywhere:
                    report.pending = len(ledger.pending(db))
                    return report
                blocked.add(row.message.channel)
                continue
            ledger.mark_sent(db, row.id, ts=result.ts, destination=deliverer.name, now=utcnow())
            report.sent += 1
    report.pending = len(ledger.pending(db))
    return report


def _set_aside(
    db: Database, row: ledger.PendingDelivery, exc: DeliveryError, settings: Settings | None
) -> None:
    """Set the row aside and, in the same transaction, queue the one ops report about it.

    A report about an ops message is not sent: the ops channel is where it would go."""
    reason = exc.message
    with ledger.claiming(db):
        backlog.set_aside(db, row.id, reason)
        ops = settings.ops if settings else None
        if not ops or not ops.enabled or row.kind == "ops" or backlog.reported(db, row.id):
            return
        found = backlog.get(db, row.id)
        message = render_set_aside(
            channel=ops.channel,
            delivery_id=row.id,
            what=found.what if found else row.kind,
            target=row.message.channel,
            reason=reason,
        )
        name = backlog.SET_ASIDE_REPORT.format(id=row.id)
        ledger.reserve(db, kind="ops", name=name, messages=[message], now=utcnow())
