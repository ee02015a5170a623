"""bench/archive.py runs against the current schema: it builds its archive by dropping and
recreating the insert triggers, so a migration that renames them broke `make bench` once
(migration 0503) without a test noticing. A small run of the script, end to end."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_archive_bench_builds_ingests_and_searches(tmp_path: Path) -> None:
    script = ROOT / "bench" / "archive.py"
    args = ["--items", "20000", "--ingest", "300", "--db", str(tmp_path / "bench.db")]
    run = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    # The three ways of storing, each with a figure.
    for label in ("trigger, with trigram", "trigger, without trigram", "queued, then filled"):
        assert re.search(re.escape(label) + r" [\d,]+ items/s", out), out
    # Every search row has both timings, and the CLI rows ran.
    assert len(re.findall(r"^\S.*\b(index|scan)\s+[\d.]+ms\s+[\d.]+ms", out, re.M)) >= 4, out
    assert "end to end" in out, out
    assert "rows/s" in out, out
