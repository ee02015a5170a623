"""Near-duplicate clustering: the same story from several feeds becomes one entry.

Two items are the same story when their canonical URLs are equal, or when their titles are
similar enough and were published within ``WINDOW`` of each other. Title similarity is the
Jaccard index of title tokens (words, lower-cased, stop words and a trailing " - Publisher"
removed; CJK text as character bigrams since it has no spaces). ``THRESHOLD`` = 0.5 was
chosen on the corpus pairs in tests/data/cluster_pairs.json: syndicated wire copy scores 1.0,
lightly re-written headlines of one story 0.5–0.8, different stories on the same topic below
0.35. Clustering is single-link over items sorted by (published, id), so the result does not
depend on input order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from monitor.digest import crosslang
from monitor.model import StoryKey

THRESHOLD = 0.5
WINDOW = timedelta(hours=72)
MIN_TOKENS = 3  # titles this short are too generic to compare by words

_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "at",
        "by",
        "with",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "its",
        "this",
        "that",
        "after",
        "over",
        "into",
        "amid",
        "says",
        "say",
        "said",
        "will",
        "new",
    ]
)
_WORD = re.compile(r"\w+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")
# " - Reuters", " | Nikkei Asia", "（ロイター）": a publisher tag that syndication adds.
_PUBLISHER_SUFFIX = re.compile(r"\s+[-|–—]\s+[^-|–—]{2,40}$")
_BRACKET_SUFFIX = re.compile(r"\s*[（(【\[][^）)】\]]{1,20}[）)】\]]\s*$")


def title_tokens(title: str) -> frozenset[str]:
    text = unicodedata.normalize("NFKC", title).casefold()
    text = _PUBLISHER_SUFFIX.sub("", text)
    text = _BRACKET_SUFFIX.sub("", text)
    tokens: set[str] = set()
    for run in _CJK.findall(text):
        tokens.update(run[i : i + 2] for i in range(max(len(run) - 1, 1)))
    text = _CJK.sub(" ", text)
    tokens.update(w for w in _WORD.findall(text) if w not in _STOP and (len(w) > 1 or w.isdigit()))
    return frozenset(tokens)


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if len(a) < MIN_TOKENS or len(b) < MIN_TOKENS:
        return 1.0 if a == b and a else 0.0
    return len(a & b) / len(a | b)


def same_story(a: StoryKey, b: StoryKey, ta: frozenset[str], tb: frozenset[str]) -> bool:
    if a.url and a.url == b.url:
        return True
    if abs(a.published - b.published) > WINDOW:
        return False
    return similarity(ta, tb) >= THRESHOLD


def cluster(items: Sequence[StoryKey], vectors: Mapping[str, Any] | None = None) -> list[list[str]]:
    """Groups of item ids that tell the same story; each group and the list in (published, id) order.

    ``vectors`` (item id → unit sentence embedding, monitor.embed) also joins one story
    told in different languages (crosslang.py); without them clustering is by words only."""
    ordered = sorted({i.id: i for i in items}.values(), key=lambda i: (i.published, i.id))
    tokens = [title_tokens(i.title) for i in ordered]
    parent = list(range(len(ordered)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(ordered):
        for j in range(i + 1, len(ordered)):
            b = ordered[j]
            if b.published - a.published > WINDOW and a.url != b.url:
                # sorted by time: later items can only match a by URL
                if not a.url:
                    break
                continue
            if same_story(a, b, tokens[i], tokens[j]):
                ri, rj = root(i), root(j)
                if ri != rj:
                    parent[max(ri, rj)] = min(ri, rj)
    groups: dict[int, list[int]] = {}
    for i in range(len(ordered)):
        groups.setdefault(root(i), []).append(i)
    indexes = [groups[k] for k in sorted(groups)]
    if vectors:
        indexes = crosslang.join(indexes, ordered, vectors)
    return [[ordered[i].id for i in group] for group in indexes]
