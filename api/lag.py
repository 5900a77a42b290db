"""The pipeline's consumer lag, read from the stream worker's Prometheus endpoint."""

from __future__ import annotations

import logging
import re

import httpx

log = logging.getLogger(__name__)
_LINE = re.compile(r'^openframe_consumer_lag_messages\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)')


def total_lag(metrics_text: str, group: str) -> int | None:
    """Sum of `openframe_consumer_lag_messages` over the group's partitions; None when the worker
    reports none for it (not started, or another group)."""
    total, seen = 0.0, False
    for line in metrics_text.splitlines():
        match = _LINE.match(line)
        if match and f'group="{group}"' in match.group("labels"):
            seen = True
            total += float(match.group("value"))
    return int(total) if seen else None


class WorkerMetricsLag:
    def __init__(self, url: str, group: str, timeout: float = 2.0) -> None:
        self._url, self._group, self._timeout = url, group, timeout

    async def lag(self) -> int | None:
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.get(self._url)
                response.raise_for_status()
        except httpx.HTTPError as exc:
            log.info("worker metrics unavailable: %s", exc)
            return None
        return total_lag(response.text, self._group)
