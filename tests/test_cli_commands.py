"""Every lazily registered command exists, and each module's commands are all registered."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from monitor.cli import LAZY_COMMANDS, SHORT_HELP, SUBCOMMANDS, cli

ROOT = Path(__file__).resolve().parent.parent


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


def test_every_sub_command_module_is_wired_onto_its_group() -> None:
    ctx = click.Context(cli, info_name="monitor")
    for group_name, module_names in SUBCOMMANDS.items():
        group = cli.get_command(ctx, group_name)
        assert isinstance(group, click.Group), group_name
        for module_name in module_names:
            module = importlib.import_module(f"monitor.cli.{module_name}")
            for command in module.commands:
                assert group.commands.get(command.name) is command, (group_name, command.name)


def test_unknown_command_exits_2() -> None:
    result = CliRunner().invoke(cli, ["serch", "x"])
    assert result.exit_code == 2
    assert "No such command 'serch'" in result.output


def test_short_help_table_equals_each_commands_own_short_help() -> None:
    ctx = click.Context(cli, info_name="monitor")
    assert set(SHORT_HELP) == set(LAZY_COMMANDS)
    for name in LAZY_COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None
        assert SHORT_HELP[name] == command.get_short_help_str(limit=10_000), name


def test_help_lists_the_commands_exactly_as_click_would_after_importing_them() -> None:
    lazy = CliRunner().invoke(cli, ["--help"], terminal_width=80)
    assert lazy.exit_code == 0, lazy.output

    class Eager(click.Group):  # click's own rendering: imports every command first
        pass

    ctx = click.Context(cli, info_name="monitor")
    eager = Eager(name="monitor")
    for name in LAZY_COMMANDS:
        eager.add_command(cli.get_command(ctx, name), name)  # type: ignore[arg-type]
    formatter = click.HelpFormatter(width=80, max_width=100)
    eager.format_commands(click.Context(eager, info_name="monitor"), formatter)
    rendered = formatter.getvalue()
    assert "Commands:" in rendered
    assert lazy.output.endswith(rendered)


def helps_in_a_fresh_interpreter(commands: list[list[str]], loaded: str) -> tuple[str, list[str]]:
    """Run each command's help in a clean interpreter (in this one the tests above have
    imported every command already): its output, and the modules ``loaded`` (a generator
    expression over ``m``, the names of sys.modules) picks."""
    script = (
        "import sys\n"
        "from monitor.cli import cli\n"
        f"for args in {commands!r}:\n"
        "    try:\n"
        "        cli(args, prog_name='monitor')\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print('LOADED', ' '.join(sorted({loaded})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert out.returncode == 0, out.stderr
    text, _, names = out.stdout.rpartition("LOADED")
    return text, names.split()


def test_help_and_version_import_no_command_module() -> None:
    text, loaded = helps_in_a_fresh_interpreter(
        [["--help"], ["--version"]],
        "m for m in sys.modules if m.startswith('monitor.')"
        " or m.split('.')[0] in {'sqlite3', 'logging', 'rich', 'httpx', 'yaml'}",
    )
    assert "Commands:" in text
    assert "monitor, version" in text
    assert loaded == ["monitor.cli", "monitor.cli.common", "monitor.errors"]


def test_search_and_export_help_open_no_store_and_compile_nothing() -> None:
    # Their help was 0.2-0.4 s: the command module imported the search stack at the top.
    text, loaded = helps_in_a_fresh_interpreter(
        [["search", "--help"], ["export", "--help"]],
        "m for m in sys.modules if m.startswith("
        "('monitor.store', 'monitor.rules', 'monitor.archive_search', 'sqlite_utils'))",
    )
    assert "monitor search 'gallium OR germanium'" in text
    assert "monitor export --rule critical-minerals" in text
    assert loaded == []


def test_a_database_error_below_any_command_is_a_message_and_exit_2() -> None:
    # The net in MonitorGroup imports sqlite3 only once an error arrives; it must still
    # turn sqlite3 errors into a message and let every other exception through.
    import sqlite3

    from monitor.cli.common import AppContext, MonitorGroup

    @click.group(cls=MonitorGroup)
    @click.pass_context
    def group(ctx: click.Context) -> None:
        p = Path("x.db")
        ctx.obj = AppContext(feeds_path=p, rules_path=p, settings_path=p, db_path=p)

    @group.command()
    def broken() -> None:
        raise sqlite3.DatabaseError("attempt to write a readonly database")

    @group.command()
    def other() -> None:
        raise ValueError("not ours")

    result = CliRunner().invoke(group, ["broken"])
    assert result.exit_code == 2
    assert "Error: cannot use the archive x.db: attempt to write a readonly database" in (
        result.output
    )
    assert "run this command as its owner" in result.output
    result = CliRunner().invoke(group, ["other"])
    assert isinstance(result.exception, ValueError)
