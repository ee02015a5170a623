"""Would hyperscan make the matcher faster? Three ways of using it, beside the matcher as it is.

Same items and generated rules as bench/match.py. In one run, per rule count:

- the matcher as shipped (``Matcher.match``), the baseline, timed before and after the
  others (the machine's speed drifts; both figures are printed);
- hyperscan logical combinations: every literal anchor a QUIET sub-pattern, every rule's
  necessary clauses (the AND of ORs the matcher's presearch uses) one HS_FLAG_COMBINATION
  expression, one scan per item: only the scan is timed, and what it reports is checked to
  contain every rule the matcher matches;
- the presearch layer (bench/presearch_layer.py) in front of the matcher: an item none of
  whose rules can match returns at once, the others go through ``Matcher.match``; with
  hyperscan and with ahocorasick_rs finding the literals;
- hyperscan for the positions: every literal of the rules as one pattern over the spaced
  words of the ASCII fields (`` w1 +w2 ``, start of match on), against ``Vocabulary.scan``
  on the same fields, with the positions compared.

    .venv/bin/python bench/presearch.py                 # 2,000 items, 10 and 1,000 rules
    .venv/bin/python bench/presearch.py --items 4000 --rules 10,100,1000

All times are CPU time of this process. docs/performance.md has the figures and the choice.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import match as bench_match  # noqa: E402
from presearch_layer import Presearch, available_engines, hyperscan  # noqa: E402

from monitor.model import Item  # noqa: E402
from monitor.rules.literals import anchor_entry as _entry  # noqa: E402
from monitor.rules.literals import pieces_of  # noqa: E402
from monitor.rules.matcher import CLAUSES, Matcher, _minimal  # noqa: E402
from monitor.rules.text import Analyzed  # noqa: E402


def cpu(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def literals_of(matcher: Matcher) -> tuple[list[tuple[int, str]], list[list[set[int]]]]:
    """The literals the matcher's automata look for, in channels (0: spaced words of a
    field without CJK, 1: folded text of a field with CJK, 2: folded text for the literals
    regexes need), and each rule's necessary clauses over them."""
    vocab = matcher.vocab
    literals: list[tuple[int, str]] = []
    of_key: dict[int, list[int]] = {}
    for key, kid in vocab.ids.items():
        found = _entry(kid, key)
        if found is None:
            continue
        text, latin, entry = found
        ids = []
        if latin:
            ids.append(len(literals))
            literals.append((0, f" {text} " if entry.whole else f" {text}"))
        ids.append(len(literals))
        literals.append((1, text))
        of_key[kid] = ids
    for text, i in vocab.rx_literals.items():
        of_key[-1 - i] = [len(literals)]
        literals.append((2, text))
    rules = [
        [
            {lit for kid in ids for lit in of_key.get(kid, ())}
            for ids, _ in _minimal(c.query.required_ids())[:CLAUSES]
        ]
        for c in matcher.compiled
    ]
    return literals, rules


def texts_of(item: Item, with_rx: bool) -> list[str | None]:
    fields = (Analyzed(item.title), Analyzed(item.summary))
    spaced = "\n".join(f.spaced for f in fields if f.spaced is not None)
    folded = "\n".join(f.folded for f in fields if f.spaced is None)
    rx = "\n".join(f.folded for f in fields) if with_rx else None
    return [spaced, folded, rx]


def combination_scan(
    matcher: Matcher,
    literals: list[tuple[int, str]],
    rules: list[list[set[int]]],
    items: list[Item],
) -> tuple[float, float, float, int]:
    """hyperscan with HS_FLAG_COMBINATION: compile s, scan µs/item, rules reported per item,
    rules the matcher matched that it did not report (must be 0)."""
    from presearch_layer import _escape

    # One text per item: the channels cannot be told apart inside one combination, so every
    # literal is looked for everywhere (a superset, as a presearch may be).
    n = len(literals)
    exprs = [_escape(text) for _, text in literals]
    flags = [hyperscan.HS_FLAG_QUIET] * n
    ids = list(range(n))
    always = []
    for r, clauses in enumerate(rules):
        if not clauses or not all(clauses):
            always.append(r)
            continue
        exprs.append("&".join("(" + "|".join(map(str, sorted(c))) + ")" for c in clauses).encode())
        flags.append(hyperscan.HS_FLAG_COMBINATION | hyperscan.HS_FLAG_SINGLEMATCH)
        ids.append(n + r)
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    start = time.process_time()
    db.compile(expressions=exprs, ids=ids, elements=len(exprs), flags=flags)
    compile_s = time.process_time() - start
    scratch = hyperscan.Scratch(db)
    texts = ["\n".join(t for t in texts_of(item, True) if t).encode("utf-8") for item in items]
    reported: list[list[int]] = []

    def report(pid: int, a: int, b: int, f: int, out: list[int]) -> None:
        out.append(pid - n)

    def scan_all() -> None:
        for text in texts:
            out: list[int] = list(always)
            db.scan(text, match_event_handler=report, context=out, scratch=scratch)
            reported.append(out)

    elapsed = cpu(scan_all)
    missed = 0
    for item, found in zip(items, reported, strict=True):
        allowed = {matcher.compiled[i].rule.id for i in found}
        missed += sum(1 for m in matcher.match(item) if m.rule_id not in allowed)
    per_item = sum(map(len, reported)) / len(items)
    return compile_s, 1e6 * elapsed / len(items), per_item, missed


