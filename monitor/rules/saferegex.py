"""Rule regexes run with a time limit, so no pattern and no item text can hang the monitor.

Python's ``re`` backtracks without bound and, being C code holding the GIL, cannot be
interrupted: ``/(a|aa)+$/`` on a 39-character title runs for hours and even SIGTERM waits.
The ``regex`` module is a drop-in for ``re`` (its VERSION0 is ``re``'s syntax and meaning:
lookbehinds, scoped flags ``(?-i:…)``, ``\\b`` on Unicode words, all of which the shipped
pack uses, and which RE2 lacks) and takes a ``timeout`` per call.

A search that times out raises RegexTimeoutError; the matcher logs it once per rule and counts the
item as not matched by that rule. After ``GIVE_UP_AFTER`` timeouts a pattern is given up on
for the rest of the process (every further call raises at once): a pattern that is slow on
one title is usually slow on many, and time per item must stay bounded.
"""

from __future__ import annotations

import re
import re._parser as re_parser
import warnings
from collections.abc import Iterator
from typing import Any

import regex

from monitor.errors import MonitorError

SEARCH_TIMEOUT = 0.25  # seconds per search of one field; a sane rule regex takes microseconds
GIVE_UP_AFTER = 3


class RegexTimeoutError(MonitorError):
    """A rule regex took longer than SEARCH_TIMEOUT on some text (or was given up on)."""

    def __init__(self, pattern: str, given_up: bool) -> None:
        what = "was given up on after repeated time-outs" if given_up else "timed out"
        super().__init__(
            f"the regular expression /{pattern}/ {what} (limit {SEARCH_TIMEOUT:g} s per field)",
            "rewrite it without nested repeats such as (a+)+ or (a|aa)+, or use words instead",
        )
        self.pattern = pattern
        self.given_up = given_up


class SafeRegex:
    """A compiled, case-insensitive rule regex whose every call is time-limited."""

    __slots__ = ("_rx", "pattern", "timeouts")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        re.compile(pattern, re.IGNORECASE)  # the parser validated it with re: same errors
        self._rx: Any = regex.compile(pattern, regex.IGNORECASE | regex.VERSION0)
        self.timeouts = 0

    def _check(self) -> None:
        if self.timeouts >= GIVE_UP_AFTER:
            raise RegexTimeoutError(self.pattern, given_up=True)

    def search(self, text: str) -> Any:
        self._check()
        try:
            return self._rx.search(text, timeout=SEARCH_TIMEOUT)
        except TimeoutError:
            self.timeouts += 1
            raise RegexTimeoutError(self.pattern, given_up=False) from None

    def finditer(self, text: str) -> Iterator[Any]:
        """Every match, as a list made up front: the time limit covers the whole scan."""
        self._check()
        try:
            return iter(list(self._rx.finditer(text, timeout=SEARCH_TIMEOUT)))
        except TimeoutError:
            self.timeouts += 1
            raise RegexTimeoutError(self.pattern, given_up=False) from None


def engine_problem(pattern: str) -> str | None:
    """Why the time-limited engine would not read ``pattern`` exactly as ``re`` does (the
    parser has already compiled it with re), or None. ``re`` warns about a ``[`` or a set
    operator (``--``, ``&&``, ``~~``, ``||``) inside ``[...]``, which ``regex`` reads as a
    nested set or POSIX class (``[[:alpha:]]``): refused, so the meaning cannot change."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        try:  # the parser, not re.compile, whose cache would not warn a second time
            re_parser.parse(pattern, re.IGNORECASE)
        except FutureWarning:
            return "a [ or a set operator (--, &&, ~~, ||) inside [...] is ambiguous"
        except re.error:
            return None  # reported by the parser with its column
    try:
        regex.compile(pattern, regex.IGNORECASE | regex.VERSION0)
    except regex.error as exc:
        return f"the time-limited regex engine cannot read it ({exc})"
    return None


def nested_repeat(pattern: str) -> bool:
    """Whether ``pattern`` repeats something that is itself an unbounded repeat with nothing
    required beside it: ``(a+)+``, ``(a*)*``, ``(\\w+\\s?)+``. Such a pattern can match one
    text in exponentially many ways; ``rules check`` refuses it (the time limit covers the
    shapes this misses, such as ``(a|aa)+``). ``(\\d+,)+`` is fine: the comma pins each round."""
    try:  # re's own parser (private, as in compile.necessary_literals)
        items = list(re_parser.parse(pattern, re.IGNORECASE))
    except Exception:  # noqa: BLE001 - an unknown shape is left to the time limit
        return False
    return _has_nested(items)


def _has_nested(items: list[Any]) -> bool:
    for op, av in items:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            _low, high, body = av
            body = list(body)
            if name != "POSSESSIVE_REPEAT" and high > 1 and _loose_unbounded(body):
                return True
            if _has_nested(body):
                return True
        elif name == "SUBPATTERN":
            if _has_nested(list(av[3])):
                return True
        elif name == "BRANCH":
            if any(_has_nested(list(b)) for b in av[1]):
                return True
        elif name in ("ASSERT", "ASSERT_NOT") and _has_nested(list(av[1])):
            return True
    return False


def _loose_unbounded(body: list[Any]) -> bool:
    """An unbounded repeat in ``body`` (through groups) while all else in it may be empty."""
    while len(body) == 1 and str(body[0][0]) == "SUBPATTERN":
        body = list(body[0][1][3])
    repeats = [
        i
        for i, (op, av) in enumerate(body)
        if str(op) in ("MAX_REPEAT", "MIN_REPEAT") and av[1] == re_parser.MAXREPEAT
    ]
    if not repeats:
        return False
    rest = [item for i, item in enumerate(body) if i not in repeats]
    return all(re_parser.SubPattern(re_parser.State(), [item]).getwidth()[0] == 0 for item in rest)
