"""monitor.yaml: timezone, digests, alerts, spikes and the ops channel; Slack secrets from the environment.

Every problem is collected and reported as ``FILE:LINE: message (hint)``; a missing file
means the defaults (one daily digest of every rule at 08:00, printed to the terminal when
no Slack credentials are set).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from monitor.config.cron import cron_problem
from monitor.config.yamlsrc import (
    LineDict,
    LineList,
    ProblemCollector,
    did_you_mean,
    load_yaml_file,
)
from monitor.durations import parse_duration
from monitor.errors import ConfigError, Problem

DEFAULT_SCHEDULE = "0 8 * * *"
DEFAULT_CHANNEL = "#monitor"


@dataclass(frozen=True)
class DigestSpec:
    name: str
    schedule: str = DEFAULT_SCHEDULE  # five-field crontab, in Settings.timezone
    channel: str = DEFAULT_CHANNEL
    rules: tuple[str, ...] = ()  # empty: every rule
    max_items: int = 10  # per rule; the rest are counted, never dropped silently
    min_score: float = 0.0
    post_when_empty: bool = False
    rules_line: int = 0  # where `rules` was written, for problems found later
    # "thread": a parent message and one reply per rule (needs a bot token); "single": flat
    # messages. None: thread with a bot token, single with a webhook.
    layout: str | None = None


@dataclass(frozen=True)
class AlertSpec:
    enabled: bool = True
    channel: str = DEFAULT_CHANNEL
    rules: tuple[str, ...] | None = None  # None: every rule with priority high
    max_age: timedelta = timedelta(hours=24)  # older items go to digests only, not alerts
    check_every: int = 60  # seconds between alert checks in `monitor run`
    rules_line: int = 0


@dataclass(frozen=True)
class OpsSpec:
    enabled: bool = False
    channel: str = DEFAULT_CHANNEL
    failing_hours: float = 6.0  # a feed failing this long gets one message, and one on recovery


@dataclass(frozen=True)
class SpikeSpec:
    """`spikes:` — a message when a rule's last 24 h run far above its usual day."""

    enabled: bool = False  # off unless monitor.yaml has a `spikes:` section
    channel: str = DEFAULT_CHANNEL  # default: the alerts channel
    factor: float = 3.0  # at least this many times the usual day (median of 14 days)
    minimum: int = 10  # and at least this many items: a quiet rule does not spike on two


@dataclass(frozen=True)
class Settings:
    timezone: str = "UTC"
    digests: tuple[DigestSpec, ...] = (DigestSpec(name="daily"),)
    alerts: AlertSpec = field(default_factory=AlertSpec)
    ops: OpsSpec = field(default_factory=OpsSpec)
    path: str = ""  # "" when built from defaults
    spikes: SpikeSpec = field(default_factory=SpikeSpec)  # "" when built from defaults

    def digest(self, name: str | None) -> DigestSpec:
        """The digest called ``name`` (the first one when None); ConfigError if unknown."""
        if name is None:
            return self.digests[0]
        for spec in self.digests:
            if spec.name == name:
                return spec
        known = ", ".join(d.name for d in self.digests)
        raise ConfigError(
            [
                Problem(
                    self.path or "monitor.yaml", 0, f"no digest named {name!r}", f"known: {known}"
                )
            ]
        )


@dataclass(frozen=True)
class SlackCredentials:
    """Where Slack messages go. A bot token wins over a webhook (it returns ts, allows threads)."""

    token: str | None = None
    webhook_url: str | None = None
    api_url: str | None = None  # Web API base, e.g. a test server; None: https://slack.com/api/

    @property
    def kind(self) -> str:
        return "web" if self.token else "webhook"

    def __repr__(self) -> str:  # never show a secret in logs or tracebacks
        return f"SlackCredentials(kind={self.kind!r}, api_url={self.api_url!r})"


def feedback_buttons_from_env(env: Mapping[str, str] | None = None) -> bool:
    """Whether digests and alerts carry feedback buttons: only when the Slack app can answer
    them (a bot token to post and update, an app-level token for `monitor slack`)."""
    env = os.environ if env is None else env
    return bool(env.get("SLACK_BOT_TOKEN", "").strip() and env.get("SLACK_APP_TOKEN", "").strip())


