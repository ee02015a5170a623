"""Loading rules/*.yaml and rules/lists/*.yaml: line-accurate problems, versions, lists."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.config.rules import load_rules
from monitor.errors import ConfigError, MonitorError
from monitor.model import Item

GOOD_RULE = """\
name: Japan–Korea
description: >
  Bilateral relations.
priority: high
channel: "#jk"
query: |
  @japan NEAR/5 @korea
exclude: baseball
sources:
  langs: [EN, ko]
  countries: [kr]
min_score: 1
weight: 2
tags: [diplomacy]
examples:
  match:
    - "Japan and South Korea agree"
    - {title: "Talks", summary: "日本と韓国"}
  no_match:
    - Japan beat Korea at baseball
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def good_tree(root: Path) -> Path:
    return write(
        root,
        {
            "jk.yaml": GOOD_RULE,
            "lists/japan.yaml": "terms: [Japan, Tokyo, 日本]\n",
            "lists/korea.yaml": "description: Korea\ninclude: [korea-leaders]\n"
            "terms:\n  - South Korea\n  - ROK\n  - 韓国\n",
            "lists/korea-leaders.yaml": "terms:\n  - Yoon Suk Yeol\n",
        },
    )


def problems(root: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_rules(root)
    return info.value.format().replace(str(root) + "/", "")


def test_a_good_rule_set_loads(tmp_path: Path) -> None:
    book = load_rules(good_tree(tmp_path))
    rule = book.get("jk")
    assert rule.name == "Japan–Korea"
    assert rule.priority == "high"
    assert rule.channel == "#jk"
    assert rule.query.strip() == "@japan NEAR/5 @korea"
    assert rule.exclude == "baseball"
    assert rule.sources.langs == ("en", "ko")
    assert rule.sources.countries == ("KR",)
    assert (rule.min_score, rule.weight, rule.tags) == (1.0, 2.0, ("diplomacy",))
    assert [e.title for e in rule.match_examples] == ["Japan and South Korea agree", "Talks"]
    assert rule.match_examples[1].summary == "日本と韓国"
    assert rule.match_examples[0].line == 17
    assert rule.no_match_examples[0].title == "Japan beat Korea at baseball"
    assert len(rule.version) == 12
    assert set(book.lists) == {"japan", "korea", "korea-leaders"}
    assert book.lists["korea"].includes == ("korea-leaders",)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    item = Item("i", "f", None, "", "President Yoon Suk Yeol meets Japan PM", "", now, now)
    [match] = book.matcher.match(item)
    assert match.rule_id == "jk"
    assert match.rule_version == rule.version


def test_version_follows_the_definition_and_the_lists_used(tmp_path: Path) -> None:
    root = good_tree(tmp_path)
    before = load_rules(root).get("jk").version
    assert load_rules(root).get("jk").version == before  # stable
    write(root, {"jk.yaml": GOOD_RULE.replace("name: Japan–Korea", "name: Renamed")})
    assert load_rules(root).get("jk").version == before  # the name does not decide matching
    write(root, {"lists/korea-leaders.yaml": "terms:\n  - Yoon Suk Yeol\n  - Lee Jae-myung\n"})
    after_list = load_rules(root).get("jk").version
    assert after_list != before  # an included list changed
    write(root, {"jk.yaml": GOOD_RULE.replace("NEAR/5", "NEAR/6")})
    assert load_rules(root).get("jk").version not in (before, after_list)


def test_id_defaults_to_the_file_stem_and_must_equal_it(tmp_path: Path) -> None:
    write(tmp_path, {"a.yaml": "query: x\n", "b.yaml": "id: c\nquery: x\n"})
    assert problems(tmp_path) == (
        "b.yaml:1: id 'c' differs from the file name (use id: b, or rename the file to c.yaml)"
    )
    (tmp_path / "b.yaml").unlink()
    assert load_rules(tmp_path).get("a").name == "a"


def test_every_problem_in_every_file_is_listed(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "one.yaml": "name: One\nquerry: x\npriority: hgh\nquery: |\n"
            "  (@japan AND @korae)\n  NEAR/5 foo\nweight: heavy\n",
            "two.yaml": 'query: "lithium AND"\nexclude: >\n  baseball OR\n  (football\n',
            "three.yaml": "name: [unclosed\n",
            "four.yaml": "query: x\nsources:\n  kinds: [news, goverment]\n  lang: [en]\n"
            "examples:\n  match:\n    - {titel: x}\n    - 3\n  nomatch: []\n",
            "lists/japan.yaml": "terms: [Japan]\n",
            "lists/korea.yaml": "terms:\n  - Seoul\n  - mi*ner\n  - '@korea-x'\n",
            "lists/a.yaml": "include: [b]\nterms: [x]\n",
            "lists/b.yaml": "terms: ['@a', y]\n",
        },
    )
    assert problems(tmp_path).splitlines() == [
        "lists/korea.yaml:3: term 'mi*ner': a * wildcard only works at the end of a term, e.g. miner*",
        "lists/korea.yaml:4: unknown list @korea-x (did you mean @korea?)",
        "lists/a.yaml:1: circular include: @a → @b → @a (remove one of these includes)",
        "four.yaml:4: unknown key 'lang' in sources (did you mean 'langs'?)",
        "four.yaml:3: unknown kind 'goverment' (did you mean 'government'?)",
        "four.yaml:9: unknown key 'nomatch' in examples (did you mean 'no_match'?)",
        "four.yaml:7: unknown key 'titel' in an example (did you mean 'title'?)",
        "four.yaml:7: an example needs a title or summary",
        "four.yaml:8: an example is a title string or {title: …, summary: …}",
        "one.yaml:2: unknown key 'querry' in a rule (did you mean 'query'?)",
        "one.yaml:3: priority must be normal or high, not 'hgh' (did you mean 'high'?)",
        "one.yaml:7: weight must be a number (e.g. weight: 1)",
        "one.yaml:5:15: query: unknown list @korae (did you mean @korea?)",
        "      (@japan AND @korae)",
        "                  ^",
        "three.yaml:2:1: YAML syntax error: expected ',' or ']', but got '<stream end>'"
        " (check indentation and quoting around this line)",
        "two.yaml:1:17: query: AND needs a term after it (add a term after AND)",
        '    query: "lithium AND"',
        "                    ^",
        "two.yaml:4:3: exclude: unbalanced parenthesis (this ( is never closed: add a ))",
        "      (football",
        "      ^",
    ]


def test_query_columns_in_plain_and_folded_scalars(tmp_path: Path) -> None:
    write(tmp_path, {"p.yaml": "query: lithium OR\n  nickel )\n"})
    assert problems(tmp_path).splitlines()[0] == (
        "p.yaml:2:10: query: unbalanced parenthesis (this ) has no matching (: remove it or add ()"
    )


def test_a_list_may_include_with_at_in_terms(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "r.yaml": "query: '@all'\n",
            "lists/all.yaml": "terms: ['@one', zeta]\n",
            "lists/one.yaml": "terms: [alpha]\n",
        },
    )
    book = load_rules(tmp_path)
    assert book.lists["all"].includes == ("one",)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert book.matcher.match(Item("i", "f", None, "", "Alpha", "", now, now))


def test_missing_folder_and_unknown_rule(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_rules(tmp_path / "nope")
    assert info.value.format() == (
        f"{tmp_path / 'nope'}: rules folder not found "
        "(create it, or point --rules / MONITOR_RULES at it)"
    )
    book = load_rules(good_tree(tmp_path))
    with pytest.raises(MonitorError) as err:
        book.get("jkk")
    assert err.value.message == "unknown rule 'jkk'"
    assert err.value.hint == "did you mean 'jk'?"
