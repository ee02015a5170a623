"""Matching benchmark: 20,000 realistic items against 10 to 5,000 generated rules.

Items are the real items of the feed snapshots shipped in the repository (tests/data/feeds,
monitor/demo/snapshots: English, Japanese and Korean), parsed and normalised by the real
reader, repeated to the requested count. Rules are generated in the shape of the shipped pack:
term lists of words, phrases, prefixes and CJK terms drawn from the items' own vocabulary
(so they do occur), combined with AND, NEAR, ATLEAST, OR, title: and NOT.

In the same run, a naive baseline evaluates one regular expression per rule (the alternation
of the rule's terms with word boundaries) against every item; it is timed on a sample of items
and extrapolated (the output says so). The shipped rule pack is measured too.

The "floor" column is what every item costs before a single rule is looked at: folding both
fields, one automaton pass over each, and the set of patterns found. No matcher built on this
automaton in Python can go below it.

    .venv/bin/python bench/match.py                        # the full run (a few minutes)
    .venv/bin/python bench/match.py --items 5000 --rules 10,100,1000

Targets (issue 3): >= 20,000 items/s at 1,000 rules; cost at 1,000 rules <= 3x cost at 10.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import re
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.config.rules import load_rules  # noqa: E402
from monitor.model import FeedSource, Item, Rule  # noqa: E402
from monitor.reader.normalize import normalize_entries  # noqa: E402
from monitor.reader.parse import parse_feed  # noqa: E402
from monitor.rules.cjk import has_cjk, is_cjk  # noqa: E402
from monitor.rules.matcher import Matcher  # noqa: E402
from monitor.rules.termlist import TermList  # noqa: E402
from monitor.rules.text import Analyzed  # noqa: E402

SNAPSHOT_DIRS = (ROOT / "tests" / "data" / "feeds", ROOT / "monitor" / "demo" / "snapshots")
NOW = datetime(2026, 11, 28, tzinfo=UTC)
STOP = frozenset(
    re.findall(
        r"\w+",
        "the a an of to in and for on with at by from as is are was were be been has have "
        "had it its that this after over into than but not or new says said will would "
        "can could up out more about who what when how why all also their they he she we "
        "you his her",
    )
)


def load_items(count: int) -> tuple[list[Item], int]:
    base: dict[str, Item] = {}
    for folder in SNAPSHOT_DIRS:
        for path in sorted(folder.glob("*")):
            if path.suffix not in (".xml", ".rss", ".atom", ".rdf"):
                continue
            source = FeedSource(path.stem, path.stem, path.as_uri(), "news", "", "", 900)
            try:
                parsed = parse_feed(path.read_bytes(), {}, source.url)
            except Exception:  # noqa: BLE001 - a snapshot that is not a feed is skipped
                continue
            for item in normalize_entries(source, parsed, now=NOW):
                if item.title or item.summary:
                    base[item.title + item.summary] = item
    unique = list(base.values())
    if not unique:
        sys.exit("no feed snapshots found under tests/data/feeds or monitor/demo/snapshots")
    random.Random(7).shuffle(unique)
    return [replace(unique[i % len(unique)], id=f"b{i}") for i in range(count)], len(unique)


def vocabulary(items: list[Item]) -> tuple[list[str], list[str], list[str], list[str]]:
    """Frequent words, mid-frequency words, two-word phrases and CJK bigrams of the items."""
    words: Counter[str] = Counter()
    phrases: Counter[str] = Counter()
    cjk: Counter[str] = Counter()
    for item in items:
        text = f"{item.title} {item.summary}"
        toks = [w for w in re.findall(r"[A-Za-z][A-Za-z'-]+", text) if w.lower() not in STOP]
        words.update(w.lower() for w in toks)
        phrases.update(f"{a.lower()} {b.lower()}" for a, b in itertools.pairwise(toks))
        if has_cjk(text):
            for a, b in itertools.pairwise(text):
                if is_cjk(a) and is_cjk(b):
                    cjk[a + b] += 1
    # Rule terms are specific (a minister, a mineral, an agency): mostly words that occur in
    # a few items; a fifth of the lists also carry broad words (like a country's name).
    ranked = [w for w, _ in words.most_common() if len(w) > 2]
    frequent = ranked[:150]
    middle = [w for w, n in words.most_common() if 1 <= n <= 3 and len(w) > 4]
    common_phrases = [p for p, n in phrases.most_common() if 2 <= n <= 3]
    bigrams = [b for b, n in cjk.most_common() if 2 <= n <= 3]
    return frequent, middle, common_phrases, bigrams


def make_lists(vocab: tuple[list[str], ...], count: int, rng: random.Random) -> dict[str, TermList]:
    """Lists like the shipped ones: ~25 terms mixing words, phrases, prefixes and CJK."""
    frequent, middle, phrases, bigrams = vocab
    lists: dict[str, TermList] = {}
    for i in range(count):
        broad = i % 5 == 0  # a fifth are broad, like a country list with common names
        terms = rng.sample(frequent, 3) if broad else []
        terms += rng.sample(middle, 12)
        terms += rng.sample(phrases, 5)
        terms += [w[:-2] + "*" for w in rng.sample([w for w in middle if len(w) > 7], 2)]
        if bigrams:
            terms += rng.sample(bigrams, min(4, len(bigrams)))
        lists[f"l{i}"] = TermList(f"l{i}", tuple(dict.fromkeys(terms)))
    return lists


def make_rules(count: int, lists: dict[str, TermList], vocab: tuple[list[str], ...]) -> list[Rule]:
    rng = random.Random(count)
    names = sorted(lists)
    middle, phrases = vocab[1], vocab[2]
    rules = []
    for i in range(count):
        a, b, c, d = rng.sample(names, 4)
        w1, w2 = rng.sample(middle, 2)
        p = rng.choice(phrases)
        shape = i % 4
        if shape == 0:
            query = f'(@{a} AND @{b}) NEAR/10 (@{c} OR "{p}")'
        elif shape == 1:
            query = f"title:(@{a} OR {w1}) AND @{b} NOT @{d}"
        elif shape == 2:
            query = f'ATLEAST 2 (@{a}, @{b}, "{p}") NOT ({w2} OR @{d})'
        else:
            query = f"@{a} NEAR/5 {w1}* OR (@{b} AND @{c} AND {w2})"
        rules.append(Rule(f"r{i}", f"r{i}", query, exclude=f"@{d}" if i % 3 == 0 else None))
    return rules


def literal_terms(query: str, lists: dict[str, TermList]) -> list[str]:
    terms: list[str] = []
    for name in re.findall(r"@(\w+)", query):
        terms.extend(lists[name].terms)
    stripped = re.sub(r"@\w+|\b(?:AND|OR|NOT|ATLEAST|NEAR/\d+|title:|summary:)\b|\d+", " ", query)
    terms.extend(re.findall(r'"[^"]+"|[^\s()",]+', stripped))
    return [t.strip('"') for t in terms]


def naive_regex(query: str, lists: dict[str, TermList]) -> re.Pattern[str]:
    parts = []
    for term in literal_terms(query, lists):
        body = re.escape(term.rstrip("*")).replace(r"\ ", r"\W+")
        tail = r"\w*" if term.endswith("*") else r"\b"
        parts.append(body if has_cjk(term) else rf"\b{body}{tail}")
    return re.compile("|".join(parts), re.IGNORECASE)


def bench_matcher(matcher: Matcher, items: list[Item], repeat: int = 1) -> tuple[float, int, float]:
    """Best CPU time of ``repeat`` runs over all items, matches found, candidate rules per
    item. CPU time (not wall time): the machine is shared, and waiting for a CPU is not cost."""
    candidates = 0
    for item in items[:500]:  # candidate count on a sample (not timed)
        candidates += len(matcher.candidates(matcher.context(item.title, item.summary)))
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        matched = 0
        for item in items:
            matched += len(matcher.match(item))
        best = min(best, time.process_time() - start)
    return best, matched, candidates / min(len(items), 500)


def bench_floor(matcher: Matcher, items: list[Item]) -> float:
    """CPU time of the per-item steps that come before any rule (see the module docstring)."""
    vocab = matcher.vocab
    best = float("inf")
    for _ in range(2):
        start = time.process_time()
        for item in items:
            for text in (item.title, item.summary):
                {p for p, _, _ in vocab.finds(Analyzed(text))}
        best = min(best, time.process_time() - start)
    return best


def bench_naive(regexes: list[re.Pattern[str]], items: list[Item], sample: int) -> float:
    part = items[:sample]
    start = time.process_time()
    for item in part:
        text = f"{item.title}\n{item.summary}"
        for rx in regexes:
            rx.search(text)
    return (time.process_time() - start) * len(items) / len(part)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--rules", default="10,100,1000,5000")
    parser.add_argument("--lists", type=int, default=200)
    parser.add_argument("--naive-budget", type=float, default=8.0, help="seconds per naive run")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print("all times are CPU time of this process (time.process_time)")
    items, unique = load_items(args.items)
    cjk_share = sum(has_cjk(i.title + i.summary) for i in items) / len(items)
    avg_len = sum(len(i.title) + len(i.summary) for i in items) / len(items)
    print(
        f"load average {load:.2f}; {len(items)} items ({unique} distinct snapshot items, "
        f"{cjk_share:.0%} Japanese/Korean, {avg_len:.0f} characters each on average)"
    )
    vocab = vocabulary(items[:unique])
    lists = make_lists(vocab, args.lists, random.Random(1))
    print(
        f"{len(lists)} generated term lists, "
        f"{sum(len(t.terms) for t in lists.values())} terms in all\n"
    )
    print(
        "| rules | compile | items/s | µs/item | floor µs/item | candidates/item | matches/item "
        "| naive items/s | speed-up |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    costs: dict[int, float] = {}
    for count in [int(x) for x in args.rules.split(",")]:
        rules = make_rules(count, lists, vocab)
        start = time.process_time()
        matcher = Matcher(rules, lists)
        compile_s = time.process_time() - start
        elapsed, matched, cands = bench_matcher(matcher, items, 2 if count <= 1000 else 1)
        floor = bench_floor(matcher, items)
        regexes = [naive_regex(r.query, lists) for r in rules]
        probe = bench_naive(regexes, items, 20)
        sample = max(
            20, min(len(items), int(20 * args.naive_budget / max(probe, 1e-9) * len(items) / 20))
        )
        sample = min(sample, len(items))
        naive = bench_naive(regexes, items, sample)
        costs[count] = elapsed / len(items)
        note = "" if sample == len(items) else f" ({sample} items, extrapolated)"
        print(
            f"| {count:,} | {compile_s:.2f} s | {len(items) / elapsed:,.0f} | "
            f"{1e6 * elapsed / len(items):.0f} | {1e6 * floor / len(items):.0f} | {cands:.1f} | "
            f"{matched / len(items):.2f} | "
            f"{len(items) / naive:,.0f}{note} | {naive / elapsed:,.0f}x |"
        )
    if 10 in costs and 1000 in costs:
        print(f"\ncost at 1,000 rules / cost at 10 rules: {costs[1000] / costs[10]:.2f}x")
    shipped = ROOT / "rules"
    if shipped.is_dir():
        book = load_rules(shipped)
        elapsed, matched, cands = bench_matcher(book.matcher, items, 2)
        print(
            f"shipped pack ({len(book.rules)} rules, {len(book.lists)} lists): "
            f"{len(items) / elapsed:,.0f} items/s, {cands:.1f} candidates/item, "
            f"{matched} matches"
        )


if __name__ == "__main__":
    main()
