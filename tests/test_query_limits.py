"""Query bombs (issue 10, points 7 and 8): nesting, operator count and length are limited in
the parser, with a caret message and exit 2, for `monitor search` and for rules; whatever
the parser accepts, SQLite accepts too (the queries at the limit run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.cli import cli
from monitor.rules.limits import (
    MAX_DEPTH,
    MAX_LIST_FILE_BYTES,
    MAX_LIST_TERMS,
    MAX_QUERY_CHARS,
    MAX_QUERY_TOKENS,
    MAX_RULE_FILE_BYTES,
    MAX_TERM_CHARS,
    MAX_TOTAL_TERMS,
)
from tests.test_archive_store import build_archive


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("limits") / "monitor.db"
    build_archive(path)
    return path


def search(db: Path, query: str, rules: Path | None = None) -> Result:
    opts = ["--db", str(db), "--rules", str(rules or db.parent / "no-rules")]
    args = [*opts, "search", query, "--format", "json"]
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def deep(n: int) -> str:
    return "(" * n + "copper" + ")" * n


@pytest.mark.parametrize(
    ("query", "message", "column"),
    [
        (deep(170), f"the query nests more than {MAX_DEPTH} levels deep", MAX_DEPTH + 1),
        ("NOT " * 200 + "copper", f"the query nests more than {MAX_DEPTH} levels deep", 129),
        (  # a BEFORE (or NEAR) chain nests to the left: the 33rd operator is one too many
            "copper" + " BEFORE/1 copper" * 40,
            f"the query nests more than {MAX_DEPTH} levels deep",
            8 + MAX_DEPTH * 16,
        ),
        (
            "NOT " * 5000 + "copper",
            f"the query is longer than {MAX_QUERY_CHARS:,} characters",
            None,
        ),
        (
            " OR ".join(f"w{i}" for i in range(1000)),
            f"the query has more than {MAX_QUERY_TOKENS:,} words and operators",
            None,
        ),
        (
            "copper " + "x" * MAX_QUERY_CHARS,
            f"the query is longer than {MAX_QUERY_CHARS:,} characters",
            MAX_QUERY_CHARS + 1,
        ),
    ],
    ids=["170-parentheses", "200-nots", "40-befores", "5000-nots", "1000-ored-terms", "long-query"],
)
def test_query_bombs_get_a_caret_message_and_exit_2(
    db_path: Path, query: str, message: str, column: int | None
) -> None:
    result = search(db_path, query)
    assert result.exit_code == 2, result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"Error: {message} (column ")
    if column is not None:
        assert first == f"Error: {message} (column {column})"
    assert "^" in result.stderr
    assert "Hint: " in result.stderr
    assert "Traceback" not in result.output


def _ids(result: Result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [row["title"] for row in json.loads(result.stdout)]


def test_queries_at_the_limits_run_in_sqlite(db_path: Path) -> None:
    plain = _ids(search(db_path, "copper"))
    assert plain
    assert _ids(search(db_path, deep(MAX_DEPTH))) == plain
    assert _ids(search(db_path, "NOT " * MAX_DEPTH + "copper")) == plain  # an even number
    # as many ORed terms as the token limit allows: the scan predicate is kept shallow
    words = [f"zq{i}" for i in range((MAX_QUERY_TOKENS + 1) // 2 - 1)] + ["copper"]
    assert _ids(search(db_path, " OR ".join(words))) == plain
    # a CJK word forces the instr() scan, which nests in SQL (SQLite stops at depth 1,000)
    cjk = [f"日本{i}" for i in range((MAX_QUERY_TOKENS + 1) // 2 - 1)] + ["copper"]
    assert _ids(search(db_path, " OR ".join(cjk))) == plain


@pytest.mark.parametrize("size", [1500, 9000])  # SQL of 6,000 parameters; too many for SQL
def test_a_big_list_in_a_search_runs_in_sqlite(db_path: Path, tmp_path: Path, size: int) -> None:
    (tmp_path / "lists").mkdir()
    # two-character Hangul words: too short for the trigram index, so they go to instr()
    hangul = [chr(0xAC00 + i) + chr(0xAC00 + i + 1) for i in range(size)]
    terms = "".join(f"  - {h}\n  - zq{i}\n" for i, h in enumerate(hangul))
    (tmp_path / "lists" / "big.yaml").write_text(f"terms:\n{terms}  - copper\n", "utf-8")
    assert _ids(search(db_path, "@big", rules=tmp_path)) == _ids(search(db_path, "copper"))


# --- in rule files: FILE:LINE:COL, exit 2, for `rules check`, `config check` and `poll` -----


def rules_cli(rules: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--rules", str(rules), *args], catch_exceptions=False)


@pytest.mark.parametrize("command", [("rules", "check"), ("config", "check")])
def test_a_rule_nesting_300_parentheses_is_a_problem_with_its_column(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    rule = tmp_path / "deep.yaml"
    rule.write_text(f"name: Deep\nquery: {deep(300)}\n", encoding="utf-8")
    result = rules_cli(tmp_path, *command)
    assert result.exit_code == 2
    col = len("query: ") + MAX_DEPTH + 1
    assert (
        f"{rule}:2:{col}: query: the query nests more than {MAX_DEPTH} levels deep "
        "(remove parentheses or NOTs: (((a))) is a, NOT NOT a is a)\n"
    ) in result.output
    assert "Traceback" not in result.output


def test_a_rule_at_the_depth_limit_loads_and_matches(tmp_path: Path) -> None:
    (tmp_path / "deep.yaml").write_text(
        f"name: Deep\nquery: {deep(MAX_DEPTH)}\n"
        "examples:\n  match: [Copper prices rise]\n  no_match: [Gold prices rise]\n",
        encoding="utf-8",
    )
    assert rules_cli(tmp_path, "rules", "check").exit_code == 0
    result = rules_cli(tmp_path, "rules", "test")
    assert result.exit_code == 0, result.output
    assert "2 passed, 0 failed" in result.output


def test_a_regex_repeating_a_repeat_fails_rules_check(tmp_path: Path) -> None:
    rule = tmp_path / "bomb.yaml"
    rule.write_text("name: Bomb\nquery: 'lithium /(a+)+$/'\n", encoding="utf-8")
    result = rules_cli(tmp_path, "rules", "check")
    assert result.exit_code == 2
    assert result.output.startswith(
        f"{rule}:2:17: query: this regular expression repeats a repeat, which can take hours"
        " on a short text (repeat once: write (a+)+ as a+"
    )


def test_poll_refuses_a_rule_nesting_300_parentheses(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    rule = tmp_path / "rules" / "deep.yaml"
    rule.write_text(f"name: Deep\nquery: {deep(300)}\n", encoding="utf-8")
    (tmp_path / "feeds.yaml").write_text(
        "feeds:\n  - id: a\n    name: A\n    url: http://127.0.0.1:9/a.xml\n"
        "    kind: news\n    lang: en\n",
        encoding="utf-8",
    )
    opts = ["--feeds", str(tmp_path / "feeds.yaml"), "--rules", str(tmp_path / "rules")]
    opts += ["--settings", str(tmp_path / "monitor.yaml"), "--db", str(tmp_path / "a.db")]
    result = CliRunner().invoke(cli, [*opts, "poll", "--once"], catch_exceptions=False)
    assert result.exit_code == 2
    assert f"{rule}:2:{len('query: ') + MAX_DEPTH + 1}: query: the query nests" in result.output
    assert not (tmp_path / "a.db").exists()


# --- file and list sizes (point 8) ------------------------------------------------------------


def test_a_rule_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    rule = tmp_path / "huge.yaml"
    filler = "# " + "x" * 98 + "\n"
    rule.write_text("name: Huge\nquery: copper\n" + filler * (MAX_RULE_FILE_BYTES // 100))
    result = rules_cli(tmp_path, "rules", "check")
    assert result.exit_code == 2
    assert result.output == (
        f"{rule}: larger than {MAX_RULE_FILE_BYTES // 1000:,} KB, the limit for a rule file"
        " (split it into several files; term lists can include each other)\n"
        "Error: 1 problem found\n"
    )


def test_a_list_over_its_limits_is_refused(tmp_path: Path) -> None:
    (tmp_path / "lists").mkdir()
    (tmp_path / "watch.yaml").write_text("name: W\nquery: '@many OR @long'\n", "utf-8")
    many = tmp_path / "lists" / "many.yaml"
    many.write_text("terms:\n" + "".join(f"  - t{i}\n" for i in range(MAX_LIST_TERMS + 1)), "utf-8")
    long = tmp_path / "lists" / "long.yaml"
    long.write_text(f"terms:\n  - copper\n  - {'x' * (MAX_TERM_CHARS + 1)}\n", "utf-8")
    big = tmp_path / "lists" / "big.yaml"
    big.write_text("terms: [copper]\n" + "#" * MAX_LIST_FILE_BYTES + "\n", "utf-8")
    result = rules_cli(tmp_path, "rules", "check")
    assert result.exit_code == 2
    assert (
        f"{big}: larger than {MAX_LIST_FILE_BYTES // 1000:,} KB, the limit for a term list"
    ) in result.output
    assert (
        f"{long}:3: a term longer than {MAX_TERM_CHARS} characters (the limit)"
    ) in result.output
    assert (
        f"{many}:{MAX_LIST_TERMS + 2}: more than {MAX_LIST_TERMS:,} terms in one list"
        " (the limit) (split it into several lists and join them with include:)"
    ) in result.output


def test_all_lists_together_have_a_limit(tmp_path: Path) -> None:
    (tmp_path / "lists").mkdir()
    (tmp_path / "watch.yaml").write_text("name: W\nquery: copper\n", "utf-8")
    per = MAX_LIST_TERMS
    n = MAX_TOTAL_TERMS // per + 1
    for k in range(n):
        body = "".join(f"  - t{k}x{i}\n" for i in range(per))
        (tmp_path / "lists" / f"l{k}.yaml").write_text(f"terms:\n{body}", "utf-8")
    result = rules_cli(tmp_path, "rules", "check")
    assert result.exit_code == 2
    assert (
        f"{tmp_path / 'lists'}: {n * per:,} terms in all lists together, more than the limit"
        f" of {MAX_TOTAL_TERMS:,} (remove terms that no rule needs)\n"
    ) in result.output


@pytest.mark.parametrize("pattern", ["[[:alpha:]]+", "[a&&b]"])
def test_a_regex_the_engines_would_read_differently_fails_rules_check(
    tmp_path: Path, pattern: str
) -> None:
    rule = tmp_path / "odd.yaml"
    rule.write_text(f"name: Odd\nquery: '/{pattern}/'\n", encoding="utf-8")
    result = rules_cli(tmp_path, "rules", "check")
    assert result.exit_code == 2
    assert result.output.startswith(
        f"{rule}:2:9: query: invalid regular expression: a [ or a set operator (--, &&, ~~, ||)"
        " inside [...] is ambiguous (escape special characters with a backslash, e.g. \\[ for"
    )
