"""Build the real readers from the settings (the CLI and the integration tests use this)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from api.lag import WorkerMetricsLag
from api.readers.base import Readers
from api.readers.cassandra import CassandraReader
from api.readers.pinot import PinotReader
from api.settings import ApiSettings

if TYPE_CHECKING:
    from openframe_stream.settings import Settings


def api_settings(root: Settings) -> ApiSettings:
    return root.api


def build_readers(root: Any, settings: ApiSettings) -> Readers:
    p, c = root.pinot, root.cassandra
    return Readers(
        logs=PinotReader(f"http://{p.broker_host}:{p.broker_port}", settings.pinot_table or root.pinot_sink.table,
                         settings.query_timeout_seconds),
        events=CassandraReader(c.hosts, c.port, settings.keyspace or c.keyspace, settings.query_timeout_seconds),
        lag=WorkerMetricsLag(settings.worker_metrics_url, settings.worker_group),
    )
