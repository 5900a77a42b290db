"""`openframe-stream demo`: the main job. Brings the stack up, creates the tool tables, applies the
connectors, syncs reference data, starts the worker and the NATS bridge, feeds generated tool
traffic, and shows live counts until Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import click
import requests
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from infra import stack
from infra.health import http_ok, wait_until
from openframe_stream.cli import settings_of
from openframe_stream.settings import Settings

TOOLS = ("FLEET", "TACTICAL", "MESHCENTRAL", "RMM")


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "openframe_stream", *args]


def parse_metrics(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Prometheus text format -> {name: [(labels, value)]} (enough for the counters we show)."""
    out: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        name, _, rest = head.partition("{")
        labels = {}
        for part in rest.rstrip("}").split('",'):
            if "=" in part:
                key, _, val = part.partition("=")
                labels[key.strip()] = val.strip().strip('"')
        with contextlib.suppress(ValueError):
            out[name].append((labels, float(value)))
    return out


def _sum(metrics: dict[str, list[tuple[dict[str, str], float]]], name: str, **match: str) -> float:
    return sum(v for labels, v in metrics.get(name, []) if all(labels.get(k) == m for k, m in match.items()))


def _quantile(metrics: dict[str, list[tuple[dict[str, str], float]]], name: str, q: float, **match: str) -> float:
    buckets = sorted(
        (float(labels["le"]), v)
        for labels, v in metrics.get(name + "_bucket", [])
        if all(labels.get(k) == m for k, m in match.items()) and labels.get("le") not in (None, "+Inf")
    )
    total = _sum(metrics, name + "_count", **match)
    if not total:
        return float("nan")
    for bound, count in buckets:
        if count >= q * total:
            return bound
    return float("inf")


def _ms(seconds: float) -> str:
    """A quantile's histogram bound as the demo shows it: milliseconds below 10 s."""
    if seconds != seconds:  # NaN: no event yet
        return "n/a"
    if seconds == float("inf"):
        return "over 15 min"  # past the histogram's last bucket (900 s): old events from a backlog
    if seconds >= 10:
        return f"<= {seconds:g}s"
    return f"<= {seconds * 1000:.0f}ms"


