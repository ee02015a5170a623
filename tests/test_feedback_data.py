"""Feedback as data: `monitor feedback export` in the format `rules eval` reads, `rules eval
--feedback` on the archive directly, and backtest listing labelled items first."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import cli
from monitor.store import feedback as store
from tests.digestdata import NOW, Seed, make_db, write_config

SEEDS = [
    # write_config's rules all have the query "Japan"
    Seed("a1", "Japan and Korea talk", rules={"japan-korea": 3.0}),
    Seed("b2", "Japan weather report", rules={"japan-korea": 1.0}),
    Seed("c3", "Korea only story", rules={"japan-korea": 2.0}),  # stored, but no longer matches
    Seed("d4", "Another Korea only story", rules={"japan-korea": 2.0}),
]


def _click(db: object, n: int, item: str, label: str, user: str = "U1", name: str = "ana") -> None:
    store.record_click(
        db,  # type: ignore[arg-type]
        store.Click(item, "japan-korea", label, user, name, "T000", f"key{n}"),
        NOW,
    )


def _archive(tmp_path: Path) -> dict[str, str]:
    env = write_config(tmp_path)
    db = make_db(tmp_path, SEEDS)
    _click(db, 1, "a1", "relevant")
    _click(db, 2, "b2", "relevant")
    _click(db, 3, "b2", "not_relevant")  # ana changed her mind: the latest counts
    _click(db, 4, "b2", "not_relevant", user="U2", name="bo")
    _click(db, 5, "d4", "relevant", user="U2", name="bo")
    _click(db, 5, "d4", "relevant", user="U2", name="bo")  # a redelivered click: ignored
    db.close()
    return env


def test_export_writes_what_rules_eval_reads(tmp_path: Path) -> None:
    env = _archive(tmp_path)
    out_file = tmp_path / "labelled.jsonl"
    result = CliRunner().invoke(cli, ["feedback", "export", "-o", str(out_file)], env=env)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out_file.read_text().splitlines()]
    by_id = {r["id"]: r for r in rows}
    assert set(by_id) == {"a1", "b2", "d4"}
    assert by_id["a1"]["labels"] == ["japan-korea"]
    assert by_id["a1"]["not_labels"] == []
    assert by_id["b2"]["labels"] == []
    assert by_id["b2"]["not_labels"] == ["japan-korea"]
    assert by_id["b2"]["judged"]["japan-korea"]["not_relevant"][0][0] == "ana"
    assert {"title", "summary", "url", "published", "lang"} <= set(by_id["a1"])

    from_file = CliRunner().invoke(cli, ["rules", "eval", str(out_file), "--json"], env=env)
    direct = CliRunner().invoke(cli, ["rules", "eval", "--feedback", "--json"], env=env)
    assert from_file.exit_code == direct.exit_code == 0, from_file.output + direct.output
    a, b = json.loads(from_file.output), json.loads(direct.output)
    assert a["rules"] == b["rules"]
    jk = a["rules"]["japan-korea"]
    # a1 relevant and matched: tp; b2 not relevant but matched: fp; d4 relevant, missed: fn.
    # Rules nobody judged on an item are not scored there (no fp for the other two rules).
    assert (jk["tp"], jk["fp"], jk["fn"]) == (1, 1, 1)
    assert a["rules"]["jkus-trilateral"] == {**a["rules"]["jkus-trilateral"], "tp": 0, "fp": 0}


def test_eval_needs_a_file_or_feedback(tmp_path: Path) -> None:
    env = _archive(tmp_path)
    result = CliRunner().invoke(cli, ["rules", "eval"], env=env)
    assert result.exit_code == 2
    assert "--feedback" in result.output


def test_backtest_lists_labelled_items_first(tmp_path: Path) -> None:
    env = _archive(tmp_path)
    result = CliRunner().invoke(
        cli, ["rules", "backtest", "japan-korea", "--since", "3650d"], env=env
    )
    assert result.exit_code == 0, result.output
    lost = [line for line in result.output.splitlines() if line.startswith("  - ")]
    assert lost[0].startswith("  - d4 ")
    assert "marked relevant by @bo on 2026-08-22" in lost[0]
    assert lost[1].startswith("  - c3 ")
    assert "marked" not in lost[1]
    data = json.loads(
        CliRunner()
        .invoke(cli, ["rules", "backtest", "japan-korea", "--since", "3650d", "--json"], env=env)
        .output
    )
    assert data["rules"][0]["lost"] == ["d4", "c3"]
    assert data["rules"][0]["labelled"] == {"d4": "marked relevant by @bo on 2026-08-22"}


def test_an_archive_without_feedback_exports_nothing(tmp_path: Path) -> None:
    env = write_config(tmp_path)
    make_db(tmp_path, SEEDS).close()
    result = CliRunner().invoke(cli, ["feedback", "export"], env=env)
    assert result.exit_code == 0
    assert result.output == ""
