"""Which rules could match a text: literal sub-patterns found in one scan, then each rule's
boolean combination of them (an AND of ORs) decided for all rules at once on bit masks.

A measured design, not a part of the monitor: bench/presearch.py puts it in front of the
matcher and shows it does not pay (docs/performance.md, "Matching: hyperscan and mypyc").
It is kept, tested (tests/test_bench_presearch_layer.py), so the measurement can be rerun.

The layer knows nothing of the query language: the caller gives the literals (as they
appear in the text it will scan: " miner " in spaced words, 日韓 in folded text), the
channel each belongs to (the text variant it is looked for in), and per rule the clauses
(sets of literal indexes) that must all be met. A rule without clauses is always reported.
The answer is a superset of the rules that match, never less: the caller evaluates each
reported rule in full (NOT, NEAR, ATLEAST, case, fields, hits and scores).

Two engines find the literals, with the same answer: hyperscan (a compiled literal
matcher, about twice the speed of the automaton on the bench items) and ahocorasick_rs
(what the monitor uses). hyperscan's own logical combinations (HS_FLAG_COMBINATION) lost by
far at this size, so the combination is decided here, in bit masks, not in hyperscan.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from typing import Any

import ahocorasick_rs

hyperscan: Any
try:  # the fast path; without it the automaton below gives the same answers
    import hyperscan
except ImportError:  # tests/test_bench_presearch_layer.py runs this module without it too
    hyperscan = None

ENGINES = ("hyperscan", "python")
Clauses = Sequence[Set[int]]  # one rule: every set needs one of its literals found


def available_engines() -> tuple[str, ...]:
    return ENGINES if hyperscan is not None else ("python",)


def default_engine() -> str:
    return available_engines()[0]


def _escape(literal: str) -> bytes:
    """A literal as a hyperscan pattern: letters and digits as they are, every other byte
    as \\xHH (so no character is read as regex syntax)."""
    out = bytearray()
    for byte in literal.encode("utf-8"):
        if 48 <= byte <= 57 or 65 <= byte <= 90 or 97 <= byte <= 122:
            out.append(byte)
        else:
            out += b"\\x%02x" % byte
    return bytes(out)


def _bits(positions: Sequence[int], size: int) -> int:
    buf = bytearray((size + 7) // 8)
    for bit in positions:
        buf[bit >> 3] |= 1 << (bit & 7)
    return int.from_bytes(buf, "little")


class _Channel:
    """The literals looked for in one text variant, and the engine that finds them."""

    def __init__(self, literals: list[tuple[int, str]], engine: str) -> None:
        self.engine = engine
        self.index = [i for i, _ in literals]  # pattern number -> literal index
        texts = [text for _, text in literals]
        self._hs: Any = None
        self._ac: Any = None
        if not texts:
            return
        if engine == "hyperscan":
            db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            db.compile(
                expressions=[_escape(t) for t in texts],
                ids=list(range(len(texts))),
                elements=len(texts),
                # one report per literal: presence is all that is asked
                flags=[hyperscan.HS_FLAG_SINGLEMATCH] * len(texts),
            )
            self._hs = db
            self._scratch = hyperscan.Scratch(db)
        else:
            self._ac = ahocorasick_rs.AhoCorasick(texts)

    def found(self, text: str) -> list[int]:
        """Pattern numbers of the literals that occur in ``text`` (each at least once)."""
        if self._hs is not None:
            out: list[int] = []
            self._hs.scan(
                text.encode("utf-8"),
                match_event_handler=_collect,
                context=out,
                scratch=self._scratch,
            )
            return out
        if self._ac is not None:
            return [p for p, _, _ in self._ac.find_matches_as_indexes(text, overlapping=True)]
        return []


def _collect(pid: int, start: int, end: int, flags: int, out: list[int]) -> None:
    out.append(pid)


class Presearch:
    """Literals in channels, clauses per rule. ``rules_in(texts)`` with one text per
    channel gives the indexes of the rules whose clauses are all met, ascending."""

    def __init__(
        self,
        literals: Sequence[tuple[int, str]],
        rules: Sequence[Clauses],
        engine: str | None = None,
    ) -> None:
        engine = engine or default_engine()
        if engine not in available_engines():
            raise ValueError(f"presearch engine {engine!r} is not available here")
        self.engine = engine
        channels = 1 + max((c for c, _ in literals), default=0)
        per_channel: list[list[tuple[int, str]]] = [[] for _ in range(channels)]
        for i, (channel, text) in enumerate(literals):
            if text:
                per_channel[channel].append((i, text))
        self.channels = [_Channel(lits, engine) for lits in per_channel]
        # Bit r * width + j stands for clause j of rule r; a literal sets the bits of every
        # clause it is in. A rule is reported when all its width bits are set; the bits of
        # the clauses it does not have are set from the start.
        width = 1
        while width < max((len(c) for c in rules), default=1):
            width *= 2
        self.width = width
        size = len(rules) * width
        by_literal: dict[int, list[int]] = {}
        free: list[int] = []
        for r, clauses in enumerate(rules):
            free.extend(r * width + j for j in range(len(clauses), width))
            for j, clause in enumerate(clauses):
                for lit in clause:
                    by_literal.setdefault(lit, []).append(r * width + j)
        self._masks = [
            [(by_literal.get(i) and _bits(by_literal[i], size)) or 0 for i in ch.index]
            for ch in self.channels
        ]
        self._free = _bits(free, size)
        self._first = _bits(range(0, size, width), size)

    def rules_in(self, texts: Sequence[str | None]) -> list[int]:
        """``texts[c]`` is scanned for channel c's literals (None: nothing there)."""
        met = self._free
        for channel, masks, text in zip(self.channels, self._masks, texts, strict=False):
            if text:
                for pid in channel.found(text):
                    met |= masks[pid]
        shift = 1
        while shift < self.width:  # fold each rule's bits onto its first: all set?
            met &= met >> shift
            shift *= 2
        met &= self._first
        out = []
        width = self.width
        while met:
            low = met & -met
            out.append((low.bit_length() - 1) // width)
            met ^= low
        return out
