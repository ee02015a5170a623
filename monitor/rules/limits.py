"""Size limits of queries, rule files and term lists: no input may hang the monitor or grow
it without bound (a 3.9 MB rule file once took 16 s and 581 MB to check, 1.8 GB to poll).

Each limit is far above what the shipped pack needs (its longest query has 1,598 characters
and 154 tokens, its deepest nesting is 4, its longest list 200 terms) and is named, with its
value, in the message a user gets when it is hit. docs/rules.md lists them.
"""

from __future__ import annotations

MAX_QUERY_CHARS = 10_000  # characters in one query or exclude
MAX_QUERY_TOKENS = 1_000  # words, phrases, lists, regexes, operators, parentheses
MAX_DEPTH = 32  # nesting of (...), NOT, title:/summary:, ATLEAST and NEAR/BEFORE chains
MAX_RULE_FILE_BYTES = 256_000  # one rules/*.yaml file
MAX_LIST_FILE_BYTES = 1_000_000  # one rules/lists/*.yaml file
MAX_LIST_TERMS = 20_000  # entries in one term list
MAX_TERM_CHARS = 200  # characters in one list entry
MAX_NOT_IN = 100  # words one list entry is not read inside (not_in)
MAX_TOTAL_TERMS = 100_000  # entries of all lists together