def positions_scan(
    matcher: Matcher, items: list[Item]
) -> tuple[int, float, int, float, float, int]:
    """Patterns, compile s, fields, µs/field for Vocabulary.scan and for hyperscan, fields
    where the two disagree (must be 0)."""
    from presearch_layer import _escape

    patterns: list[bytes] = []
    meta: list[tuple[int, bool]] = []
    for key, kid in matcher.vocab.ids.items():
        pieces = pieces_of(key)
        if not pieces or any(p.cjk for p in pieces):
            continue  # ASCII fields only: a CJK literal cannot occur there
        prefix = not key.endswith(" ")
        body = b"\\x20+".join(_escape(p.text) for p in pieces)
        patterns.append(b"\\x20" + body + (b"" if prefix else b"\\x20"))
        meta.append((kid, prefix))
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    start = time.process_time()
    db.compile(
        expressions=patterns,
        ids=list(range(len(patterns))),
        elements=len(patterns),
        flags=[hyperscan.HS_FLAG_SOM_LEFTMOST] * len(patterns),
    )
    compile_s = time.process_time() - start
    scratch = hyperscan.Scratch(db)

    def found(pid: int, a: int, b: int, f: int, out: list[tuple[int, int, int]]) -> None:
        out.append((pid, a, b))

    def scan(an: Analyzed) -> dict[int, list[tuple[int, int]]]:
        spaced = an.spaced
        assert spaced is not None
        raw: list[tuple[int, int, int]] = []
        db.scan(spaced.encode(), match_event_handler=found, context=raw, scratch=scratch)
        occ: dict[int, list[tuple[int, int]]] = {}
        for pid, a, b in raw:
            kid, prefix = meta[pid]
            # spaced offset i is folded offset i - 1; a prefix runs to the end of its word
            end = spaced.index(" ", b) - 1 if prefix else b - 2
            occ.setdefault(kid, []).append((a, end))
        return occ

    fields = [
        an
        for item in items
        for an in (Analyzed(item.title), Analyzed(item.summary))
        if an.spaced is not None and an.spaced.isascii()
    ]
    vocab = matcher.vocab
    ours: list[dict[int, list[tuple[int, int]]]] = []
    theirs: list[dict[int, list[tuple[int, int]]]] = []
    t_ours = cpu(lambda: ours.extend(vocab.scan(an) for an in fields))
    t_hs = cpu(lambda: theirs.extend(scan(an) for an in fields))
    differ = sum(
        1
        for a, b in zip(ours, theirs, strict=True)
        if {k: sorted(v) for k, v in a.items()} != {k: sorted(set(v)) for k, v in b.items()}
    )
    n = max(len(fields), 1)
    return len(patterns), compile_s, len(fields), 1e6 * t_ours / n, 1e6 * t_hs / n, differ


def with_presearch(matcher: Matcher, search: Presearch, items: list[Item], with_rx: bool) -> float:
    def run() -> None:
        for item in items:
            if search.rules_in(texts_of(item, with_rx)):
                matcher.match(item)

    return cpu(run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--rules", default="10,1000")
    args = parser.parse_args()
    if hyperscan is None:
        sys.exit("hyperscan is not installed (it is in the dev extra): nothing to compare")
    items, unique = bench_match.load_items(args.items)
    vocab = bench_match.vocabulary(items[:unique])
    lists = bench_match.make_lists(vocab, 200, random.Random(1))
    print(f"load average {os.getloadavg()[0]:.2f}; {len(items)} items; CPU time of this process")
    print(
        "| rules | matcher items/s (before / after) | hyperscan combinations: compile, scan "
        "µs/item, reported/item, missed | presearch + matcher, hyperscan items/s "
        "| presearch + matcher, ahocorasick_rs items/s |"
    )
    print("|---|---|---|---|---|")
    positions: list[tuple[int, tuple[int, float, int, float, float, int]]] = []
    for count in [int(x) for x in args.rules.split(",")]:
        matcher = Matcher(bench_match.make_rules(count, lists, vocab), lists)
        literals, rules = literals_of(matcher)
        with_rx = bool(matcher.vocab.rx_literals)

        def plain(m: Matcher = matcher) -> None:
            for item in items:
                m.match(item)

        before = cpu(plain)
        combo = combination_scan(matcher, literals, rules, items)
        layered = {
            engine: with_presearch(matcher, Presearch(literals, rules, engine), items, with_rx)
            for engine in available_engines()
        }
        after = cpu(plain)
        n = len(items)
        positions.append((count, positions_scan(matcher, items)))
        print(
            f"| {count:,} | {n / before:,.0f} / {n / after:,.0f} | {combo[0]:.1f} s, "
            f"{combo[1]:,.0f}, {combo[2]:.1f}, {combo[3]} | "
            f"{n / layered['hyperscan']:,.0f} | {n / layered['python']:,.0f} |"
        )

    print(
        "\n| rules | hyperscan position patterns | compile | ASCII fields "
        "| Vocabulary.scan µs/field | hyperscan µs/field | fields that differ |"
    )
    print("|---|---|---|---|---|---|---|")
    for count, (pats, comp, fields, ours, hs, differ) in positions:
        print(
            f"| {count:,} | {pats:,} | {comp:.1f} s | {fields:,} | {ours:.1f} | {hs:.1f} "
            f"| {differ} |"
        )


if __name__ == "__main__":
    main()
