"""OPML import and export: subscriptions in and out, the feeds file kept as written."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from monitor.cli import cli
from monitor.config.feeds import load_feeds
from monitor.config.opml import append_entries

FEEDS = """\
# my feeds — keep this comment
defaults:
  interval: 15m

feeds:
  # the one I had
  - id: mining-com
    name: MINING.COM
    url: https://www.mining.com/feed/
"""
OPML = """\
<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Export</title></head>
  <body>
    <outline text="Minerals" title="Minerals">
      <outline type="rss" text="MINING.COM" xmlUrl="https://www.mining.com/feed/"/>
      <outline type="rss" text="Reuters &amp; Co" title="Reuters &amp; Co: &quot;World&quot;"
               xmlUrl="https://example.com/world.rss" category="Wire,Asia/Japan"/>
      <outline text="Korea Desk">
        <outline type="rss" text="연합뉴스" xmlUrl="https://www.yna.co.kr/rss/news.xml"/>
      </outline>
    </outline>
    <outline type="rss" text="JSON one" xmlUrl="https://example.org/feed.json"/>
  </body>
</opml>
"""


def run(feeds: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--feeds", str(feeds), "feeds", *args])


def setup(tmp_path: Path, opml: str = OPML) -> tuple[Path, Path]:
    feeds, source = tmp_path / "feeds.yaml", tmp_path / "subs.opml"
    feeds.write_text(FEEDS, encoding="utf-8")
    source.write_text(opml, encoding="utf-8")
    return feeds, source


def test_import_appends_readable_yaml_and_keeps_comments(tmp_path: Path) -> None:
    feeds, source = setup(tmp_path)
    result = run(feeds, "import", str(source))
    assert result.exit_code == 0, result.output
    assert "3 feeds added, 1 already present" in result.output
    text = feeds.read_text(encoding="utf-8")
    assert text.startswith(FEEDS)  # everything that was there, comments included
    assert '  - url: "https://example.com/world.rss"\n' in text
    assert '    name: "Reuters & Co: \\"World\\""\n' in text
    assert "    tags: [minerals, wire, asia, japan]\n" in text
    assert "    tags: [minerals, korea-desk]\n" in text
    loaded = {f.url: f for f in load_feeds(feeds).feeds}
    assert loaded["https://www.yna.co.kr/rss/news.xml"].name == "연합뉴스"
    assert loaded["https://example.org/feed.json"].id == "example-org-feed-json"
    again = run(feeds, "import", str(source))  # everything is present now
    assert "0 feeds added, 4 already present" in again.output
    assert feeds.read_text(encoding="utf-8") == text


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    feeds, source = setup(tmp_path)
    result = run(feeds, "import", str(source), "--dry-run")
    assert result.exit_code == 0
    assert 'would add https://example.com/world.rss  (Reuters & Co: "World")' in result.output
    assert feeds.read_text(encoding="utf-8") == FEEDS


def test_broken_opml_gives_file_line_and_exit_2_and_leaves_the_file(tmp_path: Path) -> None:
    broken = OPML.replace('<outline text="Korea Desk">', '<outline text="Korea Desk>')
    feeds, source = setup(tmp_path, broken)
    result = run(feeds, "import", str(source))
    assert result.exit_code == 2
    assert (
        f"{source}:10:" in result.output
    )  # where expat notices the open quote and "not well-formed OPML" in result.output
    assert feeds.read_text(encoding="utf-8") == FEEDS


def test_an_outline_the_config_refuses_is_reported_at_its_opml_line(tmp_path: Path) -> None:
    bad = OPML.replace("https://example.org/feed.json", "ftp://example.org/feed")
    feeds, source = setup(tmp_path, bad)
    result = run(feeds, "import", str(source))
    assert result.exit_code == 2
    assert f"{source}:13: feed #4: url scheme 'ftp' is not allowed" in result.output
    assert feeds.read_text(encoding="utf-8") == FEEDS


def test_entity_declarations_are_refused(tmp_path: Path) -> None:
    bomb = OPML.replace("<opml", '<!DOCTYPE opml [<!ENTITY a "aaaa">]>\n<opml')
    feeds, source = setup(tmp_path, bomb)
    result = run(feeds, "import", str(source))
    assert result.exit_code == 2
    assert f"{source}:2:" in result.output


def test_a_clashing_derived_id_gets_an_explicit_one(tmp_path: Path) -> None:
    feeds, source = setup(
        tmp_path,
        '<opml version="2.0"><body><outline xmlUrl="http://example.com/a"/>'
        '<outline xmlUrl="https://example.com/a"/></body></opml>',
    )
    assert run(feeds, "import", str(source)).exit_code == 0
    ids = [f.id for f in load_feeds(feeds).feeds]
    assert ids == ["mining-com", "example-com-a", "example-com-a-2"]


def test_entries_go_inside_the_feeds_list_when_another_key_follows() -> None:
    text = "feeds:\n  - url: https://a.example/\n\n# later\nother: 1\n"
    got = append_entries(text, "  - url: https://b.example/\n")
    assert (
        got
        == "feeds:\n  - url: https://a.example/\n  - url: https://b.example/\n\n# later\nother: 1\n"
    )


def test_export_is_opml_2_that_import_reads_back(tmp_path: Path) -> None:
    feeds, source = setup(tmp_path)
    run(feeds, "import", str(source))
    out = tmp_path / "out.opml"
    result = run(feeds, "export", "-o", str(out))
    assert result.exit_code == 0
    xml = out.read_text(encoding="utf-8")
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">')
    assert 'xmlUrl="https://www.mining.com/feed/"' in xml
    assert 'category="minerals,wire' in xml
    fresh = tmp_path / "fresh.yaml"
    fresh.write_text("feeds:\n", encoding="utf-8")
    back = run(fresh, "import", str(out))
    assert back.exit_code == 0, back.output
    assert {f.url for f in load_feeds(fresh).feeds} == {f.url for f in load_feeds(feeds).feeds}
    stdout = run(feeds, "export").output  # without -o: to stdout
    assert stdout.split("</head>")[1] == xml.split("</head>")[1]


def test_help_has_examples() -> None:
    for name in ("import", "export"):
        result = CliRunner().invoke(cli, ["feeds", name, "--help"])
        assert "Example:" in result.output


def test_export_uses_names_learned_from_the_feeds(tmp_path: Path) -> None:
    from monitor.store.db import open_db
    from monitor.store.feeds import learn_name

    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - url: https://www.mining.com/feed/\n", encoding="utf-8")
    db_path = tmp_path / "a.db"
    db = open_db(db_path)
    db.execute(
        "INSERT INTO feeds(id, url) VALUES ('mining-com-feed', 'https://www.mining.com/feed/')"
    )
    learn_name(db, "mining-com-feed", "MINING.COM")
    db.close()
    out = CliRunner().invoke(cli, ["--feeds", str(feeds), "--db", str(db_path), "feeds", "export"])
    assert 'text="MINING.COM"' in out.output
    bare = CliRunner().invoke(
        cli, ["--feeds", str(feeds), "--db", str(tmp_path / "none.db"), "feeds", "export"]
    )
    assert 'text="mining-com-feed"' in bare.output
