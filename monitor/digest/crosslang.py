"""Joining one story told in several languages, from sentence embeddings (monitor.embed).

Title words cannot join a Reuters headline with its Nikkei and Yonhap versions, so stories
that lexical clustering kept apart are joined when their titles are in different scripts
(Latin, Japanese, Korean), were published within ``WINDOW`` and their vectors' cosine is at
least ``THRESHOLD``; two groups join only if, on average, all their members are at least
``GROUP_FLOOR`` alike, so one loose pair cannot chain two stories together.

Why only across scripts: within one language the embedding calls two stories of one topic
alike (the US and euro-area PMI headlines: 0.71), which title words tell apart. Measured on
1,203 real titles of 2026-08-20..22 (corpus: Reuters/Bloomberg pool, Google News EN/JA,
Yahoo JP, CNA): one event in EN and JA scores 0.60–0.78; below 0.6 pairs of one event and of
neighbouring events (one sanctions story and another) mix, so 0.6 keeps precision first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Protocol

THRESHOLD = 0.55
GROUP_FLOOR = 0.5
WINDOW = timedelta(hours=36)

_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_PUBLISHER = re.compile(r"\s+[-|–—]\s+[^-|–—]{2,40}$")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")


class Dated(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def published(self) -> Any: ...


def script_of(title: str) -> str:
    """'ko', 'ja' or 'latin': what decides that two titles are in different languages.
    A publisher tag (" - ロイター" on an English title) does not count."""
    title = _PUBLISHER.sub("", title)
    if _HANGUL.search(title):
        return "ko"
    if _JAPANESE.search(title):
        return "ja"
    return "latin"


def join(
    groups: list[list[int]], items: Sequence[Dated], vectors: Mapping[str, Any]
) -> list[list[int]]:
    """``groups`` (indexes into ``items``, each group sorted) with cross-language groups joined.
    Only items with a vector take part; the result is in order of each group's first index."""
    with_vec = [i for i, item in enumerate(items) if item.id in vectors]
    if len(with_vec) < 2:
        return groups
    import numpy as np  # present whenever vectors are: the encoder needs it

    matrix = np.stack([np.asarray(vectors[items[i].id], dtype=np.float32) for i in with_vec])
    sims = matrix @ matrix.T
    position = {item_index: p for p, item_index in enumerate(with_vec)}
    scripts = np.array([script_of(items[i].title) for i in with_vec])
    stamps = np.array([items[i].published.timestamp() for i in with_vec])
    near = np.abs(stamps[:, None] - stamps[None, :]) <= WINDOW.total_seconds()
    owner = {i: g for g, members in enumerate(groups) for i in members}
    group_of = np.array([owner[i] for i in with_vec])
    # Each item's most similar story in each other script; a pair links only when each is
    # the other's best (mutual nearest neighbours): a story close to a neighbouring one of
    # the same topic is still closer to its own translation.
    best: dict[tuple[int, str], int] = {}
    for script in sorted(set(scripts.tolist())):
        cols = np.nonzero(scripts == script)[0]
        masked = np.where(near[:, cols], sims[:, cols], -2.0)
        top = cols[np.argmax(masked, axis=1)]
        for row in np.nonzero(scripts != script)[0]:
            if masked[row].max() > -2.0:
                best[(int(row), script)] = int(group_of[top[row]])
    pairs = []
    linked = np.triu((sims >= THRESHOLD) & near & (scripts[:, None] != scripts[None, :]), k=1)
    for a, b in zip(*np.nonzero(linked), strict=True):
        a, b = int(a), int(b)
        if best.get((a, str(scripts[b]))) != group_of[b]:
            continue
        if best.get((b, str(scripts[a]))) != group_of[a]:
            continue
        pairs.append((-float(sims[a, b]), with_vec[a], with_vec[b]))
    if not pairs:
        return groups
    members = {g: list(m) for g, m in enumerate(groups)}
    parent = list(range(len(groups)))

    def root(g: int) -> int:
        while parent[g] != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    for _, ia, ib in sorted(pairs):
        ga, gb = root(owner[ia]), root(owner[ib])
        if ga == gb:
            continue
        pa = [position[i] for i in members[ga] if i in position]
        pb = [position[i] for i in members[gb] if i in position]
        if float(sims[np.ix_(pa, pb)].mean()) < GROUP_FLOOR:
            continue
        keep, gone = min(ga, gb), max(ga, gb)
        parent[gone] = keep
        members[keep] = sorted(members[keep] + members.pop(gone))
    return [members[g] for g in sorted(members) if root(g) == g]
