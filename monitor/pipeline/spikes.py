"""Spike alerts: one message to the alerts channel when a rule runs hot (monitor.digest.spikes).

At most one per rule per day (the day in the settings timezone): the delivery ledger names
the message ``RULE@YYYY-MM-DD``, and a name already in the ledger is not posted again, even
across restarts. Runs with the alert check in `monitor run`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from monitor.config.settings import Settings
from monitor.deliver.base import Deliverer
from monitor.digest.spikes import render_spike
from monitor.model import Rule
from monitor.pipeline.outbox import DeliveryReport, flush_pending
from monitor.store import deliveries as ledger
from monitor.store.db import utcnow
from monitor.store.volumes import spike_told, top_items, volumes
from monitor.store.writer import Database


def send_spikes(
    db: Database,
    settings: Settings,
    rules: Sequence[Rule],
    deliverer: Deliverer,
    *,
    now: datetime | None = None,
) -> DeliveryReport:
    """Reserve and send a message for each rule over the spike threshold, once a day."""
    spec = settings.spikes
    if not spec.enabled or not rules:
        return DeliveryReport()
    now = now or utcnow()
    day = now.astimezone(ZoneInfo(settings.timezone)).date().isoformat()
    reserved = 0
    with ledger.claiming(db):
        found = volumes(db, [r.id for r in rules], now)
        for rule in rules:
            volume = found[rule.id]
            name = f"{rule.id}@{day}"
            if not volume.is_spike(factor=spec.factor, minimum=spec.minimum):
                continue
            if spike_told(db, name):
                continue
            message = render_spike(
                volume,
                name=rule.id,
                top=top_items(db, rule.id, now),
                channel=spec.channel,
            )
            ledger.reserve(db, kind="spike", name=name, messages=[message], now=now)
            reserved += 1
    report = flush_pending(db, deliverer)
    report.reserved = reserved
    return report
