"""Build the real readers from the settings (the CLI and the integration tests use this)."""

from __future__ import annotations

from typing import Any

from api.lag import WorkerMetricsLag
from api.readers.base import Readers
from api.readers.cassandra import CassandraReader
from api.readers.pinot import PinotReader
from api.settings import ApiSettings


def api_settings(root: Any) -> ApiSettings:
    """`root.api` once the root Settings composes it; until then the defaults."""
    found = getattr(root, "api", None)
    return found if isinstance(found, ApiSettings) else ApiSettings()


def build_readers(root: Any, settings: ApiSettings) -> Readers:
    p, c = root.pinot, root.cassandra
    return Readers(
        logs=PinotReader(f"http://{p.broker_host}:{p.broker_port}", settings.pinot_table or root.pinot_sink.table,
                         settings.query_timeout_seconds),
        events=CassandraReader(c.hosts, c.port, settings.keyspace or c.keyspace, settings.query_timeout_seconds),
        lag=WorkerMetricsLag(settings.worker_metrics_url, settings.worker_group),
    )
