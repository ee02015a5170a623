"""The query language's lexer: query text in, tokens (with their 1-based columns) out.

Keywords are upper case (AND, OR, NOT, ATLEAST, COMPOUND, SERIES, NEAR/n, BEFORE/n); in lower
case they are words. Every error is a QueryError with the column of the offending character and a hint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.errors import QueryError
from monitor.names import closest
from monitor.rules.ast import JOINERS, FieldName

FIELDS: tuple[FieldName, ...] = ("title", "summary", "body")
KEYWORDS = ("AND", "OR", "NOT", "ATLEAST", *JOINERS)
_SPECIAL = set('()",')
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"'})
_LIST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
NEAR_HINT = "NEAR needs a number, e.g. NEAR/5"
BEFORE_HINT = "BEFORE needs a number, e.g. BEFORE/5"
# The proximity operators, NEAR/n and BEFORE/n: one precedence, one token shape.
PROXIMITY = ("NEAR", "BEFORE")


@dataclass(frozen=True)
class Tok:
    kind: str  # WORD PHRASE REGEX LIST FIELD NEAR BEFORE AND OR NOT ATLEAST ( ) , END
    text: str
    pos: int  # 1-based column
    number: int = 0


class Lexer:
    def __init__(self, query: str) -> None:
        self.query = query
        self.text = query.translate(_QUOTES)  # one character for one: columns stay put
        self.i = 0

    def error(self, message: str, pos: int, hint: str | None = None) -> QueryError:
        return QueryError(message, self.query, pos, hint)

    def tokens(self) -> list[Tok]:
        out: list[Tok] = []
        text = self.text
        while True:
            while self.i < len(text) and text[self.i].isspace():
                self.i += 1
            if self.i >= len(text):
                out.append(Tok("END", "", len(text) + 1))
                return out
            ch = text[self.i]
            start = self.i + 1
            if ch in "(),":
                out.append(Tok(ch, ch, start))
                self.i += 1
            elif ch == '"':
                out.append(self._phrase(start))
            elif ch == "/":
                out.append(self._regex(start))
            elif ch == "@":
                out.append(self._list(start))
            else:
                out.extend(self._word(start))

    def _phrase(self, start: int) -> Tok:
        end = self.text.find('"', self.i + 1)
        if end < 0:
            raise self.error("unclosed quote", start, 'add a closing " after the phrase')
        body = self.text[self.i + 1 : end]
        self.i = end + 1
        return Tok("PHRASE", body, start)

    def _regex(self, start: int) -> Tok:
        j = self.i + 1
        while j < len(self.text) and self.text[j] != "/":
            j += 2 if self.text[j] == "\\" else 1
        if j >= len(self.text):
            raise self.error(
                "unclosed regular expression", start, "end it with /, e.g. /lithium-?ion/"
            )
        body = self.text[self.i + 1 : j]
        self.i = j + 1
        return Tok("REGEX", body, start)

    def _list(self, start: int) -> Tok:
        m = _LIST_NAME.match(self.text, self.i + 1)
        if not m:
            raise self.error("@ needs a list name", start, "write @name, e.g. @korea")
        self.i = m.end()
        return Tok("LIST", m.group(), start)

    def _word(self, start: int) -> list[Tok]:
        j = self.i
        while j < len(self.text) and not self.text[j].isspace() and self.text[j] not in _SPECIAL:
            j += 1
        word = self.text[self.i : j]
        self.i = j
        if word in KEYWORDS:
            return [Tok(word, word, start)]
        op = word.partition("/")[0]
        if op in PROXIMITY and (word == op or word.startswith(op + "/")):
            number = word[len(op) + 1 :]
            if not number.isdigit() or not number.isascii():
                hint = NEAR_HINT if op == "NEAR" else BEFORE_HINT
                raise self.error(f"{word} has no distance", start, hint)
            return [Tok(op, word, start, int(number))]
        name, colon, rest = word.partition(":")
        if colon and name in FIELDS:
            # Lex what follows the colon as a token of its own (title:word, title:@list).
            self.i = start - 1 + len(name) + 1
            return [Tok("FIELD", name, start)]
        if colon and not rest and name.isalpha() and j < len(self.text) and self.text[j] in '("':
            hint = "a field is title:, summary: or body:"
            close = closest(name.lower(), FIELDS)
            if close:
                hint = f"did you mean {close}:?"
            raise self.error(f"unknown field {name}:", start, hint)
        return [Tok("WORD", word, start)]
