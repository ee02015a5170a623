"""Matching semantics: operators, case, normalisation, CJK, NEAR, hits, scores, the Matcher."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.model import FeedSource, Hit, Item, Rule, SourceFilter
from monitor.rules.compile import compile_query
from monitor.rules.context import Context
from monitor.rules.literals import literal_pattern
from monitor.rules.matcher import Matcher
from monitor.rules.parser import parse_query
from monitor.rules.regexlit import necessary_literals
from monitor.rules.scan import Vocabulary
from monitor.rules.termlist import TermList
from monitor.rules.text import _GAP_RE, GAP, TOKEN_RE, Analyzed, fold_text

LISTS = {
    "japan": TermList("japan", ("Japan", "Tokyo", "日本", "일본")),
    "korea": TermList("korea", ("South Korea", "ROK", "Seoul", "한국", "韓国"), ("korea-leaders",)),
    "korea-leaders": TermList("korea-leaders", ("Yoon Suk Yeol", "Lee Jae-myung")),
    "minerals": TermList("minerals", ("lithium", "rare earth*", "graphite")),
}


def matches(query: str, title: str, summary: str = "") -> bool:
    return compile_query(parse_query(query), LISTS, query=query).evaluate(title, summary).matched


def hits(query: str, title: str, summary: str = "") -> list[tuple[str, str, str]]:
    result = compile_query(parse_query(query), LISTS, query=query).evaluate(title, summary)
    text = {"title": title, "summary": summary}
    return [(h.term, h.field, text[h.field][h.start : h.end]) for h in result.hits]


# --- operators --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "title", "expected"),
    [
        ("lithium", "LITHIUM prices", True),
        ("lithium", "lithiumion", False),  # whole words only
        ("lithium nickel", "lithium and nickel", True),
        ("lithium nickel", "lithium only", False),
        ("lithium AND nickel", "nickel, then lithium", True),
        ("lithium OR nickel", "nickel only", True),
        ("lithium OR nickel", "cobalt only", False),
        ("NOT lithium", "cobalt", True),
        ("NOT lithium", "lithium", False),
        ("lithium NOT medicine", "lithium medicine", False),
        ("(lithium OR nickel) mine", "nickel mine closes", True),
        ("miner*", "Minerals", True),
        ("miner*", "undermine", False),
        ('"rare earth"', "rare-earth magnets", True),
        ('"rare earth"', "earth is rare", False),
        ('"rare earth*"', "rare earths", True),
        ("ATLEAST 2 (a1, b1, c1)", "a1 c1", True),
        ("ATLEAST 2 (a1, b1, c1)", "a1 a1", False),
        ("ATLEAST 2 (a1, (b1 OR c1), d1 e1)", "d1 x e1 c1", True),
        (r"/lithium[- ]ion/", "Lithium-ion cells", True),
        (r"/lithium[- ]ion/", "lithium cells", False),
        ("@minerals", "Rare earths export curbs", True),
        ("@korea", "President Yoon Suk Yeol", True),  # via include
    ],
)
def test_operators(query: str, title: str, expected: bool) -> None:
    assert matches(query, title) is expected


def test_fields() -> None:
    assert matches("title:lithium", "Lithium deal", "")
    assert not matches("title:lithium", "Deal", "lithium")
    assert matches("summary:lithium", "Deal", "lithium")
    assert matches("title:deal summary:lithium", "Deal", "lithium")
    assert matches("lithium nickel", "lithium", "nickel")  # AND spans fields
    assert not matches("title:(lithium nickel)", "lithium", "nickel")


# --- case ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    ["Let us go", "Tell us more", "us", "Join us later? no: us", "bonus", "U-S ties"],
)
def test_capital_terms_never_match_lower_case(title: str) -> None:
    assert not matches("US", title)


def test_capital_terms_match_their_case() -> None:
    assert matches("US", "US and Japan")
    assert matches("US", "The US-Japan alliance")
    assert matches("US", "US's chips")
    assert matches("ROK", "ROK Navy")
    assert not matches("ROK", "Rok Navy")
    assert matches("U.S.", "The U.S. said")
    assert not matches("U.S.", "Call u.s. now")
    assert matches('"US envoy"', "US envoy visits")
    assert not matches('"US envoy"', "us envoy visits")
    assert matches('"US envoy"', "US Envoy visits")  # only the capitals word is exact
    assert matches("@korea", "ROK Navy")
    assert not matches("@korea", "rok navy")
    assert matches("METI*", "METI's plan")
    assert not matches("METI*", "meticulous")


def test_lower_case_terms_match_any_case() -> None:
    assert matches("japan", "JAPAN")
    assert matches("Japan", "japan")


# --- normalisation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ('"Japan-South Korea"', "Japan–South Korea summit"),
        ('"Japan-South Korea"', "Japan—South Korea summit"),
        ('"Japan–South Korea"', "Japan-South Korea summit"),
        ('"Japan South Korea"', "Japan‐South Korea summit"),
        ("Japan", "Japan's envoy"),
        ("Japan", "Japan’s envoy"),
        ('"Japan envoy"', "Japan’s envoy"),
        ('"Japan\'s envoy"', "Japan envoy"),
        ("Japan", "ＪＡＰＡＮ"),
        ("ｊａｐａｎ", "Japan"),
        ("don't", "They don’t agree"),
        ("Straße", "STRASSE news"),
        ("café", "Cafe\u0301 owners"),
    ],
)
def test_normalisation_on_both_sides(query: str, title: str) -> None:
    assert matches(query, title)


# --- CJK ----------------------------------------------------------------------------------------


def test_cjk_terms_match_inside_runs() -> None:
    assert matches("한국", "한국은 일본과")
    assert matches("한국", "대한민국 한국정부")
    assert not matches("한국", "대한민국")  # 대한민국 is 대-한-민-국: no 한국 inside
    assert matches("日本", "日本政府は")
    assert matches("@korea", "韓国政府")
    assert matches("@japan AND @korea", "日本と韓国")
    assert matches("ｶﾀｶﾅ", "カタカナ")  # half-width katakana is NFKC-normalised
    assert not matches("日本", "中国")


def test_cjk_characters_apart_in_the_text_are_not_adjacent() -> None:
    assert matches("日韓", "日韓首脳会談")
    assert not matches("日韓", "20日、韓国政府は")
    assert not matches("일본", "30일 본회의")
    assert matches("일본", "일본은")
    assert matches('"한국 정부"', "한국 정부는")
    assert matches('"한국 정부"', "한국, 정부")
    assert not matches('"한국 정부"', "한국정부")
    assert matches("日本 NEAR/1 韓国", "日本、韓国")  # NEAR still counts characters
    assert matches("LG에너지", "LG에너지솔루션")
    assert matches('"rare earth"', "rare, earth")


def test_near_counts_characters_in_cjk() -> None:
    assert matches("@japan NEAR/1 @korea", "日本と韓国")  # one character between
    assert not matches("@japan NEAR/0 @korea", "日本と韓国")
    assert matches("@japan NEAR/0 @korea", "日本韓国")
    assert matches("일본 NEAR/3 한국", "한국과 일본은")
    assert not matches("일본 NEAR/3 한국", "한국 정부는 오늘 일본")


# --- NEAR ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Japan and Korea", True),
        ("Korea and Japan", True),  # either order
        ("Japan meets with the Korea team", True),  # 3 words between
        ("Japan meets with the new Korea team", False),  # 4 words between
        ("Japan", False),
    ],
)
def test_near_both_orders(title: str, expected: bool) -> None:
    assert matches("japan NEAR/3 korea", title) is expected


def test_near_with_phrases_and_groups() -> None:
    assert matches('"rare earth" NEAR/2 "export controls"', "export controls on rare earth")
    assert matches('"rare earth" NEAR/2 "export controls"', "rare earth magnets export controls")
    assert not matches(
        '"rare earth" NEAR/2 "export controls"', "rare earth and lots of other export controls"
    )
    assert matches("(lithium OR nickel) NEAR/1 (mine OR refinery)", "nickel refinery")
    assert matches("@japan NEAR/3 @korea", "South Korea and Japan")
    assert not matches("title:japan NEAR/3 korea", "x", "japan korea")


def test_near_stays_within_one_field() -> None:
    assert not matches("japan NEAR/3 korea", "Japan", "Korea")
    assert matches("japan NEAR/3 korea", "Japan", "Korea and Japan")


def test_one_occurrence_is_not_near_itself() -> None:
    assert not matches("seoul NEAR/3 @korea", "Seoul acts")
    assert matches("seoul NEAR/3 @korea", "Seoul and Tokyo and South Korea")


# --- BEFORE -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Japan and Korea", True),
        ("Korea and Japan", False),  # in that order only
        ("Japan meets with the Korea team", True),  # 3 words between
        ("Japan meets with the new Korea team", False),  # 4 words between
        ("Korea and Japan and Korea", True),  # the second Korea comes after Japan
        ("Japan", False),
    ],
)
def test_before_keeps_the_order(title: str, expected: bool) -> None:
    assert matches("japan BEFORE/3 korea", title) is expected


def test_before_with_phrases_groups_lists_and_cjk() -> None:
    assert matches('"rare earth" BEFORE/2 "export controls"', "rare earth magnets export controls")
    assert not matches('"rare earth" BEFORE/2 "export controls"', "export controls on rare earth")
    assert matches("(lithium OR nickel) BEFORE/1 (mine OR refinery)", "nickel refinery")
    assert not matches("(lithium OR nickel) BEFORE/1 (mine OR refinery)", "refinery nickel")
    # term lists on either side: the rule pack's "Japan, South Korea" word order
    assert matches("@japan BEFORE/1 @korea", "Japan and South Korea agree")
    assert matches("@japan BEFORE/1 @korea", "Japan's South Korea policy")  # possessive dropped
    assert not matches("@japan BEFORE/1 @korea", "South Korea and Japan agree")
    # CJK counts characters, as for NEAR
    assert matches("@japan BEFORE/1 @korea", "日本と韓国")
    assert not matches("@japan BEFORE/0 @korea", "日本と韓国")
    assert matches("@japan BEFORE/0 @korea", "日本韓国")
    assert not matches("@japan BEFORE/5 @korea", "韓国と日本")
    assert matches("일본 BEFORE/3 한국", "일본과 한국은")
    assert not matches("일본 BEFORE/3 한국", "한국과 일본은")


def test_before_stays_within_one_field_and_is_never_before_itself() -> None:
    assert not matches("japan BEFORE/3 korea", "Japan", "Korea")
    assert matches("japan BEFORE/3 korea", "Korea", "Japan and Korea")
    assert not matches("seoul BEFORE/3 @korea", "Seoul acts")
    assert matches("seoul BEFORE/3 @korea", "Seoul and South Korea")
    assert not matches("a BEFORE/2 a", "a")
    assert matches("a BEFORE/2 a", "a b a")


def test_before_hits_explanation_and_score() -> None:
    query = "@japan BEFORE/3 @korea"
    assert hits(query, "Japan–South Korea talks") == [
        ("Japan", "title", "Japan"),
        ("South Korea", "title", "South Korea"),
    ]
    compiled = compile_query(parse_query(query), LISTS)
    assert compiled.evaluate("Japan and South Korea").score == 2 + 2 + (4 - 1) / 4
    assert compiled.evaluate("x", "Japan and South Korea").score == 1 + 1 + (4 - 1) / 4
    expl = compiled.explain("South Korea and Japan")
    assert (expl.label, expl.value) == ("BEFORE/3", False)
    assert [(c.label, c.value, c.found) for c in expl.children] == [
        ("@japan", True, ["Japan"]),
        ("@korea", True, ["South Korea"]),
    ]


# --- hits ---------------------------------------------------------------------------------------


def test_hits_carry_term_field_and_original_span() -> None:
    assert hits("@japan NEAR/3 @korea", "Japan–South Korea talks") == [
        ("Japan", "title", "Japan"),
        ("South Korea", "title", "South Korea"),
    ]
    assert hits("lithium", "Lithium", "more lithium here") == [
        ("lithium", "title", "Lithium"),
        ("lithium", "summary", "lithium"),
    ]


def test_hit_offsets_survive_normalisation_that_changes_length() -> None:
    title = "ﬁrst: Straße Café\u0301 — ＪＡＰＡＮ’s 한국 deal"
    got = hits('japan OR straße OR café OR 한국 OR "first"', title)
    assert ("japan", "title", "ＪＡＰＡＮ") in got
    assert ("straße", "title", "Straße") in got
    assert ("café", "title", "Café\u0301") in got
    assert ("한국", "title", "한국") in got
    assert ('"first"'.strip('"'), "title", "ﬁrst") in got


def test_hits_leave_out_negated_terms() -> None:
    assert hits("lithium NOT (medicine NOT mine)", "lithium mine") == [
        ("lithium", "title", "lithium")
    ]


def test_regex_hits() -> None:
    assert hits(r"/U\.S\./", "The U.S. says") == [(r"/U\.S\./", "title", "U.S.")]


# --- scoring ------------------------------------------------------------------------------------


def test_score_counts_distinct_terms_title_double_and_near_bonus() -> None:
    def score(q: str, t: str, s: str = "") -> float:
        return compile_query(parse_query(q), LISTS).evaluate(t, s).score

    assert score("lithium", "lithium lithium") == 2.0
    assert score("lithium", "x", "lithium") == 1.0
    assert score("lithium nickel", "lithium", "nickel") == 3.0
    assert score("japan NEAR/3 korea", "japan korea") == 5.0  # 2 + 2 + (4 - 0) / 4
    assert score("japan NEAR/3 korea", "japan a b korea") == 4.5  # 2 + 2 + (4 - 2) / 4


# --- the Matcher --------------------------------------------------------------------------------

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def item(title: str, summary: str = "", lang: str | None = None, item_id: str = "i1") -> Item:
    return Item(item_id, "f", None, "", title, summary, NOW, NOW, lang=lang)


def feed(kind: str = "news", country: str = "KR", lang: str = "en", fid: str = "yna") -> FeedSource:
    return FeedSource(fid, fid, "http://x", kind, country, lang, 900)  # type: ignore[arg-type]


def rule(rid: str, query: str, **kw: object) -> Rule:
    return replace(Rule(rid, rid, query), version=f"v-{rid}", **kw)  # type: ignore[arg-type]


def test_matcher_matches_and_orders_by_score() -> None:
    m = Matcher(
        [
            rule("jk", "@japan NEAR/5 @korea"),
            rule("min", "@minerals", weight=0.5),
            rule("nothing", "zzz"),
        ],
        LISTS,
    )
    got = m.match(item("Japan and South Korea talk lithium"))
    assert [(x.rule_id, x.score, x.rule_version) for x in got] == [
        ("jk", 4.833, "v-jk"),  # 2 + 2 + (6 - 1) / 6
        ("min", 1.0, "v-min"),
    ]
    assert got[0].hits == (Hit("Japan", "title", 0, 5), Hit("South Korea", "title", 10, 21))
    assert m.match(item("nothing here")) == []


def test_matcher_exclude_min_score_and_sources() -> None:
    m = Matcher(
        [
            rule("ex", "japan", exclude="baseball"),
            rule("min", "japan", min_score=3),
            rule("kr", "japan", sources=SourceFilter(countries=("KR",), kinds=("news",))),
            rule("ko", "japan", sources=SourceFilter(langs=("ko",))),
            rule("feed", "japan", sources=SourceFilter(feeds=("other",))),
        ],
        LISTS,
    )

    def ids(it: Item, fd: FeedSource | None = None) -> list[str]:
        return sorted(x.rule_id for x in m.match(it, fd))

    assert ids(item("Japan")) == ["ex", "feed", "ko", "kr"]  # no feed: only langs apply
    assert ids(item("Japan", "baseball")) == ["feed", "ko", "kr"]
    assert ids(item("Japan Japan", "japan tokyo")) == ["ex", "feed", "ko", "kr"]
    assert ids(item("Japan"), feed(country="KR", lang="ko")) == ["ex", "ko", "kr"]
    assert ids(item("Japan"), feed(country="JP", lang="en")) == ["ex"]
    assert ids(item("Japan", lang="ko"), feed(country="JP", lang="en")) == ["ex", "ko"]
    assert ids(item("Japan"), feed(kind="government")) == ["ex"]
    assert ids(item("Japan", "Korea japanese"), feed(fid="other")) == ["ex", "feed", "kr"]


def test_presearcher_evaluates_only_candidate_rules() -> None:
    rules = [rule(f"r{i}", f"(word{i} OR other{i}) AND the") for i in range(200)]
    rules.append(rule("neg", "NOT zzz"))
    rules.append(rule("rx", r"/\bword7\b/"))
    m = Matcher(rules, LISTS)
    ctx = m.context("word7 and the things", "")
    candidates = [m.compiled[i].rule.id for i in m.candidates(ctx)]
    assert sorted(candidates) == ["neg", "r7", "rx"]  # indexed by the rarer side of the AND
    assert [x.rule_id for x in m.match(item("word7 and the things"))] == ["r7", "rx", "neg"]


def test_candidates_need_every_clause_met_in_its_field() -> None:
    many = " AND ".join(f"w{i}" for i in range(7))  # more clauses than the masks keep
    m = Matcher([rule("t", "title:(alpha) AND beta"), rule("many", many)], LISTS)

    def candidates(title: str, summary: str) -> list[str]:
        return [m.compiled[i].rule.id for i in m.candidates(m.context(title, summary))]

    assert candidates("alpha", "beta") == ["t"]
    assert candidates("beta", "alpha") == []  # alpha must be in the title
    assert candidates("w0 w1 w2 w3", "w4 w5 w6") == ["many"]
    # Only some clauses are kept for choosing candidates; the full query decides the rest.
    for missing in range(7):
        words = " ".join(f"w{i}" for i in range(7) if i != missing)
        assert m.match(item(words)) == []


def test_regexes_sharing_a_matcher_look_for_their_literals_per_field() -> None:
    m = Matcher(
        [
            rule("tons", r"/\d+ tons? of (?:lithium|nickel)/"),
            rule("seoul", r"title:/(?-i:\bSeoul\b)|한국/"),
        ],
        LISTS,
    )
    ids = lambda title, summary="": [x.rule_id for x in m.match(item(title, summary))]  # noqa: E731
    assert ids("Output", "500 tons of Lithium shipped") == ["tons"]
    assert ids("500 tonnes of lithium") == []  # the literal " ton" is there, the regex fails
    assert ids("Seoul summit", "5 tons of nickel") == ["seoul", "tons"]
    assert ids("Summit", "Seoul 한국") == []  # the literals only in the summary
    assert ids("한국 정부") == ["seoul"]
    # A regex's literals choose candidates like terms do: none here, so nothing is evaluated.
    assert m.candidates(m.context("Output rose", "500 tons of oil")) == []
    assert m.candidates(m.context("Output rose", "nickel prices")) == [0]  # then it runs
    assert ids("Output rose", "nickel prices") == []


def test_search_and_rule_share_one_implementation() -> None:
    query = '@japan NEAR/5 @korea NOT "baseball"'
    m = Matcher([rule("r", query)], LISTS)
    compiled = compile_query(parse_query(query), LISTS, query=query)
    for title in ["Japan and Korea", "Seoul and Tokyo", "Japan Korea baseball", "日本と韓国"]:
        assert bool(m.match(item(title))) is compiled.evaluate(title, "").matched


def test_literal_and_required_terms_for_prefilters() -> None:
    compiled = compile_query(parse_query('(lithium OR "rare earth*") mine NOT medicine'), LISTS)
    assert compiled.literal_terms() == ("lithium", "rare earth*", "mine")
    assert compiled.required_terms() == (("lithium", "rare earth*"), ("mine",))
    assert compile_query(parse_query("NOT a")).required_terms() is None
    listed = compile_query(parse_query("@japan"), LISTS).required_terms()
    assert listed == (("Japan", "Tokyo", "日本", "일본"),)


TEXT = st.text(
    alphabet=st.sampled_from([*list("ab US's-’、。 日本韓国한국́ﬁＪ\x00_."), "\u3000"]),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(TEXT, st.sampled_from(["a", "US", "日本", "한국", '"a b"', "ab*", "日本 NEAR/2 韓国"]))
def test_tokens_and_hits_stay_consistent_on_any_text(text: str, query: str) -> None:
    an = Analyzed(text)
    assert all(0 <= a < b <= len(an.folded) for a, b in an.spans)
    result = compile_query(parse_query(query)).evaluate(text, text)
    for hit in result.hits:
        assert 0 <= hit.start < hit.end <= len(text)


# The definition of a literal match: the folded text cut into tokens by TOKEN_RE, a GAP token
# where CJK characters are separated, and the literal's tokens equal to a run of them (the
# last one a prefix for ``term*``). The matcher never builds this list; it scans the folded
# text and checks boundaries, and must find exactly the same occurrences.
def reference_spans(text: str, key: str) -> set[tuple[int, int]]:
    folded = fold_text(text)
    # The GAP runs as a GAP token padded to their length, so offsets stay those of ``folded``.
    padded = _GAP_RE.sub(lambda m: GAP + " " * (len(m.group()) - 1), folded)
    toks = [(m.group(1), m.start(1), m.end(1)) for m in TOKEN_RE.finditer(padded)]
    want = [t for t in key.split(" ") if t]
    prefix = not key.endswith(" ")
    out = set()
    for i in range(len(toks) - len(want) + 1):
        run = toks[i : i + len(want)]
        last = len(want) - 1
        if all(
            got == w or (j == last and prefix and w != GAP and got != GAP and got.startswith(w))
            for j, ((got, _, _), w) in enumerate(zip(run, want, strict=True))
        ):
            out.add((run[0][1], run[-1][2]))
    return out


SCAN_TEXT = st.text(
    alphabet=st.sampled_from(
        [
            *"ab sUSo's-\u2019'\u3001\u3002 日本韓国한국lg\u0301\ufb01\uff2a_.1",
            *["\u3000", "ß", "\u2026", "\uff76", "\uff9e", "\u30fb", "\u30fc", "\u3099"],
            "\u3097",  # unassigned, inside the Hiragana block
        ]
    ),
    max_size=40,
)
TERMS = [
    "a", "ab", "s", "US", "b a", "ab*", "a*", "o's", "o'b", "1", "日", "日本", "本", "日 本",
    "한국", "lg한국", "lg 한", "a 日本", "日本 a", "ss", "ガ", "a.b", "国 lg*", "日・本", "s 日",
    "b's", "ab's a",
]  # fmt: skip


# Text without CJK takes another path (words spaced out, found whole by the automaton).
WORD_TEXT = st.text(
    alphabet=st.sampled_from(
        list("ab sUSo's-\u2019'_.1 ,\u00e9\u0301\ufb01\uff2a\u00a0\u2026\u00df\u00c9\"")
    ),
    max_size=40,
)


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(SCAN_TEXT, WORD_TEXT),
    st.lists(st.sampled_from(TERMS), min_size=1, max_size=5, unique=True),
)
def test_scanning_folded_text_finds_what_a_token_list_finds(text: str, terms: list[str]) -> None:
    vocab = Vocabulary()
    patterns = [literal_pattern(t) for t in terms]
    kids = [vocab.add(p.key) for p in patterns]
    ctx = Context(vocab, text, "")
    for p, kid in zip(patterns, kids, strict=True):
        found = set(ctx.fields["title"].occ.get(kid, []))
        assert found == reference_spans(text, p.key), (text, p.key)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab 's,_-日本\u00e9.")), max_size=40))
def test_near_counts_the_tokens_a_token_list_has_between(text: str) -> None:
    an = Analyzed(text)
    padded = _GAP_RE.sub(lambda m: GAP + " " * (len(m.group()) - 1), an.folded)
    spans = [m.span(1) for m in TOKEN_RE.finditer(padded) if m.group(1) != GAP]
    for i, (_, end) in enumerate(spans):
        for j in range(i + 1, len(spans)):
            assert an.tokens_between(end, spans[j][0], 99) == j - i - 1, (text, i, j)


@pytest.mark.parametrize(
    ("pattern", "needs"),
    [
        (r"(?<![\d々])日(?=[米韓])|일본|(?-i:\bTokyo\b)", {"日", "일본", "tokyo"}),
        (r"(?:Japan|Tokyo)-(?:South Korea|Korea)", {"japan", "tokyo"}),
        ("colou?r", {"colo"}),
        (r"\d+ tons?", {" ton"}),
        (r"\d+", None),
        ("a|\\w+", None),
    ],
)
def test_a_regex_is_skipped_only_when_a_text_lacks_its_necessary_literals(
    pattern: str, needs: set[str] | None
) -> None:
    got = necessary_literals(pattern)
    assert (set(got) if got is not None else None) == needs
    if needs:
        # A text with the literal runs the regex; one without cannot match it anyway.
        assert compile_query(parse_query(f"/{pattern}/")).evaluate("nothing here").matched is False


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("ab日本 -ÅåSsß.")), max_size=20),
    st.sampled_from([r"ab|日本", r"(?:a|b)-b", r"\bs+b", r"(?-i:A)b?", "å", r"ss\b"]),
)
def test_the_regex_prefilter_never_hides_a_match(text: str, pattern: str) -> None:
    regex = compile_query(parse_query(f"/{pattern}/"))
    plain = re.search(pattern, Analyzed(text).cased, re.IGNORECASE)
    assert regex.evaluate(text).matched == bool(plain and plain.end() > plain.start())


def test_a_not_or_exclude_certain_to_hold_rules_a_rule_out_before_evaluation() -> None:
    m = Matcher(
        [
            rule("not", "lithium NOT (graphite OR @japan)"),
            rule("excl", "lithium", exclude="graphite OR nickel"),
            rule("cased", "lithium NOT ROK"),  # ROK needs its case checked: not sure
            rule("field", "lithium NOT title:graphite"),  # found elsewhere than the title
            rule("atleast", "ATLEAST 1 (lithium, NOT graphite)"),
        ],
        LISTS,
    )

    def candidates(title: str, summary: str = "") -> list[str]:
        return sorted(m.compiled[i].rule.id for i in m.candidates(m.context(title, summary)))

    everything = ["atleast", "cased", "excl", "field", "not"]
    assert candidates("lithium prices") == everything
    assert candidates("lithium and graphite") == ["atleast", "cased", "field"]
    assert candidates("lithium", "Tokyo") == ["atleast", "cased", "excl", "field"]
    assert candidates("lithium", "nickel") == ["atleast", "cased", "field", "not"]
    assert candidates("lithium", "rok") == everything
    assert [x.rule_id for x in m.match(item("lithium", "graphite"))] == [
        "atleast",
        "cased",
        "field",
    ]
