"""`openframe-stream connectors apply|status|validate|restart|delete`."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from connectors.connect import (
    ConnectClient,
    ConnectorFailed,
    apply,
    state_rows,
    validation_errors,
    wait_running,
)
from connectors.diff import render_diff
from connectors.settings import connector_settings, watchdog_settings
from connectors.specs import Connector, connectors_for, is_secret
from connectors.watchdog import probes
from connectors.watchdog.report import progress_cell, read_watchdog
from openframe_stream.cli import settings_of
from openframe_stream.errors import PlatformError

_NAMES = click.argument("names", nargs=-1)


def _setup(ctx: click.Context, names: tuple[str, ...]) -> tuple[ConnectClient, list[Connector], float]:
    settings = settings_of(ctx)
    options = connector_settings(settings)
    try:
        chosen = connectors_for(settings, names)
    except PlatformError as exc:
        raise click.ClickException(str(exc)) from exc
    return ConnectClient(settings.connect.url, options.request_timeout), chosen, options.running_timeout


@click.group("connectors")
def connectors() -> None:
    """The Debezium connectors (versioned files in connectors/debezium/) on Kafka Connect."""


@connectors.command("apply")
@_NAMES
@click.option("--include-mongo", is_flag=True, help="Also apply the MongoDB connectors (need a replica set).")
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@click.option("--wait/--no-wait", default=True, help="Wait until each changed connector runs.")
@click.pass_context
def apply_command(ctx: click.Context, names: tuple[str, ...], include_mongo: bool, dry_run: bool, wait: bool) -> None:
    """PUT each connector's config when it differs from Connect's, printing the diff (nothing if unchanged)."""
    client, chosen, timeout = _setup(ctx, names)
    console = Console(soft_wrap=True)
    for connector in chosen:
        if connector.template.needs_change_streams and not include_mongo and connector.name not in names:
            console.print(f"[dim]{connector.name}: skipped (MongoDB change streams; use --include-mongo)[/dim]")
            continue
        try:
            result = apply(client, connector, dry_run=dry_run)
        except PlatformError as exc:
            raise click.ClickException(f"{connector.name}: {exc}") from exc
        if not result.changes:
            console.print(f"{connector.name}: unchanged")
            continue
        verb = "would create" if dry_run and result.created else "would update" if dry_run else None
        verb = verb or ("created" if result.created else "updated")
        console.print(f"[bold]{connector.name}[/bold]: {verb}", highlight=False)
        for line in render_diff(result.changes, is_secret):
            console.print(f"  {line}", markup=False, highlight=False)
        if result.written and wait:
            try:
                seconds = wait_running(client, connector.name, timeout)
            except (ConnectorFailed, TimeoutError) as exc:
                raise click.ClickException(str(exc)) from exc
            console.print(f"  running after {seconds:.1f}s")


@connectors.command("validate")
@_NAMES
@click.pass_context
def validate_command(ctx: click.Context, names: tuple[str, ...]) -> None:
    """Check every connector (MongoDB ones too) with Connect's validate endpoint; errors per field."""
    client, chosen, _ = _setup(ctx, names)
    console = Console(soft_wrap=True)
    failed = 0
    for connector in chosen:
        body = client.validate(connector.template.connector_class, dict(connector.config, name=connector.name))
        errors = validation_errors(body)
        if not errors:
            console.print(f"{connector.name}: valid")
            continue
        failed += 1
        console.print(f"[bold red]{connector.name}[/bold red]: {len(errors)} field(s) with errors")
        for field, messages in errors.items():
            for message in messages:
                console.print(f"  {field}: {message}", markup=False, highlight=False)
    if failed:
        raise click.ClickException(f"{failed} connector config(s) invalid")


@connectors.command("status")
@_NAMES
@click.pass_context
def status_command(ctx: click.Context, names: tuple[str, ...]) -> None:
    """Connector and task states, and progress: the source lag now and the watchdog's stall verdict."""
    client, chosen, _ = _setup(ctx, names)
    watch = watchdog_settings(settings_of(ctx))
    judged = read_watchdog(f"http://{watch.metrics_host}:{watch.metrics_port}/metrics")
    targets = {c.name: probes.Target.of(c) for c in chosen}
    wanted = [c.name for c in chosen]
    if not names:
        wanted += [n for n in client.names() if n not in wanted]
    table = Table("connector", "unit", "state", "progress", "worker", "trace")
    unhealthy = 0
    for name in wanted:
        for row in state_rows(name, client.status(name)):
            unhealthy += row.state not in ("RUNNING", "ABSENT")
            style = {"RUNNING": "green", "FAILED": "red", "ABSENT": "dim"}.get(row.state, "yellow")
            progress = ""
            target = targets.get(name)
            if row.unit == "connector" and row.state != "ABSENT" and target is not None:
                lag = probes.lag_now(target, client)
                progress, stalled = progress_cell(lag, (judged or {}).get(name), judged is not None)
                unhealthy += stalled
                progress = f"[red]{progress}[/red]" if stalled else progress
            state = f"[{style}]{row.state}[/{style}]"
            table.add_row(row.connector, row.unit, state, progress, row.worker, row.trace)
    Console().print(table)
    if unhealthy:
        ctx.exit(1)


@connectors.command("watch")
@_NAMES
@click.option("--once", is_flag=True, help="Look once, print the verdicts, take the actions, and exit.")
@click.pass_context
def watch_command(ctx: click.Context, names: tuple[str, ...], once: bool) -> None:
    """Watch the CDC connectors by progress; restart stalled tasks and end stale replication backends."""
    import logging
    import signal
    import threading

    from connectors.watchdog.watchdog import Watchdog, targets_of

    settings = settings_of(ctx)
    policy = watchdog_settings(settings)
    client, chosen, _ = _setup(ctx, names or policy.connectors)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    dog = Watchdog(targets_of(chosen), client, policy)
    console = Console(soft_wrap=True)
    if once:
        for verdict in dog.tick():
            lag = f"lag {verdict.lag_bytes} B, position unmoved {verdict.position_age:.0f}s"
            console.print(f"{verdict.connector}: {verdict.state} ({lag}) {verdict.why}", highlight=False)
        return
    server = dog.metrics.serve(policy.metrics_host, policy.metrics_port)
    console.print(
        f"watching {', '.join(t.name for t in dog.targets)} every {policy.interval_seconds:g}s "
        f"(stalled after {policy.stall_seconds:g}s); metrics on :{server.server_port}/metrics",
        highlight=False,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        dog.run(stop)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()


@connectors.command("restart")
@_NAMES
@click.pass_context
def restart_command(ctx: click.Context, names: tuple[str, ...]) -> None:
    """Restart only FAILED connector instances and tasks (KIP-745)."""
    client, chosen, _ = _setup(ctx, names)
    console = Console(soft_wrap=True)
    for connector in chosen:
        answer = client.restart_failed(connector.name)
        if answer is None:
            console.print(f"{connector.name}: not on Connect")
            continue
        restarting = [row for row in state_rows(connector.name, answer) if row.state == "RESTARTING"]
        what = ", ".join(row.unit for row in restarting) or "nothing failed"
        console.print(f"{connector.name}: {what}")


@connectors.command("delete")
@click.argument("names", nargs=-1, required=True)
@click.pass_context
def delete_command(ctx: click.Context, names: tuple[str, ...]) -> None:
    """Delete connectors by name (any name on Connect, not only the files')."""
    settings = settings_of(ctx)
    client = ConnectClient(settings.connect.url, connector_settings(settings).request_timeout)
    for name in names:
        click.echo(f"{name}: {'deleted' if client.delete(name) else 'not on Connect'}")
