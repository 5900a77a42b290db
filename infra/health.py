"""Health checks and the one polling loop every wait goes through (no fixed sleeps)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import requests


class NotReady(Exception):
    """A health check's answer: not (yet) healthy, with why."""


def tcp_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_ok(url: str, timeout: float = 2.0, contains: str | None = None) -> bool:
    try:
        response = requests.get(url, timeout=timeout)
    except requests.RequestException:
        return False
    return response.ok and (contains is None or contains in response.text)


def wait_until(
    check: Callable[[], bool],
    timeout: float,
    what: str,
    alive: Callable[[], bool] | None = None,
    interval: float = 0.25,
    max_interval: float = 2.0,
) -> float:
    """Poll `check` until true; return seconds waited. Raise TimeoutError after `timeout`, or at once
    if `alive` says the process died (no point waiting out the timeout on a crashed server)."""
    start = time.monotonic()
    delay = interval
    while True:
        if check():
            return time.monotonic() - start
        if alive is not None and not alive():
            raise RuntimeError(f"{what}: process exited before it became healthy")
        elapsed = time.monotonic() - start
        if elapsed >= timeout:
            raise TimeoutError(f"{what}: not healthy after {timeout:.0f}s")
        time.sleep(min(delay, max(0.05, timeout - elapsed)))
        delay = min(delay * 1.5, max_interval)
