"""The closest known name to a mistyped one, for "did you mean …?" hints. Standard library only.

A name is a candidate when difflib finds it similar enough (ratio ≥ 0.6, the threshold every
hint has used), so the same typos get a hint as before. Among candidates the nearest by
Levenshtein distance wins: difflib's ratio favours long shared runs, so ``@minerls`` was
closer to ``@mineral-signals`` than to ``@minerals``, one deleted letter away. Ties go to the
higher ratio, then to the alphabetically first name, so a hint never depends on input order.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

CUTOFF = 0.6


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: the fewest insertions, deletions and substitutions from a to b."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The known name nearest to ``word``, or None when none is similar enough."""
    scored = []
    for choice in set(choices):
        ratio = difflib.SequenceMatcher(None, word, choice).ratio()
        if ratio >= CUTOFF:
            scored.append((edit_distance(word, choice), -ratio, choice))
    return min(scored)[2] if scored else None