def slack_credentials_from_env(env: Mapping[str, str] | None = None) -> SlackCredentials | None:
    """SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL (and SLACK_API_URL); None when neither is set."""
    env = os.environ if env is None else env
    token = env.get("SLACK_BOT_TOKEN", "").strip() or None
    webhook = env.get("SLACK_WEBHOOK_URL", "").strip() or None
    if not token and not webhook:
        return None
    api_url = env.get("SLACK_API_URL", "").strip() or None
    if api_url and not api_url.endswith("/"):
        api_url += "/"
    return SlackCredentials(token=token, webhook_url=webhook, api_url=api_url)


# --- loading -------------------------------------------------------------------------------

_TOP_KEYS = ("timezone", "digests", "alerts", "ops", "spikes")
_DIGEST_KEYS = (
    "name",
    "schedule",
    "channel",
    "rules",
    "max_items",
    "min_score",
    "post_when_empty",
    "layout",
)
_ALERT_KEYS = ("enabled", "channel", "rules", "max_age", "check_every")
_OPS_KEYS = ("enabled", "channel", "failing_hours")
_SPIKE_KEYS = ("enabled", "channel", "factor", "minimum")


class _Collector(ProblemCollector):
    """Reads typed values out of a LineDict, recording a problem (with line) for each bad one."""

    def mapping(self, value: Any, line: int, where: str) -> LineDict | None:
        if isinstance(value, LineDict):
            return value
        self.add(line, f"{where} must be a mapping of keys to values")
        return None

    def text(self, d: LineDict, key: str, default: str) -> str:
        value = d.get(key, default)
        if not isinstance(value, str) or not value.strip():
            self.add(d.line_of(key), f"{key} must be non-empty text")
            return default
        return value.strip()

    def boolean(self, d: LineDict, key: str, default: bool) -> bool:
        value = d.get(key, default)
        if not isinstance(value, bool):
            self.add(d.line_of(key), f"{key} must be true or false, not {value!r}")
            return default
        return value

    def number(self, d: LineDict, key: str, default: float, *, minimum: float) -> float:
        value = d.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
            self.add(d.line_of(key), f"{key} must be a number ≥ {minimum:g}, not {value!r}")
            return default
        return float(value)

    def channel(self, d: LineDict, key: str, default: str) -> str:
        value = self.text(d, key, default)
        if " " in value:
            self.add(
                d.line_of(key),
                f"channel {value!r} contains a space",
                "use a channel name like #jkus-watch or an id like C0123456789",
            )
        return value

    def rule_ids(self, d: LineDict, key: str) -> tuple[str, ...] | None:
        if key not in d:
            return None
        value = d[key]
        if not isinstance(value, LineList) or not all(isinstance(v, str) for v in value):
            self.add(d.line_of(key), f"{key} must be a list of rule ids", "e.g. [jkus-trilateral]")
            return None
        return tuple(value)


def load_settings(path: Path) -> Settings:
    """Read monitor.yaml; a missing file gives the defaults. Raises ConfigError with every problem."""
    if not path.exists():
        return Settings()
    data = load_yaml_file(path)
    filename = str(path)
    c = _Collector(filename)
    if data is None:
        return Settings(path=filename)
    top = c.mapping(data, 1, "monitor.yaml")
    if top is None:
        raise ConfigError(c.problems)
    c.unknown_keys(top, _TOP_KEYS, "monitor.yaml")

    timezone = c.text(top, "timezone", "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        c.add(
            top.line_of("timezone"),
            f"unknown timezone {timezone!r}",
            did_you_mean(timezone, available_timezones())
            or "use an IANA name such as Australia/Sydney, Asia/Tokyo or UTC",
        )

    digests = _digests(c, top)
    alerts = _alerts(c, top)
    ops = _ops(c, top)
    spikes = _spikes(c, top, alerts)
    if c.problems:
        raise ConfigError(c.problems)
    return Settings(
        timezone=timezone, digests=digests, alerts=alerts, ops=ops, path=filename, spikes=spikes
    )


