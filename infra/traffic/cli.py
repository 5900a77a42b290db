"""`openframe-stream traffic [--rate N] [--duration S | --count N] [--seed S]` and `run_traffic`."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from connectors.settings import BridgeSettings, bridge_settings
from infra.traffic.estate import build_estate
from infra.traffic.model import TrafficModel
from infra.traffic.settings import TrafficSettings, traffic_settings
from infra.traffic.writer import TrafficWriter
from openframe_stream.cli import settings_of

if TYPE_CHECKING:
    from openframe_stream.settings import Settings

Progress = Callable[[Counter[str], float], None]


async def generate(
    settings: Settings,
    options: TrafficSettings,
    bridge: BridgeSettings,
    rate: float,
    count: int | None,
    duration: float | None,
    seed: int | None,
    stop: threading.Event,
    progress: Progress | None,
) -> Counter[str]:
    estate = build_estate(options, settings.pipeline.tenant_id)
    model = TrafficModel(estate, options, seed)
    writer = TrafficWriter(settings, estate, options, bridge)
    await writer.prepare()
    counts: Counter[str] = Counter()
    start = last_report = time.monotonic()
    written = 0
    try:
        while not stop.is_set() and (count is None or written < count):
            now = time.monotonic()
            if duration is not None and now - start >= duration:
                break
            lag = start + written / rate - now
            if lag > 0:
                await asyncio.sleep(lag)  # pacing to the requested rate
            action = model.next(int(time.time() * 1000))
            await writer.apply(action)
            counts[action.kind] += 1
            written += 1
            if progress is not None and time.monotonic() - last_report >= 5:
                progress(counts, time.monotonic() - start)
                last_report = time.monotonic()
    finally:
        await writer.close()
    return counts


def run_traffic(
    settings: Settings,
    *,
    rate: float | None = None,
    count: int | None = None,
    duration: float | None = None,
    seed: int | None = None,
    stop_event: threading.Event | None = None,
    progress: Progress | None = None,
) -> Counter[str]:
    """Provision the estate, then write events at `rate` per second until `count` events,
    `duration` seconds or `stop_event`. Returns how many of each kind were written."""
    options = traffic_settings(settings)
    return asyncio.run(
        generate(
            settings,
            options,
            bridge_settings(settings),
            rate or options.rate,
            count,
            duration,
            seed,
            stop_event or threading.Event(),
            progress,
        )
    )


@click.command("traffic")
@click.option("--rate", type=float, default=None, help="Events per second (default: setting traffic.rate).")
@click.option("--duration", type=float, default=None, metavar="S", help="Stop after S seconds.")
@click.option("--count", type=int, default=None, metavar="N", help="Stop after N events.")
@click.option("--seed", type=int, default=None, help="Seed of the event sequence (default: random).")
@click.pass_context
def traffic(
    ctx: click.Context, rate: float | None, duration: float | None, count: int | None, seed: int | None
) -> None:
    """Write realistic tool traffic: Tactical RMM and Fleet rows (CDC), agent results on NATS,
    MeshCentral envelopes on Kafka; seeds the reference data in MongoDB first."""
    if duration is not None and count is not None:
        raise click.UsageError("--duration and --count exclude each other")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    def report(counts: Counter[str], elapsed: float) -> None:
        click.echo(f"{sum(counts.values())} events in {elapsed:.0f}s", err=True)

    begin = time.monotonic()
    counts = run_traffic(
        settings_of(ctx), rate=rate, count=count, duration=duration, seed=seed, stop_event=stop, progress=report
    )
    elapsed = time.monotonic() - begin
    click.echo(f"{sum(counts.values())} events in {elapsed:.1f}s")
    for kind, n in sorted(counts.items()):
        click.echo(f"  {kind:24} {n}")
