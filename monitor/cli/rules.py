"""Commands filled in by their issue."""

from __future__ import annotations

import click

commands: list[click.Command] = []