def _digests(c: _Collector, top: LineDict) -> tuple[DigestSpec, ...]:
    if "digests" not in top:
        return Settings.digests
    raw = top["digests"]
    if not isinstance(raw, LineList) or not raw:
        c.add(top.line_of("digests"), "digests must be a non-empty list", "see docs/delivery.md")
        return ()
    specs: list[DigestSpec] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        d = c.mapping(entry, raw.line_of(i), "each digest")
        if d is None:
            continue
        c.unknown_keys(d, _DIGEST_KEYS, "a digest")
        name = c.text(d, "name", f"digest{i + 1}")
        if name in seen:
            c.add(
                d.line_of("name"),
                f"duplicate digest name {name!r}",
                "give each digest its own name",
            )
        seen.add(name)
        schedule = c.text(d, "schedule", DEFAULT_SCHEDULE)
        problem = cron_problem(schedule)
        if problem:
            c.add(
                d.line_of("schedule"), f"bad schedule {schedule!r}: {problem}", 'e.g. "0 8 * * *"'
            )
        specs.append(
            DigestSpec(
                name=name,
                schedule=schedule,
                channel=c.channel(d, "channel", DEFAULT_CHANNEL),
                rules=c.rule_ids(d, "rules") or (),
                max_items=int(c.number(d, "max_items", 10, minimum=1)),
                min_score=c.number(d, "min_score", 0.0, minimum=0),
                post_when_empty=c.boolean(d, "post_when_empty", False),
                layout=_layout(c, d),
                rules_line=d.line_of("rules"),
            )
        )
    return tuple(specs)


LAYOUTS = ("thread", "single")


def _layout(c: _Collector, d: LineDict) -> str | None:
    if "layout" not in d:
        return None
    value = d["layout"]
    if value not in LAYOUTS:
        c.add(
            d.line_of("layout"),
            f"layout must be thread or single, not {value!r}",
            "thread: one parent message and a reply per rule; single: flat messages",
        )
        return None
    return str(value)


def _alerts(c: _Collector, top: LineDict) -> AlertSpec:
    if "alerts" not in top:
        return AlertSpec()
    d = c.mapping(top["alerts"], top.line_of("alerts"), "alerts")
    if d is None:
        return AlertSpec()
    c.unknown_keys(d, _ALERT_KEYS, "alerts")
    max_age = AlertSpec.max_age
    if "max_age" in d:
        try:
            max_age = parse_duration(d["max_age"])
        except ValueError as exc:
            c.add(d.line_of("max_age"), str(exc))
    return AlertSpec(
        enabled=c.boolean(d, "enabled", True),
        channel=c.channel(d, "channel", DEFAULT_CHANNEL),
        rules=c.rule_ids(d, "rules"),
        max_age=max_age,
        check_every=int(c.number(d, "check_every", 60, minimum=5)),
        rules_line=d.line_of("rules"),
    )


def _ops(c: _Collector, top: LineDict) -> OpsSpec:
    if "ops" not in top:
        return OpsSpec()
    d = c.mapping(top["ops"], top.line_of("ops"), "ops")
    if d is None:
        return OpsSpec()
    c.unknown_keys(d, _OPS_KEYS, "ops")
    return OpsSpec(
        enabled=c.boolean(d, "enabled", True),
        channel=c.channel(d, "channel", DEFAULT_CHANNEL),
        failing_hours=c.number(d, "failing_hours", 6.0, minimum=0.1),
    )


def _spikes(c: _Collector, top: LineDict, alerts: AlertSpec) -> SpikeSpec:
    if "spikes" not in top:
        return SpikeSpec(channel=alerts.channel)
    d = c.mapping(top["spikes"], top.line_of("spikes"), "spikes")
    if d is None:
        return SpikeSpec(channel=alerts.channel)
    c.unknown_keys(d, _SPIKE_KEYS, "spikes")
    return SpikeSpec(
        enabled=c.boolean(d, "enabled", True),
        channel=c.channel(d, "channel", alerts.channel),
        factor=c.number(d, "factor", 3.0, minimum=1),
        minimum=int(c.number(d, "minimum", 10, minimum=1)),
    )


def rule_problems(settings: Settings, known_rule_ids: set[str]) -> list[Problem]:
    """Rule ids named in monitor.yaml that no rule file defines (for `monitor config check`)."""
    problems = []
    named = [(d.rules, f"digest {d.name!r}", d.rules_line) for d in settings.digests]
    named.append((settings.alerts.rules or (), "alerts", settings.alerts.rules_line))
    for ids, where, line in named:
        for rule_id in ids:
            if rule_id not in known_rule_ids:
                hint = did_you_mean(rule_id, known_rule_ids) or "see `monitor rules check`"
                problems.append(
                    Problem(
                        settings.path or "monitor.yaml",
                        line,
                        f"{where} names unknown rule {rule_id!r}",
                        hint,
                    )
                )
    return problems
