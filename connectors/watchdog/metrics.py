"""The watchdog's Prometheus metrics, in a registry of its own (tests run several watchdogs)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from connectors.watchdog.decide import Action, RestartTask, Verdict


class WatchdogMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._stalled = Gauge(
            "openframe_connector_stalled",
            "1 while the connector's source is ahead and its position has not moved for stall_seconds.",
            ["connector"],
            registry=self.registry,
        )
        self._stalled_seconds = Gauge(
            "openframe_connector_stalled_seconds",
            "Seconds the source has been ahead while the connector's position stood still.",
            ["connector"],
            registry=self.registry,
        )
        self._lag = Gauge(
            "openframe_connector_source_lag_bytes",
            "Bytes of WAL (slot confirmed_flush_lsn) or binlog (committed offset) the connector is behind.",
            ["connector"],
            registry=self.registry,
        )
        self._age = Gauge(
            "openframe_connector_position_age_seconds",
            "Seconds since the connector's position last moved.",
            ["connector"],
            registry=self.registry,
        )
        self._actions = Counter(
            "openframe_connector_heal_actions",
            "Healing actions taken: task restarts and ended stale replication backends.",
            ["connector", "action"],
            registry=self.registry,
        )

    def record(self, verdict: Verdict) -> None:
        name = verdict.connector
        self._stalled.labels(name).set(1 if verdict.stalled else 0)
        self._stalled_seconds.labels(name).set(verdict.stalled_seconds)
        self._lag.labels(name).set(verdict.lag_bytes)
        self._age.labels(name).set(verdict.position_age)

    def acted(self, action: Action) -> None:
        kind = "restart_task" if isinstance(action, RestartTask) else "terminate_backend"
        self._actions.labels(action.connector, kind).inc()

    def serve(self, host: str, port: int) -> Any:
        """Serve `/metrics` in a daemon thread; returns the server (`.server_port`, `.shutdown()`)."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        return server
