"""Matching cost in CPU instructions, counted by valgrind: the same figure on every run.

Times on a shared machine move by ±30% between runs of the same code, which hides changes of
a few percent. Callgrind counts the instructions the matcher executes instead: repeatable for
the same code, items and Python, whatever else the machine is doing. Only the matching loop
is counted (it runs inside ``functools.reduce``, which callgrind toggles collection on), not
loading the feeds or compiling the rules.

    .venv/bin/python bench/instructions.py                      # 10 and 1,000 rules, shipped pack
    .venv/bin/python bench/instructions.py --items 100 --rules 1000

Needs valgrind (Debian: ``apt-get install valgrind``). Each row takes about a minute: the
program runs some 50 times slower under callgrind.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def child(rules: str, count: int) -> None:
    """Build the matcher as bench/match.py does, then match ``count`` items (counted)."""
    import match as bench  # bench/match.py

    from monitor.config.rules import load_rules
    from monitor.rules.matcher import Matcher

    pool, unique = bench.load_items(max(count, 10_000))  # parsed once, repeated
    items = pool[:count]
    if rules == "shipped":
        matcher = load_rules(ROOT / "rules").matcher
    else:
        vocab = bench.vocabulary(pool[:unique])
        lists = bench.make_lists(vocab, 200, random.Random(1))
        matcher = Matcher(bench.make_rules(int(rules), lists, vocab), lists)
    functools.reduce(lambda _, item: matcher.match(item), items, None)


def count(rules: str, items: int) -> int:
    cmd = [
        "valgrind",
        "--tool=callgrind",
        "--collect-atstart=no",
        "--toggle-collect=functools_reduce",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--child",
        rules,
        "--items",
        str(items),
    ]
    # A fixed hash seed: set and dict order (and so the work done) is the same every run.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or not found:
        sys.exit(f"valgrind failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--rules", default="10,1000,shipped")
    parser.add_argument("--child", metavar="RULES", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.items)
        return
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        sys.exit(2)
    print(f"instructions per item, the first {args.items} snapshot items (callgrind)\n")
    print("| rules | instructions/item |")
    print("|---|---|")
    for rules in args.rules.split(","):
        total = count(rules, args.items)
        print(f"| {rules} | {total // args.items:,} |", flush=True)


if __name__ == "__main__":
    main()
