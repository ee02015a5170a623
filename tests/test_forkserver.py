"""`monitor poll --once` starts the forkserver before its configuration check, with the parse
step imported in it, so workers fork with it loaded; the command's own process never imports
the parsers when workers parse (monitor/pipeline/forkserver.py). Fresh interpreters: this
suite's process has imported everything already."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import multiprocessing, sys
from concurrent.futures import ProcessPoolExecutor
from monitor.pipeline.forkserver import start_early
import monitor.pipeline.poll  # what the command imports before its Poller opens

if __name__ == "__main__":
    if sys.argv[1] == "early":
        start_early()
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        probe = "'monitor.reader.parse' in __import__('sys').modules"
        print(pool.submit(eval, probe).result())
    print("monitor.reader.parse" in sys.modules)
"""


@pytest.mark.parametrize(("mode", "in_worker"), [("early", "True"), ("late", "False")])
def test_workers_fork_with_the_parse_step_and_the_poller_never_imports_it(
    tmp_path: Path, mode: str, in_worker: str
) -> None:
    script = tmp_path / "probe.py"
    script.write_text(SCRIPT, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), mode], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [in_worker, "False"]
