"""One exception root; mixins say what the caller should do with a failure.

`Transient` failures are retried with backoff (the offset is not committed meanwhile); `Terminal`
failures go to the dead-letter topic with their reason. Backpressure carries how long to pause.
"""

from __future__ import annotations


class PlatformError(Exception):
    """Root of every error this project raises on purpose."""


class Transient(PlatformError):
    """Retry later: the same input may succeed (a server is down, a timeout, a rebalance)."""


class Terminal(PlatformError):
    """Never retry: the input itself is bad. Route it to the dead-letter topic with `reason`."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class Backpressure(Transient):
    """A sink is saturated or down; pause consumption for `retry_after` seconds, then retry."""

    def __init__(self, retry_after: float, detail: str = "") -> None:
        super().__init__(detail or f"backpressure, retry after {retry_after:.1f}s")
        self.retry_after = retry_after


class ConfigError(PlatformError):
    """Settings or a versioned config file are wrong; fail fast at start."""
