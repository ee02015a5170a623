"""Which characters are CJK: one definition for the rules engine and archive search.

CJK text has no spaces, so each character is a token (rules) and a word needs the trigram
index rather than the word index (archive search). Standard library only.
"""

from __future__ import annotations

import re

# Han (with extensions and compatibility ideographs), Hiragana, Katakana (with phonetic
# extensions and the prolonged sound mark), Hangul syllables and jamo, iteration marks. The
# kana punctuation and sound marks (・ ゠ ゛ ゜) are left out: they separate, like a comma.
CJK_CLASS = (
    "\u1100-\u11ff\u3005-\u3007\u3021-\u3029\u3031-\u3035\u3040-\u3098\u309d-\u309f"
    "\u30a1-\u30fa\u30fc-\u30ff"
    "\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7af"
    "\ud7b0-\ud7ff\uf900-\ufaff\U00020000-\U0003134f"
)
_CJK_RE = re.compile(f"[{CJK_CLASS}]")


def is_cjk(char: str) -> bool:
    return bool(_CJK_RE.match(char))


def has_cjk(text: str) -> bool:
    return bool(_CJK_RE.search(text))
