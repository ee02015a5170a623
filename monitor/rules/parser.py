"""The query language's parser: text in, syntax tree (monitor.rules.ast) out.

Grammar, loosest binding first (docs/rules.md shows it with examples)::

    query   := or
    or      := and ("OR" and)*
    and     := near (["AND"] near)*          terms side by side mean AND
    near    := unary (("NEAR/" n | "BEFORE/" n) unary)*
    unary   := "NOT" unary | primary
    primary := "(" or ")" | "ATLEAST" n "(" or ("," or)* ")" | FIELD ":" primary
             | ("COMPOUND" | "SERIES") "(" or ("," or)+ ")"
             | word | "phrase" | /regex/ | @list

Every error is a QueryError with the 1-based column of the offending token and a hint.
"""

from __future__ import annotations

import re
import warnings

from monitor.errors import QueryError
from monitor.rules.ast import (
    JOINERS,
    And,
    AtLeast,
    Before,
    Chain,
    FieldScope,
    ListRef,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Regex,
    Term,
)
from monitor.rules.lexer import PROXIMITY, Lexer, Tok
from monitor.rules.limits import MAX_DEPTH, MAX_QUERY_CHARS, MAX_QUERY_TOKENS
from monitor.rules.saferegex import engine_problem, nested_repeat
from monitor.rules.text import tokenize, written_in_capitals

