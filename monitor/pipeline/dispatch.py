"""Delivery for `monitor run`: the digest and alert jobs call a ``Dispatcher``.

Each step (monitor.pipeline.outbox, monitor.pipeline.spikes) runs in a worker thread with
its own connection, with the rules in force when it starts.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from monitor.config.settings import Settings
from monitor.deliver.base import Deliverer
from monitor.model import Rule
from monitor.pipeline.outbox import DeliveryReport, send_alerts, send_digest, send_ops_alerts
from monitor.pipeline.rules import Rules
from monitor.pipeline.spikes import send_spikes
from monitor.store.db import open_db

log = logging.getLogger("monitor.pipeline")  # the name `monitor run` has always logged as


class Dispatcher:
    """Runs the delivery steps for `monitor run`, each in a worker thread with its own
    connection (SQLite connections are bound to their thread), with the rules in force."""

    def __init__(
        self, db_path: str | Path, settings: Settings, rules: Rules | None, deliverer: Deliverer
    ) -> None:
        self.db_path = db_path
        self.settings = settings
        self.rules = rules
        self.deliverer = deliverer

    def _rules(self) -> list[Rule]:
        book = self.rules.book if self.rules is not None else None
        return list(getattr(book, "rules", ()))

    def _run_digest(self, name: str) -> DeliveryReport:
        db = open_db(self.db_path)
        try:
            return send_digest(db, self.settings, self._rules(), self.deliverer, name=name)
        finally:
            db.close()

    def _run_alerts(self) -> DeliveryReport:
        db = open_db(self.db_path)
        try:
            report = send_alerts(db, self.settings, self._rules(), self.deliverer)
            report.merge(send_ops_alerts(db, self.settings, self.deliverer))
            report.merge(send_spikes(db, self.settings, self._rules(), self.deliverer))
            return report
        finally:
            db.close()

    async def digest(self, name: str) -> DeliveryReport:
        report = await asyncio.to_thread(self._run_digest, name)
        _log_report(f"digest {name}", report)
        return report

    async def alerts(self) -> DeliveryReport:
        report = await asyncio.to_thread(self._run_alerts)
        _log_report("alerts", report)
        return report


def _log_report(what: str, report: DeliveryReport) -> None:
    if report.reserved or report.sent:
        log.info("%s: %d new messages, %d sent", what, report.reserved, report.sent)
    for error in report.errors:
        log.warning("%s: %s (%d pending)", what, error, report.pending)
