"""Language from script (pure): kana means Japanese, Hangul means Korean.

A feed labelled English (or not labelled) may carry Japanese or Korean items; rules filter
on ``lang``, so an item's own script beats the feed's label. Only these two are decided by
script: Han characters alone could be Chinese or Japanese, Latin letters any language.
"""

from __future__ import annotations

import re

_KANA = re.compile(r"[\u3041-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f]+")
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]+")
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]+")
_ANY = re.compile(
    r"[\u1100-\u11ff\u3041-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    r"\uac00-\ud7a3\uff66-\uff9f]"
)
# Share of letters in the script before it overrides a label: a Japanese word or two in an
# English headline ("Toyota's カイゼン") must not make it Japanese.
_SHARE = 0.3
_SAMPLE = 120  # characters looked at: the title and the start of the summary


def script_lang(text: str, declared: str | None) -> str | None:
    """``ja`` or ``ko`` when the text is mostly written in that script, else ``declared``."""
    sample = text[:_SAMPLE]  # the opening words tell the script; the tail only costs time
    if not _ANY.search(sample):
        return declared
    # Not a letter count, near enough: CJK text has few spaces, digits or punctuation,
    # and Python's regex is slow on Unicode classes (this runs for every CJK item).
    letters = len(sample) - sample.count(" ")
    if not letters:
        return declared
    kana = _count(_KANA, sample)
    if kana and (kana + _count(_HAN, sample)) / letters >= _SHARE:
        return "ja"
    if _count(_HANGUL, sample) / letters >= _SHARE:
        return "ko"
    return declared


def _count(pattern: re.Pattern[str], text: str) -> int:
    return len(text) - len(pattern.sub("", text))
