"""`openframe-stream stack up|status|down|reset|logs`."""

from __future__ import annotations

import sys
import threading
import time

import click
from rich.console import Console
from rich.live import Live
from rich.table import Table

from infra import process
from infra import stack as stack_ops
from openframe_stream.cli import settings_of


def _human_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    return f"{n / 2**20:.0f} MiB"


def _human_secs(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 120:
        return f"{s:.0f}s"
    return f"{s / 60:.0f}m" if s < 7200 else f"{s / 3600:.1f}h"


@click.group()
def stack() -> None:
    """The local stack: Kafka, Connect + Debezium, Cassandra, Pinot, PostgreSQL, MariaDB, NATS, MongoDB-wire."""


@stack.command()
@click.argument("services", nargs=-1)
@click.pass_context
def up(ctx: click.Context, services: tuple[str, ...]) -> None:
    """Start what is down (all managed services, or SERVICES and their dependencies)."""
    settings = settings_of(ctx)
    console = Console(stderr=True)
    phases: dict[str, tuple[str, float]] = {}
    lock = threading.Lock()
    names = [s.name for s in stack_ops.managed(settings, services or None)]
    begin = time.monotonic()

    def progress(name: str, phase: str) -> None:
        with lock:
            first = phases.get(name, (phase, time.monotonic()))[1]
            phases[name] = (phase, first)

    def render() -> Table:
        table = Table(title="openframe-stream stack up", title_justify="left")
        for col in ("service", "state", "elapsed"):
            table.add_column(col)
        now = time.monotonic()
        with lock:
            for name in names:
                phase, first = phases.get(name, ("pending", now))
                style = {"up": "green", "failed": "red"}.get(phase, "yellow")
                elapsed = finished.get(name, now - first if name in phases else 0.0)
                table.add_row(name, f"[{style}]{phase}[/]", f"{elapsed:5.1f}s")
        return table

    finished: dict[str, float] = {}
    result: list[stack_ops.Outcome] = []
    worker = threading.Thread(target=lambda: result.extend(stack_ops.up(settings, services or None, progress)))
    worker.start()
    with Live(render(), console=console, refresh_per_second=4, transient=not console.is_terminal) as live:
        while worker.is_alive():
            worker.join(0.25)
            live.update(render())
        for outcome in result:
            finished[outcome.name] = outcome.seconds
        live.update(render())
    failed = [o for o in result if not o.ok]
    for outcome in result:
        verdict = "OK" if outcome.ok else "FAILED"
        note = "" if outcome.started or not outcome.ok else " (already up)"
        click.echo(f"{outcome.name:<10} {verdict:<6} {outcome.seconds:6.1f}s{note}")
    click.echo(f"total {time.monotonic() - begin:6.1f}s")
    for outcome in failed:
        click.echo(f"\n--- {outcome.name} failed: {outcome.error}", err=True)
        click.echo(f"--- last lines of {process.log_file(settings.stack.run_dir, outcome.name)}:", err=True)
        click.echo(stack_ops.log_tail(settings, outcome.name), err=True)
    if failed:
        sys.exit(1)


@stack.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """A table: service, state, port, pid, health, uptime, RSS. Exit 1 if a managed service is unhealthy."""
    settings = settings_of(ctx)
    rows = stack_ops.status(settings)
    table = Table()
    for col in ("service", "state", "port", "pid", "health", "uptime", "RSS"):
        table.add_column(col)
    for row in rows:
        health = "[green]healthy[/]" if row.healthy else "[red]down[/]"
        table.add_row(
            row.name,
            row.state,
            str(row.port),
            str(row.pid or "-"),
            health,
            _human_secs(row.uptime),
            _human_bytes(row.rss_bytes),
        )
    Console(width=100).print(table)
    if any(not r.healthy for r in rows if r.state != "external"):
        sys.exit(1)


@stack.command()
@click.argument("services", nargs=-1)
@click.pass_context
def down(ctx: click.Context, services: tuple[str, ...]) -> None:
    """Stop services cleanly (reverse dependency order). Data is kept."""
    stopped = stack_ops.down(settings_of(ctx), services or None)
    click.echo("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@stack.command()
@click.confirmation_option(prompt="Stop everything and wipe all local data?")
@click.pass_context
def reset(ctx: click.Context) -> None:
    """Stop everything and wipe the data (cached jars and binaries stay)."""
    settings = settings_of(ctx)
    stack_ops.reset(settings)
    click.echo(f"wiped {settings.stack.run_dir}")


@stack.command()
@click.argument("service")
@click.option("-n", "--lines", default=60, show_default=True, help="How many lines from the end.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines.")
@click.pass_context
def logs(ctx: click.Context, service: str, lines: int, follow: bool) -> None:
    """Show a service's log."""
    settings = settings_of(ctx)
    stack_ops.managed(settings, [service])  # validates the name
    click.echo(stack_ops.log_tail(settings, service, lines))
    if follow:
        path = process.log_file(settings.stack.run_dir, service)
        with path.open("rb") as handle:
            handle.seek(0, 2)
            while True:
                chunk = handle.readline()
                if chunk:
                    click.echo(chunk.decode(errors="replace"), nl=False)
                else:
                    time.sleep(0.2)
