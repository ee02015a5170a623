"""What the Slack app does with a command or a click, on the archive and the rules: the same
library functions as the CLI (search, explain, feed health), never the CLI itself.

Each call opens its own connection: Bolt runs listeners on a thread pool, and SQLite
connections belong to the thread that made them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from monitor.archive_search import make_filters, run_search
from monitor.errors import ConfigError, MonitorError, QueryError
from monitor.slackapp import replies
from monitor.slackapp.commands import DEFAULT_MUTE, DEFAULT_SINCE, HELP, CommandError, parse
from monitor.store import feedback as store
from monitor.store.db import open_db, utcnow
from monitor.store.writer import Database

log = logging.getLogger(__name__)

LABEL_OF = {
    "feedback:relevant": "relevant",
    "feedback:not_relevant": "not_relevant",
    "feedback:mute_source": "mute_source",
}
MAX_VALUE = 500  # characters of a button value we read


@dataclass(frozen=True)
class Paths:
    db: Path
    rules: Path
    feeds: Path


@dataclass(frozen=True)
class ClickOutcome:
    stored: bool  # False: the same click came before (a redelivered envelope)
    label: str = ""
    problem: str | None = None  # set when the click was refused; nothing was stored
    muted_feed: str | None = None


class Workbench:
    def __init__(self, paths: Paths, now: Callable[[], datetime] = utcnow) -> None:
        self.paths = paths
        self.now = now

    def _db(self) -> Database:
        return open_db(self.paths.db)

    # --- /monitor --------------------------------------------------------------------------

    def answer(self, text: str, *, user_id: str = "", user_name: str = "") -> str:
        """The reply to `/monitor TEXT`; never raises for bad input (it answers with why)."""
        try:
            command = parse(text)
        except CommandError as exc:
            return replies.problem(str(exc))
        try:
            if command.name == "help":
                return HELP
            if command.name == "search":
                return self._search(command.query, command.rules, command.since)
            if command.name == "explain":
                return self._explain(*command.args)
            if command.name == "rules":
                return self._rules()
            if command.name == "status":
                return self._status()
            if command.name == "mute":
                return self._mute(
                    command.args[0], command.duration or DEFAULT_MUTE, user_id, user_name
                )
            return self._unmute(command.args[0])
        except QueryError as exc:
            return replies.query_error(exc)
        except ConfigError as exc:  # a broken rules or feeds file: say which line
            lines = [p.format() for p in exc.problems[:10]]
            return replies.problem("the configuration has problems:\n" + "\n".join(lines))
        except MonitorError as exc:
            return replies.problem(exc.message, exc.hint)

    def _search(self, query: str, rules: tuple[str, ...], since: timedelta | None) -> str:
        db = self._db()
        try:
            filters = make_filters(
                db, self.paths.rules, since=self.now() - since if since else None, rules=rules
            )
            found = run_search(db, query, self.paths.rules, filters, limit=replies.SEARCH_LIMIT + 1)
        finally:
            db.close()
        more = len(found) > replies.SEARCH_LIMIT
        return replies.search_results(query, found[: replies.SEARCH_LIMIT], more=more)

    def _explain(self, item_id: str, rule_id: str) -> str:
        from monitor.config.rules import load_rules
        from monitor.rules.explain import explain_rule
        from monitor.store.archive import find_item
        from monitor.store.matches import feed_from_row, item_with_feed

        book = load_rules(self.paths.rules)
        rule = book.get(rule_id)
        db = self._db()
        try:
            found = item_with_feed(db, str(find_item(db, item_id).item["id"]))
        finally:
            db.close()
        assert found is not None  # find_item raised otherwise
        item, row = found
        result = explain_rule(book.matcher, rule.id, item, feed_from_row(row))
        o = result.outcome
        return replies.explanation(
            rule.id,
            item.id,
            item.title,
            o.matched,
            o.score,
            result.reasons,
            result.query,
            result.exclude,
        )

    def _rules(self) -> str:
        from monitor.config.rules import load_rules
        from monitor.store.matches import match_counts

        book = load_rules(self.paths.rules)
        db = self._db()
        try:
            counts = match_counts(db, self.now() - DEFAULT_SINCE)
            precision = store.precision_by_rule(db)
        finally:
            db.close()
        rows = [
            (r.id, r.name or "", counts.get(r.id, 0), *precision.get(r.id, (0, 0)))
            for r in book.rules
        ]
        return replies.rules_table(rows)

    def _status(self) -> str:
        from monitor.config.feeds import load_feeds
        from monitor.feed_health import feed_health

        config = load_feeds(self.paths.feeds)
        db = self._db()
        now = self.now()
        try:
            health, _ = feed_health(db, config, now)
        finally:
            db.close()
        failing = [
            (h.id, (h.state.last_error or "") if h.state else "")
            for h in health
            if h.status == "failing"
        ]
        disabled = [
            (h.id, (h.state.disabled_reason or "") if h.state else "")
            for h in health
            if h.status == "disabled"
        ]
        muted = [(h.id, h.muted_until, h.muted_by) for h in health if h.muted_until]
        return replies.status(failing, muted, disabled, len(health))

    def _known_feed(self, db: Database, feed_id: str) -> None:
        from monitor.store.archive import check_known, feed_ids

        check_known("feed", [feed_id], feed_ids(db))

    def _mute(self, feed_id: str, duration: timedelta, user_id: str, user_name: str) -> str:
        db = self._db()
        now = self.now()
        try:
            self._known_feed(db, feed_id)
            store.mute_feed(
                db, feed_id, since=now, until=now + duration, user_id=user_id, user_name=user_name
            )
        finally:
            db.close()
        until = now + duration
        return (
            f"Muted `{feed_id}` until {until:%Y-%m-%d %H:%M} UTC: its items stay out of digests. "
            f"`/monitor unmute {feed_id}` ends it."
        )

    def _unmute(self, feed_id: str) -> str:
        db = self._db()
        try:
            self._known_feed(db, feed_id)
            ended = store.unmute_feed(db, feed_id, self.now())
        finally:
            db.close()
        if not ended:
            return f"`{feed_id}` was not muted."
        return f"Unmuted `{feed_id}`: its new items go to digests again."

    # --- buttons ---------------------------------------------------------------------------

    def click(
        self,
        *,
        action_id: str,
        value: str,
        user_id: str,
        user_name: str,
        team_id: str,
        action_ts: str,
        channel: str | None,
        message_ts: str | None,
    ) -> ClickOutcome:
        """Store one feedback click once; a value naming nothing in the archive is refused."""
        label = LABEL_OF.get(action_id)
        if label is None:
            return ClickOutcome(False, problem=f"unknown action {action_id[:60]!r}")
        item_id, rule_id = _value(value)
        if item_id is None or rule_id is None:
            return ClickOutcome(False, label, problem="this button carries no valid item and rule")
        db = self._db()
        try:
            if not store.match_exists(db, item_id, rule_id):
                return ClickOutcome(
                    False, label, problem="this button names an item the archive does not have"
                )
            now = self.now()
            key = f"{team_id}:{user_id}:{action_id}:{value}:{action_ts}"
            click = store.Click(
                item_id, rule_id, label, user_id, user_name, team_id, key, channel, message_ts
            )
            stored = store.record_click(db, click, now)
            muted = None
            if stored and label == "mute_source":
                muted = store.feed_of(db, item_id)
                if muted:
                    store.mute_feed(
                        db,
                        muted,
                        since=now,
                        until=now + DEFAULT_MUTE,
                        user_id=user_id,
                        user_name=user_name,
                        reason=f"button on {item_id}",
                    )
        finally:
            db.close()
        return ClickOutcome(stored, label, muted_feed=muted)


def _value(value: str) -> tuple[str | None, str | None]:
    if not isinstance(value, str) or len(value) > MAX_VALUE:
        return None, None
    try:
        data = json.loads(value)
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    item, rule = data.get("item"), data.get("rule")
    if not isinstance(item, str) or not isinstance(rule, str) or not item or not rule:
        return None, None
    return item[:200], rule[:200]
