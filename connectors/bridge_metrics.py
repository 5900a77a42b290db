"""The bridge's Prometheus metrics, in a registry of their own (a process may run two bridges,
e.g. in tests, and prometheus-client refuses to register one name twice in a registry)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server


class BridgeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._in = Counter("ofs_bridge_messages_in", "NATS messages fetched by the bridge.", registry=self.registry)
        self._out = Counter(
            "ofs_bridge_messages_out",
            "Results Kafka confirmed on the raw topic, by message type.",
            ["message_type"],
            registry=self.registry,
        )
        self._dead = Counter(
            "ofs_bridge_dead_letters",
            "Malformed messages Kafka confirmed on the dead-letter topic, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self._failed = Counter(
            "ofs_bridge_delivery_failures",
            "Messages Kafka did not confirm; left to JetStream to redeliver.",
            registry=self.registry,
        )
        self._pending = Gauge(
            "ofs_bridge_consumer_pending",
            "Messages in the stream not yet delivered to the bridge's consumer.",
            registry=self.registry,
        )
        self._ack_pending = Gauge(
            "ofs_bridge_consumer_ack_pending",
            "Messages delivered to the bridge and not yet acked.",
            registry=self.registry,
        )

    def fetched(self, n: int) -> None:
        self._in.inc(n)

    def forwarded(self, message_type: str) -> None:
        self._out.labels(message_type).inc()

    def dead_lettered(self, reason: str) -> None:
        self._dead.labels(reason).inc()

    def delivery_failed(self) -> None:
        self._failed.inc()

    def set_pending(self, pending: int, ack_pending: int) -> None:
        self._pending.set(pending)
        self._ack_pending.set(ack_pending)

    def serve(self, host: str, port: int) -> Any:
        """Serve `/metrics` in a daemon thread; returns the server (`.server_port`, `.shutdown()`)."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        return server
