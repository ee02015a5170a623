"""Configuration YAML is parsed by libyaml when PyYAML has it, with the same result as the
pure-Python loader: the same data, the same line of every key and item, on every YAML file
of the repository; a file with an error gets the pure-Python loader's message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.config import yamlsrc
from monitor.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(
    p
    for pattern in ("rules/**/*.yaml", "*.yaml", "tests/data/**/*.yaml", "tests/data/**/*.yml")
    for p in ROOT.glob(pattern)
)


def lines(value: Any) -> Any:
    """The value with the line of every mapping key and list item, for comparing."""
    if isinstance(value, yamlsrc.LineDict):
        return ("map", value.line, {k: (value.line_of(k), lines(v)) for k, v in value.items()})
    if isinstance(value, yamlsrc.LineList):
        return ("list", value.line, [(value.line_of(i), lines(v)) for i, v in enumerate(value)])
    return value


def test_libyaml_is_used_here() -> None:
    assert getattr(yaml, "__with_libyaml__", False)
    assert issubclass(yamlsrc._FastLoader, yaml.CSafeLoader)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_both_loaders_read_the_same(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    try:
        pure = yaml.load(text, Loader=yamlsrc._Loader)
    except yaml.YAMLError:
        with pytest.raises(yaml.YAMLError):
            yaml.load(text, Loader=yamlsrc._FastLoader)
        return
    assert lines(yaml.load(text, Loader=yamlsrc._FastLoader)) == lines(pure)


def test_a_syntax_error_keeps_the_pure_loaders_message() -> None:
    text = "id: x\nquery: [a, b\nname: y\n"
    with pytest.raises(yaml.MarkedYAMLError) as pure:
        yaml.load(text, Loader=yamlsrc._Loader)
    with pytest.raises(ConfigError) as ours:
        yamlsrc.load_yaml_text(text, "r.yaml")
    problem = ours.value.problems[0]
    assert problem.message == f"YAML syntax error: {pure.value.problem}"
    assert (problem.file, problem.line) == ("r.yaml", pure.value.problem_mark.line + 1)
