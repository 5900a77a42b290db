"""`openframe-stream settings`: every setting with its environment name, default and meaning."""

from __future__ import annotations

from pathlib import Path

import click

from openframe_stream.settings import Settings, describe

_REPO = str(Path(__file__).resolve().parent.parent)


def markdown_table() -> str:
    lines = ["| environment variable | default | meaning |", "|---|---|---|"]
    for env, default, doc in describe(Settings):
        # Paths under the checkout or the home folder read the same on every machine.
        shown = default.replace(_REPO, "<checkout>").replace(str(Path.home()), "~")
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        lines.append(f"| `{env}` | `{shown}` | {doc.replace('|', '/')} |")
    return "\n".join(lines)


@click.command("settings")
def settings_command() -> None:
    """Print every setting as a Markdown table (the README's settings section)."""
    click.echo(markdown_table())
