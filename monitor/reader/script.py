"""Language from script (pure): kana means Japanese, Hangul means Korean.

A feed labelled English (or not labelled) may carry Japanese or Korean items; rules filter
on ``lang``, so an item's own script beats the feed's label. Only these two are decided by
script: Han characters alone could be Chinese or Japanese, Latin letters any language.
"""

from __future__ import annotations

import re

_KANA = re.compile(r"[\u3041-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_LETTER = re.compile(r"[^\W\d_]")
# Share of letters in the script before it overrides a label: a Japanese word or two in an
# English headline ("Toyota's カイゼン") must not make it Japanese.
_SHARE = 0.3


def script_lang(text: str, declared: str | None) -> str | None:
    """``ja`` or ``ko`` when the text is mostly written in that script, else ``declared``."""
    if not text or text.isascii():
        return declared
    letters = len(_LETTER.findall(text))
    if not letters:
        return declared
    kana = len(_KANA.findall(text))
    if kana and (kana + len(_HAN.findall(text))) / letters >= _SHARE:
        return "ja"
    if len(_HANGUL.findall(text)) / letters >= _SHARE:
        return "ko"
    return declared
