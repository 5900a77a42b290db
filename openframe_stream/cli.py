"""`openframe-stream`: the one CLI. Subcommands live beside the code they drive and load lazily,
so `openframe-stream map` never imports the Cassandra driver and a broken optional part cannot
break the others."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import click

from openframe_stream.settings import Settings

# name -> "module:attribute" of a click command or group.
SUBCOMMANDS: dict[str, str] = {
    "stack": "infra.cli:stack",
    "run": "topologies.cli:run",
    "demo": "openframe_stream.demo:demo",
    "settings": "openframe_stream.settings_cli:settings_command",
    "dlq": "topologies.cli:dlq",
    "map": "pipelines.cli:map_command",
    "mappers": "pipelines.cli:mappers",
    "connectors": "connectors.cli:connectors",
    "tooldb": "infra.tooldb.cli:tooldb",
    "bridge": "connectors.nats_bridge:bridge_command",
    "reference": "connectors.reference_sync:reference",
    "traffic": "infra.traffic.cli:traffic",
    "api": "api.cli:api",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command


class AppContext:
    """Carried in `ctx.obj`: settings are built on first use, once, and then shared."""

    def __init__(self, settings_file: Path | None) -> None:
        self._file = settings_file
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.load(file=self._file)
        return self._settings

    @property
    def settings_file(self) -> Path | None:
        return self._file


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--settings",
    "settings_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="OFS_SETTINGS_FILE",
    help="TOML settings file (environment variables OFS_* take precedence).",
)
@click.version_option(package_name="openframe-stream")
@click.pass_context
def main(ctx: click.Context, settings_file: Path | None) -> None:
    """OpenFrame Stream: MSP tool events into one enriched, multi-tenant stream."""
    ctx.obj = AppContext(settings_file)


def settings_of(ctx: click.Context) -> Settings:
    """The process's settings, for subcommands."""
    obj: Any = ctx.find_object(AppContext)
    if obj is None:  # invoked outside `main`, e.g. in a test through the sub-command alone
        obj = AppContext(None)
        ctx.obj = obj
    settings: Settings = obj.settings
    return settings
