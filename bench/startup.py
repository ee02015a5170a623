"""Start-up benchmark: `monitor --help` and `monitor --version` beside `python -c pass`.

Each round runs every command once, in turn (interleaved), so a machine whose speed drifts
or that other work loads slows all of them alike; the figures are medians over the rounds,
wall time of the whole process (what a user waits for), and the same minus the bare
interpreter of the same round.

    .venv/bin/python bench/startup.py              # 30 rounds (make bench)
    .venv/bin/python bench/startup.py --rounds 10

Target (issue 17): `monitor --help` and `monitor --version` <= 150 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MONITOR = str(BIN / "monitor") if (BIN / "monitor").exists() else None

COMMANDS: dict[str, list[str]] = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "python -c 'import click'": [sys.executable, "-c", "import click"],
    "monitor --help": [MONITOR, "--help"]
    if MONITOR
    else [sys.executable, "-m", "monitor", "--help"],
    "monitor --version": [MONITOR, "--version"]
    if MONITOR
    else [sys.executable, "-m", "monitor", "--version"],
    "monitor search --help": [MONITOR, "search", "--help"]
    if MONITOR
    else [sys.executable, "-m", "monitor", "search", "--help"],
}


def run_once(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    over: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for argv in COMMANDS.values():  # warm the page cache and .pyc files, not timed
        run_once(argv)
    for _ in range(args.rounds):
        this_round = {name: run_once(argv) for name, argv in COMMANDS.items()}
        base = this_round["python -c pass (baseline)"]
        for name, value in this_round.items():
            times[name].append(value)
            over[name].append(value - base)
    print(f"load average {os.getloadavg()[0]:.2f}; {args.rounds} interleaved rounds, wall time")
    print("| command | median ms | fastest ms | median ms over the baseline | target |")
    print("|---|---|---|---|---|")
    for name in COMMANDS:
        target = "≤ 150 ms" if name in ("monitor --help", "monitor --version") else ""
        print(
            f"| `{name}` | {1e3 * statistics.median(times[name]):.0f} | "
            f"{1e3 * min(times[name]):.0f} | {1e3 * statistics.median(over[name]):+.0f} | {target} |"
        )


if __name__ == "__main__":
    main()
