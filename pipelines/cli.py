"""`openframe-stream map` and `openframe-stream mappers list|new`."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import BinaryIO

import click
from rich.console import Console
from rich.table import Table

from openframe_stream.cli import settings_of
from openframe_stream.errors import ConfigError
from pipelines.jsonl import map_lines
from pipelines.mappers import Registry, load_mappers
from pipelines.scaffold import new_mapper


def _loaded_registry() -> Registry:
    # Fail fast, with the plugin's name, on a broken third-party mapper or a clash.
    try:
        return load_mappers()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("map")
@click.argument("file", type=click.File("rb"), default="-")
@click.option("-o", "--output", type=click.File("wb"), default="-", help="Where to write (default stdout).")
@click.pass_context
def map_command(ctx: click.Context, file: BinaryIO, output: BinaryIO) -> None:
    """Map Kafka records (JSON lines, from FILE or stdin) to unified events: one output line per
    input line, in order: mapped, skipped or dead_letter."""
    settings = settings_of(ctx).pipeline
    _loaded_registry()
    for line in map_lines(file, settings):
        output.write(line + b"\n")


@click.group("mappers")
def mappers() -> None:
    """List and scaffold tool mappers."""


@mappers.command("list")
def list_mappers() -> None:
    """Every registered mapper: name, tool, the sources it handles, the package it comes from."""
    registry = _loaded_registry()
    table = Table("name", "tool", "sources", "package")
    for spec in sorted(registry.specs(), key=lambda s: s.name):
        table.add_row(spec.name, spec.tool, ", ".join(spec.sources), spec.package)
    width = max(shutil.get_terminal_size((120, 20)).columns, 100)
    Console(width=width).print(table)


@mappers.command("new")
@click.argument("name")
@click.option("--tool", help="Tool type, UPPER_SNAKE (default: NAME upper-cased).")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Project root: files go to <root>/pipelines/... and <root>/tests/...",
)
def new_mapper_command(name: str, tool: str | None, root: Path) -> None:
    """Scaffold mapper NAME: module, taxonomy, fixture folder and a test that fails until filled in."""
    try:
        written = new_mapper(root, name, tool)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    for path in written:
        click.echo(f"created {path}")
    click.echo(
        f"next: import {name} in pipelines/mappers/__init__.py, route it in PipelineSettings, map its "
        f"source types in pipelines/taxonomy/, then fill the fixtures until tests/unit/pipelines/mappers/"
        f"test_{name}.py passes (see README, 'Add a tool')."
    )
