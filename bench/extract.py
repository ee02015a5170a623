"""Article-extraction quality and cost: monitor/reader/article.py on a published benchmark.

    python bench/extract.py                          # the 16-page subset in tests/data/articles
    python bench/extract.py /path/to/article-extraction-benchmark   # all 181 pages

The benchmark is scrapinghub/article-extraction-benchmark (MIT): ``html/<id>.html.gz`` and
``ground-truth.json``. A checkout's own ``evaluate.py`` computes the scores when it is there
(its metric, its code: F1 over 4-token shingles per page, precision and recall averaged over
pages, bootstrap spreads); for the shipped subset, which has no evaluate.py, ``shingle_f1``
below computes the same metric as the benchmark's README and whitepaper define it.

Two configurations are scored: ``monitor`` is what the monitor stores (our decoding, then
trafilatura with favor_precision, tables kept, no comments, images or links), and
``benchmark-call`` is the benchmark's own trafilatura call (``extract(html,
include_comments=False)`` on UTF-8 text), to check this trafilatura against the published
figures (trafilatura 2.0.0: F1 0.958; readability-lxml: 0.922).
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SUBSET = ROOT / "tests" / "data" / "articles" / "benchmark"
PUBLISHED = {"trafilatura 2.0.0": 0.958, "readability-lxml 0.8.4.1": 0.922}
_TOKEN = re.compile(r"\w+")


def _shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens)


def _page_scores(true: str, pred: str) -> tuple[float, float, float]:
    """True positives, false positives, false negatives over shingles, normalised per page."""
    t, p = _shingles(true), _shingles(pred)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def shingle_f1(truth: dict[str, Any], pred: dict[str, Any]) -> dict[str, float]:
    """The benchmark's metric: per-page shingle precision and recall, averaged, then F1."""
    precisions, recalls = [], []
    for key, value in truth.items():
        tp, fp, fn = _page_scores(value.get("articleBody", ""), pred[key].get("articleBody", ""))
        if tp + fp > 0:
            precisions.append(1.0 if fp == fn == 0 else tp / (tp + fp))
        if tp + fn > 0:
            recalls.append(1.0 if fp == fn == 0 else tp / (tp + fn))
    precision, recall = statistics.mean(precisions), statistics.mean(recalls)
    return {
        "f1": 2 * precision * recall / (precision + recall),
        "precision": precision,
        "recall": recall,
    }


def _their_evaluate(checkout: Path) -> Any | None:
    script = checkout / "evaluate.py"
    if not script.is_file():
        return None
    spec = importlib.util.spec_from_file_location("aeb_evaluate", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("benchmark", nargs="?", type=Path, default=SUBSET)
    parser.add_argument("--n-bootstrap", type=int, default=1000)
    args = parser.parse_args()
    truth = json.loads((args.benchmark / "ground-truth.json").read_text(encoding="utf-8"))
    pages = {
        k: gzip.decompress((args.benchmark / "html" / f"{k}.html.gz").read_bytes()) for k in truth
    }

    started = time.perf_counter()
    from monitor.reader.article import extract_article

    extract_article(b"<html><body><p>warm-up: imports trafilatura</p></body></html>", {})
    import_s = time.perf_counter() - started
    import trafilatura

    ours: dict[str, dict[str, str]] = {}
    theirs: dict[str, dict[str, str]] = {}
    cost: list[float] = []
    for key, body in pages.items():
        t0 = time.perf_counter()
        article = extract_article(body, {}, truth[key].get("url", ""))
        cost.append(time.perf_counter() - t0)
        ours[key] = {"articleBody": article.text}
        text = trafilatura.extract(body.decode("utf-8"), include_comments=False)
        theirs[key] = {"articleBody": text or ""}

    evaluate = _their_evaluate(args.benchmark)
    version = getattr(trafilatura, "__version__", "?")
    print(f"{len(pages)} pages from {args.benchmark}; trafilatura {version}")
    print(f"metric: {'the checkout’s evaluate.py' if evaluate else 'shingle_f1 (same metric)'}")
    for name, pred in (("monitor", ours), ("benchmark-call", theirs)):
        if evaluate is not None:
            m = evaluate.evaluate(truth, pred, args.n_bootstrap)
            print(
                f"  {name:<15} F1 {m['f1']:.3f} ± {m['f1_std']:.3f}  precision "
                f"{m['precision']:.3f} ± {m['precision_std']:.3f}  recall {m['recall']:.3f} ± "
                f"{m['recall_std']:.3f}  accuracy {m['accuracy']:.3f}"
            )
        else:
            m = shingle_f1(truth, pred)
            print(
                f"  {name:<15} F1 {m['f1']:.3f}  precision {m['precision']:.3f}  "
                f"recall {m['recall']:.3f}"
            )
    print("published (whole benchmark): " + ", ".join(f"{k} F1 {v}" for k, v in PUBLISHED.items()))
    cost.sort()
    kb = statistics.median(len(b) for b in pages.values()) / 1000
    print(
        f"cost per page (decode + extract, median page {kb:.0f} KB): median "
        f"{statistics.median(cost) * 1000:.1f} ms, p90 {cost[int(len(cost) * 0.9)] * 1000:.1f} ms, "
        f"max {cost[-1] * 1000:.1f} ms; first page with the import {import_s:.2f} s"
    )


if __name__ == "__main__":
    main()
