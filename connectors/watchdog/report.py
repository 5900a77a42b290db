"""What `connectors status` shows beside each connector's state: its lag, and the watchdog's verdict."""

from __future__ import annotations

from dataclasses import dataclass

import requests
from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Judged:
    """The running watchdog's view of one connector, read from its `/metrics`."""

    stalled: bool
    stalled_seconds: float
    lag_bytes: float


def read_watchdog(url: str, timeout: float = 2.0) -> dict[str, Judged] | None:
    """Connector -> verdict from a watchdog's `/metrics`; None when no watchdog answers there."""
    try:
        text = requests.get(url, timeout=timeout).text
    except requests.RequestException:
        return None
    return parse_watchdog(text)


def parse_watchdog(text: str) -> dict[str, Judged]:
    values: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            connector = sample.labels.get("connector")
            if connector is not None:
                values.setdefault(connector, {})[sample.name] = sample.value
    return {
        name: Judged(
            stalled=v.get("openframe_connector_stalled", 0.0) >= 1,
            stalled_seconds=v.get("openframe_connector_stalled_seconds", 0.0),
            lag_bytes=v.get("openframe_connector_source_lag_bytes", 0.0),
        )
        for name, v in values.items()
    }


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def progress_cell(lag_bytes: int | None, judged: Judged | None, watchdog_up: bool) -> tuple[str, bool]:
    """(text, stalled) for the status table: the lag seen now, and the watchdog's stall verdict."""
    lag = "lag ?" if lag_bytes is None else f"lag {human_bytes(lag_bytes)}"
    if not watchdog_up:
        return f"{lag} (no watchdog)", False
    if judged is None:
        return f"{lag} (not watched)", False
    if judged.stalled:
        return f"STALLED {judged.stalled_seconds:.0f}s, {lag}", True
    return f"progressing, {lag}", False
