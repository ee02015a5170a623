"""feeds.yaml loading: the shipped list loads clean, and each kind of mistake is named.

Broken inputs are derived from the shipped feeds.yaml by string replacement, so the tests
follow the real file as it changes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config.feeds import FeedDefaults, load_feeds
from monitor.config.feedvalues import format_interval, parse_interval
from monitor.errors import ConfigError, MonitorError

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "feeds.yaml"


def shipped_text() -> str:
    return SHIPPED.read_text(encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    """1-based line of the only occurrence of ``needle``."""
    assert text.count(needle) == 1, f"{needle!r} must occur exactly once"
    return text[: text.index(needle)].count("\n") + 1


def broken(tmp_path: Path, *replacements: tuple[str, str]) -> tuple[Path, str]:
    text = shipped_text()
    for old, new in replacements:
        assert text.count(old) == 1, f"{old!r} must occur exactly once in feeds.yaml"
        text = text.replace(old, new)
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_feeds(path)
    return [p.format() for p in caught.value.problems]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ the shipped list


def test_shipped_feeds_load_clean() -> None:
    config = load_feeds(SHIPPED)
    assert len(config.feeds) >= 25
    assert len(config.enabled()) >= 25
    ids = [f.id for f in config.feeds]
    assert len(ids) == len(set(ids))
    assert config.path == SHIPPED


def test_shipped_feeds_cover_the_brief() -> None:
    enabled = load_feeds(SHIPPED).enabled()
    gov_countries = {f.country for f in enabled if f.kind == "government"}
    assert {"JP", "KR", "US", "AU"} <= gov_countries
    news_langs = {f.lang for f in enabled if f.kind == "news"}
    assert {"en", "ja", "ko"} <= news_langs
    search_hosts = {f.url.split("/")[2] for f in enabled if f.kind == "search"}
    assert {"news.google.com", "www.federalregister.gov"} <= search_hosts
    assert sum("minerals" in f.tags for f in enabled if f.kind == "news") >= 3
    # every watch topic has a Google News search in English and in Japanese or Korean
    for topic in ("jkus-trilateral", "japan-korea", "critical-minerals", "tech-competition"):
        langs = {f.lang for f in enabled if f.kind == "search" and topic in f.tags}
        assert "en" in langs, topic
        assert langs & {"ja", "ko"}, topic
    assert any("australia-angle" in f.tags for f in enabled)


def test_every_disabled_feed_says_why() -> None:
    text = shipped_text()
    blocks = re.split(r"\n  - id: ", text)[1:]
    disabled = [b for b in blocks if "\n    enabled: false" in b]
    assert disabled
    for block in disabled:
        assert "# Low" in block, block.splitlines()[0]


def test_shipped_query_strings_are_encoded() -> None:
    for feed in load_feeds(SHIPPED).feeds:
        query = feed.url.partition("?")[2]
        assert not set(query) & {'"', "[", " "}, feed.id
        assert feed.url.isascii(), feed.id


# ------------------------------------------------------------------ mistakes, each named


def test_every_problem_is_listed_with_its_line(tmp_path: Path) -> None:
    path, text = broken(
        tmp_path,
        ("id: yonhap-ko", "id: yonhap-en"),
        ("url: https://www.mining.com/feed/", "url: ftp://www.mining.com/feed/"),
        ("    country: SG\n", "    country: sg\n"),
        ("id: the-diplomat\n", "id: the-diplomat\n    tgas: [asia]\n"),
        ("id: northern-miner\n", "id: northern-miner\n    kind: trade\n"),
    )
    lines = text.splitlines()
    dup_lines = [i + 1 for i, line in enumerate(lines) if line == "  - id: yonhap-en"]
    assert problems_of(path) == [
        f"{path}:{dup_lines[1]}: duplicate feed id 'yonhap-en' "
        f"(first used on line {dup_lines[0]}; ids must be unique)",
        f"{path}:{line_of(text, 'country: sg')}: feed 'cna-asia': country 'sg' must be "
        "upper case (write 'SG')",
        f"{path}:{line_of(text, 'tgas:')}: unknown key 'tgas' in feed 'the-diplomat' "
        "(did you mean 'tags'?)",
        f"{path}:{line_of(text, 'ftp://')}: feed 'mining-com': url scheme 'ftp' is not allowed "
        "(use an http:// or https:// URL)",
        f"{path}:{line_of(text, 'kind: trade')}: feed 'northern-miner': unknown kind 'trade' "
        "(use one of: news, government, search)",
    ]


FR_INTERVAL = "    interval: 6h\n    tags: [critical-minerals"
NHK_LANG = "    lang: ja\n    tags: [japan]\n\n  - id: asahi"
MINING_TAGS = "    tags: [minerals]\n\n  - id: northern-miner"
GNEWS_JK_JA = "q=%E6%97%A5%E9%9F%93+when:2d"
HOW = "(write e.g. '15m', '1h' or '1h30m'; units w, d, h, m, s)"

# (text replaced, replacement, a unique piece of the line the problem must point at, message)
MISTAKES = [
    (
        FR_INTERVAL,
        FR_INTERVAL.replace("6h", "6x"),
        "interval: 6x",
        f"feed 'fedreg-critical-minerals': interval '6x' is not a duration {HOW}",
    ),
    (
        FR_INTERVAL,
        FR_INTERVAL.replace("6h", "30s"),
        "interval: 30s",
        "feed 'fedreg-critical-minerals': interval '30s' is too short "
        "(the minimum is 1m; faster polling gets blocked)",
    ),
    (
        FR_INTERVAL,
        FR_INTERVAL.replace("6h", "2d"),
        "interval: 2d",
        "feed 'fedreg-critical-minerals': interval '2d' is too long (the maximum is 1d)",
    ),
    (
        FR_INTERVAL,
        FR_INTERVAL.replace("6h", "15"),
        "interval: 15\n",
        "feed 'fedreg-critical-minerals': interval must be a duration, not a number (15) "
        "(write a duration with a unit, e.g. '15m' or '15s')",
    ),
    (
        "id: japan-times\n",
        "id: Japan Times\n",
        "id: Japan Times",
        "feed 'Japan Times': id 'Japan Times' is not a lower-case slug "
        "(use letters, digits and single dashes, e.g. 'japan-times')",
    ),
    (
        "id: us-doe-news\n",
        "id: us-doe-news\n    enabled: yes please\n",
        "enabled: yes please",
        "feed 'us-doe-news': enabled must be true or false, not 'yes please'",
    ),
    (
        "    country: CA\n",
        "    country: UK\n",
        "country: UK",
        "feed 'northern-miner': 'UK' is not an ISO 3166-1 country code (did you mean 'GB'?)",
    ),
    (
        "    country: CA\n",
        "    country: XX\n",
        "country: XX",
        "feed 'northern-miner': unknown country code 'XX' (use an ISO 3166-1 alpha-2 code "
        'such as JP, KR, US, AU, or "" for international)',
    ),
    (
        "url: https://www.mining.com/feed/",
        "url: www.mining.com/feed/",
        "url: www.mining.com",
        "feed 'mining-com': url 'www.mining.com/feed/' is not absolute (start it with https://)",
    ),
    (
        GNEWS_JK_JA,
        "q=日韓 when:2d",
        "q=日韓 when:2d",
        "feed 'gnews-japan-korea-ja': url contains a space "
        "(encode spaces as + or %20 in the query string)",
    ),
    (
        GNEWS_JK_JA,
        "q=日韓+when:2d",
        "q=日韓+when:2d",
        "feed 'gnews-japan-korea-ja': url contains non-ASCII characters "
        "(percent-encode them as UTF-8, e.g. 日本 → %E6%97%A5%E6%9C%AC)",
    ),
    (
        "    kind: government\n    country: JP\n    lang: ja\n    interval: 1h\n    tags: [japan]\n",
        "    kind: govt\n    country: JP\n    lang: ja\n    interval: 1h\n    tags: [japan]\n",
        "kind: govt",
        "feed 'jp-gov-online': unknown kind 'govt' (did you mean 'government'?)",
    ),
    (
        NHK_LANG,
        NHK_LANG.replace("lang: ja", "lang: ja-JP"),
        "lang: ja-JP",
        "feed 'nhk-international-ja': lang 'ja-JP' must be a primary language tag (write 'ja')",
    ),
    (
        MINING_TAGS,
        MINING_TAGS.replace("[minerals]", "minerals"),
        "tags: minerals\n",
        "feed 'mining-com': tags must be a list (write tags: [minerals])",
    ),
    (
        "  timeout: 20s\n",
        "  timeout: forever\n",
        "timeout: forever",
        f"defaults: timeout 'forever' is not a duration {HOW}",
    ),
    (
        "  max_bytes: 10MB\n",
        "  max_bytes: 10GB\n",
        "max_bytes: 10GB",
        "defaults: max_bytes must be a size, not '10GB' (e.g. 10MB, 500KB or 2000000)",
    ),
    (
        "  enabled: true\n  kind: news\n",
        "  enabled: true\n  kind: news\n  tags: [x]\n",
        "tags: [x]",
        "unknown key 'tags' in defaults (known keys: interval, timeout, max_bytes, enabled, "
        "kind, country, lang, full_text)",
    ),
]


@pytest.mark.parametrize(("old", "new", "at", "expected"), MISTAKES, ids=[m[2] for m in MISTAKES])
def test_one_mistake_one_message(
    tmp_path: Path, old: str, new: str, at: str, expected: str
) -> None:
    path, text = broken(tmp_path, (old, new))
    problems = problems_of(path)
    assert problems == [f"{path}:{line_of(text, at)}: {expected}"]


def test_the_same_url_twice(tmp_path: Path) -> None:
    path, text = broken(
        tmp_path, ("url: https://im-mining.com/feed/", "url: https://www.mining.com/feed/")
    )
    first, second = [
        i + 1
        for i, line in enumerate(text.splitlines())
        if line == "    url: https://www.mining.com/feed/"
    ]
    assert problems_of(path) == [
        f"{path}:{second}: feed 'im-mining': same url as feed 'mining-com' "
        f"(line {first}; poll each URL once, remove one of them)"
    ]


def test_missing_required_keys(tmp_path: Path) -> None:
    # Only url is required now (issue 13): id, name, kind and lang have defaults.
    path = write(
        tmp_path,
        "feeds:\n  - id: one\n    name: One\n  - name: Two\n    url: https://example.org/two\n",
    )
    assert problems_of(path) == [
        f"{path}:2: feed 'one' is missing required key 'url' (add url: …)",
    ]


def test_a_url_alone_is_a_feed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "feeds:\n"
        "  - url: https://www.mining.com/feed/\n"
        "  - url: https://news.google.com/rss/search?q=lithium&hl=en\n"
        "  - url: https://example.org/ja.xml\n    kind: government\n    lang: ja\n",
    )
    one, two, three = load_feeds(path).feeds
    assert (one.id, one.name, one.kind, one.lang) == ("mining-com-feed", "", "news", "")
    assert two.id.startswith("news-google-com-rss-search-")
    assert len(two.id) == 33
    assert (three.id, three.kind, three.lang) == ("example-org-ja-xml", "government", "ja")
    assert load_feeds(path).feeds == (one, two, three)  # derived ids are stable


def test_a_derived_id_that_clashes_is_a_clear_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "feeds:\n"
        "  - id: mining-com-feed\n    url: https://mining.com/feed\n"
        "  - url: https://www.mining.com/feed/\n",
    )
    assert problems_of(path) == [
        f"{path}:4: feed #2: the id derived from its url, 'mining-com-feed', is already used"
        " (line 2) (give one of them its own id: key, e.g. id: mining-com-feed-2)",
    ]


def test_wrong_types_and_shapes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "defaults: [interval]\nfeeds:\n  - just a string\n  - id: ok\n    name: 5\n"
        "    url: https://example.org/\n    kind: news\n    lang: en\n",
    )
    assert problems_of(path) == [
        f"{path}:1: defaults must be a mapping, not a list",
        f"{path}:3: feed #1 must be a mapping of keys, not 'just a string' (see feeds.yaml)",
        f"{path}:5: feed 'ok': name must be non-empty text, not a number (5)",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty (add a feeds: list (see docs/configuration.md))"),
        ("- a\n", "the file must be a mapping with defaults: and feeds:, not a list"),
        ("defaults: {}\n", "no feeds: list (add feeds: with one entry per feed)"),
        ("feeds: []\n", "feeds must be a non-empty list (add - url: … entries)"),
        (
            "feed:\n  - id: x\n",
            "unknown key 'feed' in feeds.yaml (did you mean 'feeds'?)",
        ),
    ],
)
def test_whole_file_mistakes(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    problems = problems_of(path)
    assert problems[0].split(": ", 1)[1] == expected


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nope.yaml") == [
        f"{tmp_path / 'nope.yaml'}: file not found (check the path, or create the file)"
    ]


# ------------------------------------------------------------------ values and defaults


def test_defaults_apply_and_feeds_override(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "defaults:\n  interval: 1h\n  kind: government\n  lang: ja\n  country: JP\n"
        "  timeout: 45\n  max_bytes: 512KB\n  enabled: false\n"
        "feeds:\n"
        "  - id: a\n    name: A\n    url: https://example.org/a\n"
        "  - id: b\n    name: B\n    url: http://example.org/b\n    kind: news\n"
        "    lang: en\n    country: ''\n    interval: 1h30m\n    timeout: 30s\n"
        "    max_bytes: 2000000\n    enabled: true\n    tags: [x, y, x]\n",
    )
    config = load_feeds(path)
    a, b = config.feeds
    assert config.defaults == FeedDefaults(
        interval=3600,
        timeout=45.0,
        max_bytes=512_000,
        enabled=False,
        kind="government",
        country="JP",
        lang="ja",
    )
    assert (a.kind, a.lang, a.country, a.interval, a.timeout, a.max_bytes, a.enabled, a.tags) == (
        "government",
        "ja",
        "JP",
        3600,
        45.0,
        512_000,
        False,
        (),
    )
    assert (b.kind, b.lang, b.country, b.interval, b.timeout, b.max_bytes, b.enabled, b.tags) == (
        "news",
        "en",
        "",
        5400,
        30.0,
        2_000_000,
        True,
        ("x", "y"),
    )
    assert config.enabled() == (b,)


def test_get_names_the_closest_feed() -> None:
    config = load_feeds(SHIPPED)
    assert config.get("japan-times").name == "The Japan Times"
    with pytest.raises(MonitorError) as caught:
        config.get("japan-time")
    assert caught.value.message == "unknown feed 'japan-time'"
    assert caught.value.hint == "did you mean 'japan-times'?"
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15m", 900), ("1h", 3600), ("90s", 90), ("1h30m", 5400), ("1d", 86400), (" 2h ", 7200)],
)
def test_parse_interval(text: str, seconds: int) -> None:
    assert parse_interval(text) == seconds
    assert parse_interval(format_interval(seconds)) == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "'' is empty: write e.g. '15m', '1h' or '1h30m'; units w, d, h, m, s"),
        ("15", "'15' has no unit: write e.g. '15m' for minutes; units w, d, h, m, s"),
        ("15M", "'15M' has upper-case units: write '15m'"),
        (
            "1m1h",
            "'1m1h' is not a duration: write e.g. '15m', '1h' or '1h30m'; units w, d, h, m, s",
        ),
        ("0m", "'0m' is zero: a duration must be positive"),
        ("-5m", "'-5m' is not a duration: write e.g. '15m', '1h' or '1h30m'; units w, d, h, m, s"),
    ],
)
def test_parse_interval_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        parse_interval(text)
    assert str(caught.value) == message


def test_format_interval() -> None:
    assert [format_interval(s) for s in (900, 5400, 86400, 90, 0)] == [
        "15m",
        "1h30m",
        "1d",
        "1m30s",
        "0s",
    ]


# ------------------------------------------------------------------ never a crash

SNIPPET = (
    "defaults:\n  interval: 15m\n  kind: news\n  lang: en\nfeeds:\n"
    "  - id: japan-times\n    name: The Japan Times\n    url: https://www.japantimes.co.jp/feed/\n"
    "    country: JP\n    tags: [japan]\n    timeout: 20s\n    max_bytes: 10MB\n"
)


@settings(max_examples=150, deadline=None)
@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, len(SNIPPET)),
            st.integers(0, 6),
            st.text(alphabet=":-[]{}\"' \n#&*!|>%@`,?abcJP0159mhds日", max_size=4),
        ),
        max_size=4,
    )
)
def test_mangled_files_give_problems_never_crashes(
    tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[int, int, str]]
) -> None:
    text = SNIPPET
    for at, cut, insert in edits:
        at = min(at, len(text))
        text = text[:at] + insert + text[at + cut :]
    path = tmp_path_factory.mktemp("fuzz") / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        config = load_feeds(path)
    except ConfigError as exc:
        problems = exc.problems
    else:
        assert all(f.url.startswith(("http://", "https://")) for f in config.feeds)
        return
    assert problems
    assert all(p.message for p in problems)


@given(st.text(max_size=12))
def test_parse_interval_returns_seconds_or_value_error(text: str) -> None:
    try:
        seconds = parse_interval(text)
    except ValueError as exc:
        message = str(exc)
        assert message, text
    else:
        assert seconds > 0
        assert parse_interval(format_interval(seconds)) == seconds


@given(st.integers(1, 10**7))
def test_format_then_parse_round_trips(seconds: int) -> None:
    assert parse_interval(format_interval(seconds)) == seconds
