"""Would mypyc make the matcher faster? The rules modules compiled, beside the same source run
interpreted, interleaved in one run.

The committed tree (``git archive HEAD``) is copied to a temporary folder and its hot rules
modules are compiled there with mypyc (it ships with mypy, in the dev extra; it needs a C
compiler). Then a child process times ``Matcher.match`` over the bench/match.py items at 10
and 1,000 rules, alternately in this checkout (interpreted) and in the copy (compiled).

    .venv/bin/python bench/mypyc.py                # a few minutes: the C build is most of it
    .venv/bin/python bench/mypyc.py --rounds 3

docs/performance.md has the figures and why the monitor does not ship it.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MODULES = [
    "compile",
    "context",
    "evaluate",
    "literals",
    "place",
    "proximity",
    "scan",
    "score",
    "terms",
    "text",
    "matcher",
    "termlist",
    "ast",
]

CHILD = """
import random, sys, time
root = sys.argv[1]
sys.path[:0] = [root, root + "/bench"]
import match as bm
import monitor.rules.compile as compiled_or_not
from monitor.rules.matcher import Matcher
items, unique = bm.load_items(int(sys.argv[2]))
vocab = bm.vocabulary(items[:unique])
lists = bm.make_lists(vocab, 200, random.Random(1))
out = []
for n in (10, 1000):
    m = Matcher(bm.make_rules(n, lists, vocab), lists)
    best = float("inf")
    for _ in range(2):
        start = time.process_time()
        for item in items:
            m.match(item)
        best = min(best, time.process_time() - start)
    out.append(len(items) / best)
kind = "compiled" if compiled_or_not.__file__.endswith(".so") else "interpreted"
print(kind, *(f"{x:.0f}" for x in out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--items", type=int, default=2000)
    args = parser.parse_args()
    mypyc = BIN / "mypyc"
    if not mypyc.exists() or shutil.which("cc") is None:
        sys.exit("needs mypyc (the dev extra) and a C compiler")
    with tempfile.TemporaryDirectory(prefix="monitor-mypyc-") as tmp:
        copy = Path(tmp)
        archive = subprocess.run(
            ["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(copy)], input=archive, check=True)
        # mypyc builds through setuptools, which would read (and refuse) the hatch metadata
        (copy / "pyproject.toml").unlink()
        (copy / "mypy.ini").write_text("[mypy]\nignore_missing_imports = True\n")
        print(f"compiling monitor/rules/{{{','.join(MODULES)}}}.py with mypyc ...", flush=True)
        subprocess.run(
            [str(mypyc), *[f"monitor/rules/{m}.py" for m in MODULES]],
            cwd=copy,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print("| round | build | items/s at 10 rules | items/s at 1,000 rules | cost 1,000 / 10 |")
        print("|---|---|---|---|---|")
        for r in range(1, args.rounds + 1):
            for root in (ROOT, copy):
                line = subprocess.run(
                    [sys.executable, "-c", CHILD, str(root), str(args.items)],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=tmp,
                ).stdout.split()
                ten, thousand = float(line[1]), float(line[2])
                print(f"| {r} | {line[0]} | {ten:,.0f} | {thousand:,.0f} | {ten / thousand:.1f}x |")


if __name__ == "__main__":
    main()
