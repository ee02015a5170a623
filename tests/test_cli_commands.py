"""Every lazily registered command exists, and each module's commands are all registered."""

from __future__ import annotations

import importlib

from click.testing import CliRunner

from monitor.cli import LAZY_COMMANDS, cli


def test_every_lazy_command_loads_and_has_an_example() -> None:
    runner = CliRunner()
    for name in LAZY_COMMANDS:
        result = runner.invoke(cli, [name, "-h"])
        assert result.exit_code == 0, (name, result.output)
        assert "Example:" in result.output, f"`monitor {name} -h` has no Example block"


def test_no_command_is_left_unregistered() -> None:
    for module_name in set(LAZY_COMMANDS.values()):
        module = importlib.import_module(f"monitor.cli.{module_name}")
        for command in module.commands:
            assert LAZY_COMMANDS.get(command.name) == module_name, command.name


def test_unknown_command_exits_2() -> None:
    result = CliRunner().invoke(cli, ["serch", "x"])
    assert result.exit_code == 2
    assert "No such command 'serch'" in result.output
