"""What matched, as a reader would say it: "Japan (日韓), South Korea, summit". Pure.

The "Why" line of digests and alerts, `monitor match`, `monitor rules explain` and exports
name the hits of a match this way: a term found through a list with a ``label:`` is shown
under that label (the words found in brackets, unless the only word is the label itself), any
other term as written, and a /regex/ or a ``miner*`` prefix by the text it matched, never by
its pattern.
"""

from __future__ import annotations

from collections.abc import Sequence

from monitor.model import Hit


def hit_dict(h: Hit) -> dict[str, object]:
    """A hit as stored and printed: the list's reader name under "list", when it has one."""
    out: dict[str, object] = {"term": h.term, "field": h.field, "start": h.start, "end": h.end}
    if h.group:
        out["list"] = h.group
    return out


def is_regex_label(term: str) -> bool:
    return len(term) > 2 and term.startswith("/") and term.endswith("/")


_ORDER = {"title": 0, "summary": 1, "body": 2}


def in_words(hits: Sequence[Hit], title: str = "", summary: str = "", body: str = "") -> list[str]:
    """The hits as phrases, title first (then summary, body), then by position, each once."""
    text = {"title": title, "summary": summary, "body": body}
    groups: dict[str, list[str]] = {}  # label -> words found, in order
    order: list[tuple[str, str]] = []  # ("group", label) or ("word", word)
    for hit in sorted(hits, key=lambda h: (_ORDER.get(h.field, 3), h.start, h.end)):
        word = hit.term
        if is_regex_label(word) or word.endswith("*"):  # the word found, not the pattern
            found = text.get(hit.field, "")[hit.start : hit.end].strip()
            word = found or ("a pattern" if is_regex_label(word) else word.rstrip("*"))
        if hit.group:
            if hit.group not in groups:
                groups[hit.group] = []
                order.append(("group", hit.group))
            if word not in groups[hit.group]:
                groups[hit.group].append(word)
        elif ("word", word) not in order:
            order.append(("word", word))
    grouped = {w.casefold() for words in groups.values() for w in words}
    out: list[str] = []
    for kind, name in order:
        if kind == "word":
            if name.casefold() not in grouped and name not in out:
                out.append(name)
            continue
        words = [w for w in groups[name] if w.casefold() != name.casefold()]
        phrase = f"{name} ({', '.join(words)})" if words else name
        if phrase not in out:
            out.append(phrase)
    return out


def why_text(hits: Sequence[Hit], title: str = "", summary: str = "", most: int = 8) -> str:
    """``in_words`` joined with commas, the first ``most`` phrases and "…" after them."""
    words = in_words(hits, title, summary)
    shown = ", ".join(words[:most])
    return shown + (" …" if len(words) > most else "")