ATLEAST_HINT = "write it as ATLEAST 2 (a, b, c)"
CHAIN_HINTS = {
    "COMPOUND": "write it as COMPOUND (@japan-name, @korea-name)",
    "SERIES": "write it as SERIES (@japan-name, @korea-name, @us-name)",
}
MAX_CHAIN = 6  # parts of one COMPOUND or SERIES: a longer chain is no phrase anyone writes
COMMA_HINT = "commas only separate the terms of ATLEAST n (a, b), COMPOUND (a, b), SERIES (a, b)"


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        if len(query) > MAX_QUERY_CHARS:
            raise self.error(
                f"the query is longer than {MAX_QUERY_CHARS:,} characters",
                MAX_QUERY_CHARS + 1,
                "put long alternatives in a term list (rules/lists/) and write @name",
            )
        self.lexer = Lexer(query)
        self.toks = self.lexer.tokens()
        if len(self.toks) > MAX_QUERY_TOKENS + 1:  # + END
            raise self.error(
                f"the query has more than {MAX_QUERY_TOKENS:,} words and operators",
                self.toks[MAX_QUERY_TOKENS].pos,
                "put long alternatives in a term list (rules/lists/) and write @name",
            )
        self.k = 0
        self.depth = 0  # open groups, NOTs, fields, ATLEASTs, COMPOUNDs, SERIESes, NEARs and BEFOREs around the parser

    def deeper(self, tok: Tok) -> None:
        """Enter one level of nesting; the limit keeps recursion (here, when compiling, in
        SQLite) far from Python's and SQLite's own limits."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(
                f"the query nests more than {MAX_DEPTH} levels deep",
                tok.pos,
                "remove parentheses or NOTs: (((a))) is a, NOT NOT a is a",
            )

    @property
    def tok(self) -> Tok:
        return self.toks[self.k]

    def advance(self) -> Tok:
        tok = self.toks[self.k]
        self.k += 1
        return tok

    def error(self, message: str, pos: int, hint: str | None = None) -> QueryError:
        return QueryError(message, self.query, pos, hint)

    def parse(self) -> Node:
        if self.tok.kind == "END":
            raise self.error("empty query", 1, "write at least one word, e.g. lithium")
        node = self.parse_or()
        tok = self.tok
        if tok.kind == ")":
            raise self.error(
                "unbalanced parenthesis", tok.pos, "this ) has no matching (: remove it or add ("
            )
        if tok.kind == ",":
            raise self.error("unexpected comma", tok.pos, COMMA_HINT)
        if tok.kind != "END":  # pragma: no cover - every other token starts a term
            raise self.error(f"unexpected {tok.text!r}", tok.pos)
        return node

    def parse_or(self) -> Node:
        first = self.tok
        if first.kind in ("OR", "AND"):
            raise self.error(
                f"{first.kind} needs a term before it", first.pos, "remove it or add a term"
            )
        children = [self.parse_and()]
        while self.tok.kind == "OR":
            op = self.advance()
            self._need_operand(op)
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Or(tuple(children), first.pos)

    def _need_operand(self, op: Tok) -> None:
        nxt = self.tok
        if nxt.kind in ("END", ")", ",", "OR", "AND", *PROXIMITY):
            what = "a term" if nxt.kind in ("END", ")", ",") else f"a term, not {nxt.kind}"
            raise self.error(
                f"{op.kind} needs a term after it", op.pos, f"add {what} after {op.kind}"
            )

    def _starts_term(self) -> bool:
        starts = ("WORD", "PHRASE", "REGEX", "LIST", "FIELD", "(", "NOT", "ATLEAST", *JOINERS)
        return self.tok.kind in starts

    def parse_and(self) -> Node:
        first = self.tok
        children = [self.parse_near()]
        while True:
            if self.tok.kind == "AND":
                op = self.advance()
                self._need_operand(op)
            elif not self._starts_term():
                break
            children.append(self.parse_near())
        return children[0] if len(children) == 1 else And(tuple(children), first.pos)

    def parse_near(self) -> Node:
        first = self.tok
        node = self.parse_unary()
        depth = self.depth
        while self.tok.kind in PROXIMITY:
            op = self.advance()
            self._need_operand(op)
            self.deeper(op)  # a chain a NEAR/1 b BEFORE/1 c nests to the left
            right = self.parse_unary()
            if op.kind == "NEAR":
                node = Near(node, right, op.number, first.pos)
            else:
                node = Before(node, right, op.number, first.pos)
        self.depth = depth
        return node

    def parse_unary(self) -> Node:
        tok = self.tok
        if tok.kind == "NOT":
            self.advance()
            self._need_operand(tok)
            self.deeper(tok)
            node = Not(self.parse_unary(), tok.pos)
            self.depth -= 1
            return node
        return self.parse_primary()

    def parse_primary(self) -> Node:
        tok = self.advance()
        kind = tok.kind
        if kind in ("(", "ATLEAST", "FIELD", *JOINERS):
            self.deeper(tok)
            node = self._nested(tok)
            self.depth -= 1
            return node
        return self._leaf(tok)

    def _nested(self, tok: Tok) -> Node:
        kind = tok.kind
        if kind == "(":
            return self._group(tok)
        if kind == "ATLEAST":
            return self._atleast(tok)
        if kind in JOINERS:
            return self._chain(tok)
        if kind == "FIELD":
            if self.tok.kind in ("END", ")", ",", "OR", "AND", *PROXIMITY):
                raise self.error(
                    f"{tok.text}: needs a term or a group after it",
                    tok.pos,
                    f"e.g. {tok.text}:(lithium OR nickel)",
                )
            return FieldScope(tok.text, self.parse_primary(), tok.pos)  # type: ignore[arg-type]
        raise AssertionError(kind)  # pragma: no cover

    def _leaf(self, tok: Tok) -> Node:
        kind = tok.kind
        if kind == "WORD":
            return self._term(tok)
        if kind == "PHRASE":
            return self._phrase(tok)
        if kind == "REGEX":
            return self._regex(tok)
        if kind == "LIST":
            return ListRef(tok.text, tok.pos)
        if kind == ")":
            raise self.error(
                "unbalanced parenthesis", tok.pos, "this ) has no matching (: remove it or add ("
            )
        if kind == "END":
            raise self.error("the query ends too early", tok.pos, "add a term at the end")
        if kind in PROXIMITY:
            example = f"e.g. japan {kind}/5 korea"
            raise self.error(f"{kind} needs a term before it", tok.pos, example)
        if kind == ",":
            raise self.error("unexpected comma", tok.pos, COMMA_HINT)
        raise self.error(f"{kind} needs a term before it", tok.pos, "remove it or add a term")

    def _group(self, open_tok: Tok) -> Node:
        if self.tok.kind == ")":
            raise self.error("empty parentheses", open_tok.pos, "put a term inside, or remove ()")
        if self.tok.kind == "END":
            raise self.error(
                "unbalanced parenthesis", open_tok.pos, "this ( is never closed: add a )"
            )
        node = self.parse_or()
        if self.tok.kind != ")":
            if self.tok.kind == ",":
                raise self.error(
                    "unexpected comma",
                    self.tok.pos,
                    COMMA_HINT,
                )
            raise self.error(
                "unbalanced parenthesis", open_tok.pos, "this ( is never closed: add a )"
            )
        self.advance()
        return node

    def _atleast(self, tok: Tok) -> Node:
        num = self.advance()
        if num.kind != "WORD" or not num.text.isdigit() or not num.text.isascii():
            raise self.error("ATLEAST needs a number", tok.pos, ATLEAST_HINT)
        count = int(num.text)
        open_tok = self.advance()
        if open_tok.kind != "(":
            raise self.error("ATLEAST needs a list in parentheses", tok.pos, ATLEAST_HINT)
        children = [self.parse_or()]
        while self.tok.kind == ",":
            self.advance()
            children.append(self.parse_or())
        if self.tok.kind != ")":
            raise self.error(
                "unbalanced parenthesis", open_tok.pos, "this ( is never closed: add a )"
            )
        self.advance()
        if count < 1 or count > len(children):
            n = len(children)
            raise self.error(
                f"ATLEAST {count} can never be met by {n} term{'s' if n != 1 else ''}",
                tok.pos,
                f"use a number from 1 to {n}",
            )
        return AtLeast(count, tuple(children), tok.pos)

    def _chain(self, tok: Tok) -> Node:
        hint = CHAIN_HINTS[tok.kind]
        open_tok = self.advance()
        if open_tok.kind != "(":
            raise self.error(f"{tok.kind} needs its parts in parentheses", tok.pos, hint)
        if self.tok.kind == ")":
            raise self.error(f"{tok.kind} () has no parts", open_tok.pos, hint)
        children = [self.parse_or()]
        while self.tok.kind == ",":
            self.advance()
            children.append(self.parse_or())
        if self.tok.kind != ")":
            raise self.error(
                "unbalanced parenthesis", open_tok.pos, "this ( is never closed: add a )"
            )
        self.advance()
        if len(children) < 2:
            raise self.error(f"{tok.kind} needs two parts or more", tok.pos, hint)
        if len(children) > MAX_CHAIN:
            raise self.error(
                f"{tok.kind} has {len(children)} parts; at most {MAX_CHAIN} are allowed",
                tok.pos,
                "split it, or put alternatives in one part with OR",
            )
        return Chain(tok.kind, tuple(children), tok.pos)  # type: ignore[arg-type]

    def _term(self, tok: Tok) -> Node:
        word = tok.text
        prefix = word.endswith("*")
        body = word[:-1] if prefix else word
        self._check_words([body], tok, star_in=body)
        return Term(body, tok.pos, exact_case=written_in_capitals(body), prefix=prefix)

    def _phrase(self, tok: Tok) -> Node:
        words = tok.text.split()
        if not words:
            raise self.error("empty phrase", tok.pos, 'put words between the quotes, or remove ""')
        prefix = words[-1].endswith("*")
        if prefix:
            words[-1] = words[-1][:-1]
            if not words[-1]:
                words.pop()
        self._check_words(words, tok, star_in=" ".join(words))
        exact = any(written_in_capitals(w) for w in words)
        return Phrase(tuple(words), tok.pos, exact_case=exact, prefix=prefix)

    def _check_words(self, words: list[str], tok: Tok, star_in: str) -> None:
        if "*" in star_in:
            raise self.error(
                "a * wildcard only works at the end of a word",
                tok.pos + max(star_in.find("*"), 0) + (1 if tok.kind == "PHRASE" else 0),
                "e.g. miner* matches miner, miners, mineral",
            )
        if not any(tokenize(w) for w in words):
            shown = tok.text if tok.kind == "WORD" else f'"{tok.text}"'
            raise self.error(
                f"{shown} has no letters or digits to match",
                tok.pos,
                "a * wildcard needs letters before it, e.g. miner*"
                if "*" in tok.text
                else "remove it, or put it inside a quoted phrase with words",
            )

    def _regex(self, tok: Tok) -> Node:
        if not tok.text:
            raise self.error(
                "empty regular expression", tok.pos, "write a pattern, e.g. /U\\.S\\./"
            )
        try:
            with warnings.catch_warnings():  # engine_problem below reports what re warns of
                warnings.simplefilter("ignore", FutureWarning)
                re.compile(tok.text, re.IGNORECASE)
        except re.error as exc:
            col = tok.pos + 1 + (exc.pos or 0)
            raise self.error(
                f"invalid regular expression: {exc.msg}",
                col,
                "escape special characters with a backslash, e.g. \\. for a dot",
            ) from None
        problem = engine_problem(tok.text)
        if problem is not None:
            raise self.error(
                f"invalid regular expression: {problem}",
                tok.pos,
                "escape special characters with a backslash, e.g. \\[ for a bracket",
            )
        if nested_repeat(tok.text):
            raise self.error(
                "this regular expression repeats a repeat, which can take hours on a short text",
                tok.pos,
                "repeat once: write (a+)+ as a+, (\\w+\\s?)+ as [\\w\\s]+, or use words",
            )
        return Regex(tok.text, tok.pos)


def parse_query(text: str) -> Node:
    """Parse a query; raises QueryError(message, query, column, hint) when it is malformed."""
    return _Parser(text).parse()
