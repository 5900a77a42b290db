"""`openframe-stream tooldb init`."""

from __future__ import annotations

import click

from infra.tooldb.provision import provision
from openframe_stream.cli import settings_of


@click.group("tooldb")
def tooldb() -> None:
    """The tools' own databases: Tactical RMM (PostgreSQL) and Fleet (MariaDB) tables."""


@tooldb.command("init")
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the real-shaped tool tables, CDC grants and the PostgreSQL publication (idempotent)."""
    for database, done in provision(settings_of(ctx)).items():
        for line in done or ["up to date"]:
            click.echo(f"{database}: {line}")
