"""bench/presearch_layer.py: literals found in one scan per channel, rules reported when
all their clauses are met. Both engines give exactly what a plain evaluation gives (the
bench's figures rest on it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from presearch_layer import Presearch, _escape, available_engines  # noqa: E402

ENGINES = available_engines()


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def plain(
    literals: list[tuple[int, str]], rules: list[list[set[int]]], texts: list[str]
) -> list[int]:
    """What the layer must answer, the slow and obvious way."""
    found = {
        i
        for i, (channel, lit) in enumerate(literals)
        if lit and channel < len(texts) and texts[channel] and lit in texts[channel]
    }
    return [r for r, clauses in enumerate(rules) if all(c & found for c in clauses)]


def test_and_of_ors_over_words(engine: str) -> None:
    literals = [(0, " gallium "), (0, " export control"), (0, " germanium "), (0, " japan ")]
    rules: list[list[set[int]]] = [
        [{0, 2}, {1}],  # (gallium OR germanium) AND export control*
        [{3}],  # japan
        [],  # no clause: always reported (a rule with only NOT, or a regex)
        [{0}, {3}],
    ]
    search = Presearch(literals, rules, engine)
    assert search.rules_in([" china tightens germanium export controls "]) == [0, 2]
    assert search.rules_in([" gallium and japan "]) == [1, 2, 3]
    assert search.rules_in([" galliumx "]) == [2]
    assert search.rules_in([None]) == [2]


def test_channels_are_scanned_apart(engine: str) -> None:
    # Literal 0 is looked for in channel 0 only, literal 1 in channel 1 only.
    literals = [(0, " korea "), (1, "韓国")]
    rules: list[list[set[int]]] = [[{0, 1}], [{1}]]
    search = Presearch(literals, rules, engine)
    assert search.rules_in([" korea ", None]) == [0]
    assert search.rules_in([" 韓国 ", "北朝鮮"]) == []
    assert search.rules_in([None, "日韓国交"]) == [0, 1]


def test_many_clauses_and_no_literals(engine: str) -> None:
    literals = [(0, f" w{i} ") for i in range(12)]
    rules: list[list[set[int]]] = [[{i} for i in range(9)], [{10}, {11}]]  # 9 clauses
    search = Presearch(literals, rules, engine)
    text = " " + " ".join(f"w{i}" for i in range(9)) + " "
    assert search.rules_in([text]) == [0]
    assert search.rules_in([text.replace(" w4 ", " ")]) == []
    assert Presearch([], [[], [{0}]], engine).rules_in(["anything"]) == [0]


def test_escape_keeps_regex_syntax_literal() -> None:
    assert _escape("a.b") == b"a\\x2eb"
    assert _escape("日") == b"\\xe6\\x97\\xa5"


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="not available"):
        Presearch([], [], "re2")


ALPHABET = "ab .()*+?韓国"


@settings(max_examples=150, deadline=None)
@given(
    literals=st.lists(
        st.tuples(st.integers(0, 1), st.text(ALPHABET, min_size=1, max_size=3)), max_size=8
    ),
    shapes=st.lists(st.lists(st.sets(st.integers(0, 7), max_size=3), max_size=3), max_size=6),
    texts=st.lists(st.text(ALPHABET, max_size=20), min_size=2, max_size=2),
)
def test_both_engines_equal_the_plain_evaluation(
    literals: list[tuple[int, str]], shapes: list[list[set[int]]], texts: list[str]
) -> None:
    rules = [[{i for i in c if i < len(literals)} for c in clauses] for clauses in shapes]
    want = plain(literals, rules, texts)
    for name in ENGINES:
        assert Presearch(literals, rules, name).rules_in(texts) == want, name


def test_without_hyperscan_the_automaton_answers(tmp_path: Path) -> None:
    # `pip install .` without the fast extra (or on a machine with no wheel for it): the
    # module imports, and the fallback is the default.
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\n"
        "class _Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'hyperscan':\n"
        "            raise ImportError('no hyperscan here')\n"
        "        return None\n"
        "sys.meta_path.insert(0, _Block())\n"
    )
    script = (
        "from presearch_layer import Presearch, available_engines, default_engine\n"
        "print(available_engines(), default_engine())\n"
        "print(Presearch([(0, ' gallium ')], [[{0}], [{1}]]).rules_in([' gallium ']))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": f"{tmp_path}:{ROOT / 'bench'}", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["('python',) python", "[0]"]
