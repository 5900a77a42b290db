"""Every managed service, in the order `stack up` considers them."""

from __future__ import annotations

from infra.services.base import Launch, Service
from infra.services.cassandra import CASSANDRA
from infra.services.databases import MARIADB, POSTGRES
from infra.services.kafka import CONNECT, KAFKA
from infra.services.messaging import MONGO, NATS
from infra.services.pinot import PINOT, PINOT_ZK

SERVICES: dict[str, Service] = {
    s.name: s for s in (POSTGRES, MARIADB, NATS, MONGO, KAFKA, CONNECT, CASSANDRA, PINOT_ZK, PINOT)
}

__all__ = ["SERVICES", "Launch", "Service"]
