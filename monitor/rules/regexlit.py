"""The literals every match of a regular expression contains, read from ``re``'s parser.

``re._parser`` is private: this module is the only user, and any surprise (a new Python
changing its shape) makes ``necessary_literals`` answer None, so the regex simply runs on
every field it is asked about.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

try:
    import re._parser as _re_parser
except ImportError:  # pragma: no cover - moved or renamed in some future Python
    _re_parser = None
_parse: Callable[..., Any] | None = getattr(_re_parser, "parse", None)


def necessary_literals(pattern: str) -> frozenset[str] | None:
    """Strings of which every match of ``pattern`` contains one (case-folded), or None when
    the regex has no such literal (it starts with a class, say). A text containing none of
    them cannot match, which spares running the regex on most items."""
    if _parse is None:
        return None
    try:  # re's own parser (private): if it ever changes shape, the regex just always runs
        found = _necessary(list(_parse(pattern, re.IGNORECASE)))
    except Exception:  # noqa: BLE001 - a private parser: any surprise means "no literals"
        return None
    return frozenset(t.casefold() for t in found) if found else None


def _necessary(items: list[Any]) -> set[str] | None:
    options: list[set[str]] = []  # each alone is necessary; the most selective is kept
    run: list[str] = []

    def flush() -> None:
        if run:
            options.append({"".join(run)})
            run.clear()

    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            run.append(chr(av))
            continue
        if name in ("ASSERT", "ASSERT_NOT", "AT"):
            continue  # zero width: the literals on either side stay adjacent
        flush()
        sub: set[str] | None = None
        if name == "SUBPATTERN":
            sub = _necessary(list(av[3]))
        elif name == "BRANCH":
            branches = [_necessary(list(b)) for b in av[1]]
            if all(branches):
                sub = set().union(*branches)  # type: ignore[arg-type]
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] >= 1:
            sub = _necessary(list(av[2]))
        if sub:
            options.append(sub)
    flush()
    if not options:
        return None
    return max(options, key=lambda o: min(len(t) for t in o))