@dataclass
class Children:
    logs: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, argv: list[str]) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        out = (self.logs / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)  # noqa: S603

    def check(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                tail = (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]
                raise click.ClickException(f"{name} exited ({proc.returncode}):\n{tail}")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def _step(console: Console, what: str, argv: list[str]) -> None:
    started = time.monotonic()
    result = subprocess.run(argv, capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        raise click.ClickException(f"{what} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    console.print(f"[green]OK[/] {what} ({time.monotonic() - started:.1f}s)")


def _pinot_rows(settings: Settings) -> int | None:
    try:
        response = requests.post(
            f"http://{settings.pinot.broker_host}:{settings.pinot.broker_port}/query/sql",
            json={"sql": f"SELECT COUNT(*) FROM {settings.pinot_sink.table}"},
            timeout=2,
        )
        rows = response.json().get("resultTable", {}).get("rows", [])
        return int(rows[0][0]) if rows else 0
    except (requests.RequestException, ValueError, KeyError, IndexError):
        return None


def _view(settings: Settings, worker: str, bridge: str, started: float) -> Group:
    try:
        w = parse_metrics(requests.get(worker, timeout=2).text)
    except requests.RequestException:
        w = {}
    try:
        b = parse_metrics(requests.get(bridge, timeout=2).text)
    except requests.RequestException:
        b = {}
    tools = Table(title=f"OpenFrame Stream: live for {time.monotonic() - started:.0f}s (Ctrl-C to stop)")
    for col in ("tool", "normalized", "enriched", "in Cassandra", "enrichment misses"):
        tools.add_column(col, justify="right" if col != "tool" else "left")
    for tool in TOOLS:
        tools.add_row(
            tool,
            f"{_sum(w, 'openframe_records_out_total', stage='normalize', tool=tool):,.0f}",
            f"{_sum(w, 'openframe_records_out_total', stage='enrich', tool=tool):,.0f}",
            f"{_sum(w, 'openframe_records_out_total', stage='sink', tool=tool):,.0f}",
            f"{_sum(w, 'openframe_enrichment_misses_total', tool=tool):,.0f}",
        )
    health = Table(show_header=False)
    health.add_column("what")
    health.add_column("value", justify="right")
    lag_messages = max((v for _, v in w.get("openframe_consumer_lag_messages", [])), default=0.0)
    lag_seconds = max((v for _, v in w.get("openframe_consumer_lag_seconds", [])), default=0.0)
    pinot = _pinot_rows(settings)
    health.add_row("agent results bridged from NATS", f"{_sum(b, 'ofs_bridge_messages_out_total'):,.0f}")
    health.add_row("dead letters", f"{_sum(w, 'openframe_dead_letters_total'):,.0f}")
    health.add_row("skipped (deletes, skip-listed)", f"{_sum(w, 'openframe_records_skipped_total'):,.0f}")
    health.add_row("consumer lag (max)", f"{lag_messages:,.0f} msgs / {lag_seconds:.1f}s")
    health.add_row("rows in Pinot `logs`", "-" if pinot is None else f"{pinot:,}")
    health.add_row("CDC connectors (watchdog)", _cdc_progress(settings))
    p50 = _quantile(w, "openframe_end_to_end_seconds", 0.5, sink="cassandra")
    p99 = _quantile(w, "openframe_end_to_end_seconds", 0.99, sink="cassandra")
    health.add_row("end-to-end to Cassandra p50 / p99", f"{_ms(p50)} / {_ms(p99)}")
    return Group(tools, health)


def _cdc_progress(settings: Settings) -> str:
    from connectors.watchdog.report import read_watchdog

    watch = settings.watchdog
    judged = read_watchdog(f"http://{watch.metrics_host}:{watch.metrics_port}/metrics", timeout=1)
    if not judged:
        return "-"
    return ", ".join(
        f"{name}: " + (f"[red]STALLED {j.stalled_seconds:.0f}s[/]" if j.stalled else "progressing")
        for name, j in sorted(judged.items())
    )


@click.command()
@click.option("--rate", default=20.0, show_default=True, help="Generated tool events per second.")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds (default: Ctrl-C).")
@click.pass_context
def demo(ctx: click.Context, rate: float, duration: float | None) -> None:
    """The main job: stack up, connectors, reference data, worker and bridge, live tool traffic."""
    settings = settings_of(ctx)
    console = Console()
    console.print("[bold]Bringing the local stack up[/] (first run provisions it from the registries)")
    outcomes = stack.up(
        settings,
        progress=lambda name, phase: console.print(f"  {name}: {phase}") if phase in ("up", "failed") else None,
    )
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise click.ClickException("; ".join(f"{o.name}: {o.error}" for o in failed))
    _step(console, "tool tables in PostgreSQL and MariaDB", _cli("tooldb", "init"))
    children = Children(settings.stack.run_dir / "demo")
    worker_url = f"http://{settings.worker.web_host}:{settings.worker.web_port}"
    bridge_url = f"http://{settings.bridge.metrics_host}:{settings.bridge.metrics_port}/metrics"
    try:
        children.start("worker", _cli("run", "--no-bridge"))
        wait_until(
            lambda: http_ok(worker_url + "/healthz"),
            timeout=120,
            what="worker",
            alive=lambda: children.procs["worker"].poll() is None,
        )
        console.print("[green]OK[/] stream worker running (metrics at " + worker_url + "/metrics)")
        _step(console, "Debezium connectors (Tactical on PostgreSQL, Fleet on MariaDB)", _cli("connectors", "apply"))
        # The watchdog restarts a CDC task that stops progressing (e.g. after a broker restart, issue 16).
        children.start("watchdog", _cli("connectors", "watch"))
        children.start("bridge", _cli("bridge"))
        children.start("traffic", _cli("traffic", "--rate", str(rate)))
        children.start("reference", _cli("reference", "sync", "--every", "5"))
        console.print(f"[green]OK[/] bridge, traffic generator and reference sync running; logs in {children.logs}")
        started = time.monotonic()
        with Live(
            _view(settings, worker_url + "/metrics", bridge_url, started), console=console, refresh_per_second=1
        ) as live:
            while duration is None or time.monotonic() - started < duration:
                time.sleep(1)
                children.check()
                live.update(_view(settings, worker_url + "/metrics", bridge_url, started))
    except KeyboardInterrupt:
        console.print("stopping (the stack keeps running; `openframe-stream stack down` stops it)")
    finally:
        children.stop()
