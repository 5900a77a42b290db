"""Reading the sources and Kafka Connect for the watchdog, and the one write it may do to a source.

Every probe connects as the connector's own user, with the connector's own config (as rendered
for Connect), so a test's copy of a connector is watched exactly like the real one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.connect import ConnectClient
from connectors.specs import Connector
from connectors.watchdog.decide import DEBEZIUM_STREAMING, Backend, Kind, Observation
from connectors.watchdog.positions import binlog_lag_bytes, binlog_ordinal, parse_lsn
from connectors.watchdog.progress import Sample
from openframe_stream.errors import Transient

_KINDS: dict[str, Kind] = {
    "io.debezium.connector.postgresql.PostgresConnector": "postgres",
    "io.debezium.connector.mariadb.MariaDbConnector": "mariadb",
}
_TIMEOUT_S = 5

# The slot, its head and position, and the backend holding it, in one round trip. A missing slot
# still yields a row (the WAL head), with NULLs for the rest.
_PG_SLOT = """
SELECT pg_current_wal_lsn()::text, s.confirmed_flush_lsn::text, s.active_pid, a.application_name, a.usename,
       extract(epoch FROM a.backend_start)::float8, a.state
FROM (SELECT 1) AS one
LEFT JOIN pg_replication_slots AS s ON s.slot_name = %s
LEFT JOIN pg_stat_activity AS a ON a.pid = s.active_pid
"""
# Ends the backend only if it still is the one the watchdog judged: same slot, pid, name, user, start.
_PG_TERMINATE = """
SELECT pg_terminate_backend(a.pid)
FROM pg_replication_slots AS s JOIN pg_stat_activity AS a ON a.pid = s.active_pid
WHERE s.slot_name = %s AND a.pid = %s AND a.application_name = %s AND a.usename = %s
  AND abs(extract(epoch FROM a.backend_start)::float8 - %s) < 0.001
"""


@dataclass(frozen=True)
class Target:
    """A watched connector and how to reach its source."""

    name: str
    kind: Kind
    host: str
    port: int
    user: str
    password: str
    database: str = ""  # PostgreSQL database
    slot: str = ""  # PostgreSQL replication slot

    @classmethod
    def of(cls, connector: Connector) -> Target | None:
        """The target for a rendered connector; None for kinds the watchdog does not judge (MongoDB)."""
        config = connector.config
        kind = _KINDS.get(config["connector.class"])
        if kind is None:
            return None
        return cls(
            name=connector.name,
            kind=kind,
            host=config["database.hostname"],
            port=int(config["database.port"]),
            user=config["database.user"],
            password=config.get("database.password", ""),
            database=config.get("database.dbname", ""),
            slot=config.get("slot.name", "debezium") if kind == "postgres" else "",
        )


def observe(target: Target, client: ConnectClient, now: float) -> Observation:
    """One look at a connector: Connect's states and the source against the task's position.

    A source that cannot be read gives `sample=None`; Connect being down raises ConnectUnavailable.
    """
    status = client.status(target.name)
    if status is None:
        return Observation(target.name, target.kind, "ABSENT", (), None, target.slot, target.user)
    state = str(status.get("connector", {}).get("state", "UNKNOWN"))
    tasks = tuple(sorted((int(t.get("id", 0)), str(t.get("state"))) for t in status.get("tasks", [])))
    offset = _committed_offset(client, target.name)
    snapshot = str(offset.get("snapshot", "false")).lower() in ("true", "initial", "incremental")
    snapshot = snapshot and str(offset.get("last_snapshot_record", "false")).lower() != "true"
    sample, holder, error = read_source(target, offset, now)
    return Observation(
        target.name, target.kind, state, tasks, sample, target.slot, target.user, holder, snapshot, error
    )


def read_source(target: Target, offset: dict[str, Any], now: float) -> tuple[Sample | None, Backend | None, str]:
    """The source against the task's position: (sample, slot holder, why unreadable)."""
    try:
        if target.kind == "postgres":
            sample, holder = postgres_sample(target, now)
            return sample, holder, ""
        return mariadb_sample(target, offset, now), None, ""
    except (OSError, ValueError, SourceUnreadable) as exc:
        return None, None, str(exc)


def _committed_offset(client: ConnectClient, name: str) -> dict[str, Any]:
    offsets = client.offsets(name) or []
    return dict(offsets[0].get("offset") or {}) if offsets else {}


class SourceUnreadable(Transient):
    """The source database refused or failed the probe (wraps the driver's own error)."""


def postgres_sample(target: Target, now: float) -> tuple[Sample, Backend | None]:
    import psycopg

    try:
        with psycopg.connect(
            host=target.host, port=target.port, user=target.user, password=target.password or None,
            dbname=target.database, connect_timeout=_TIMEOUT_S, autocommit=True,
            application_name="openframe-watchdog",
        ) as conn:
            row = conn.execute(_PG_SLOT, (target.slot,)).fetchone()
    except psycopg.Error as exc:
        raise SourceUnreadable(str(exc)) from exc
    assert row is not None  # the query always yields one row
    head = parse_lsn(row[0])
    flushed = parse_lsn(row[1]) if row[1] else None
    holder = None
    if row[2] is not None:
        holder = Backend(int(row[2]), str(row[3] or ""), str(row[4] or ""), float(row[5] or 0.0), str(row[6] or ""))
    lag = head - flushed if flushed is not None else 0
    return Sample(now, head, flushed, max(lag, 0)), holder


def terminate(target: Target, backend: Backend) -> bool:
    """End `backend` if it still holds the target's slot as the same connection; True if it was ended."""
    import psycopg

    with psycopg.connect(
        host=target.host, port=target.port, user=target.user, password=target.password or None,
        dbname=target.database, connect_timeout=_TIMEOUT_S, autocommit=True,
        application_name="openframe-watchdog",
    ) as conn:
        args = (target.slot, backend.pid, DEBEZIUM_STREAMING, target.user, backend.started_at)
        rows = conn.execute(_PG_TERMINATE, args).fetchall()
    return any(bool(r[0]) for r in rows)


def mariadb_sample(target: Target, offset: dict[str, Any], now: float) -> Sample:
    """The binlog head against the connector's committed offset (`file`, `pos`)."""
    import pymysql

    try:
        conn = pymysql.connect(
            host=target.host, port=target.port, user=target.user, password=target.password,
            connect_timeout=_TIMEOUT_S, read_timeout=_TIMEOUT_S,
        )
        try:
            with conn.cursor() as cursor:
                cursor.execute("SHOW MASTER STATUS")
                status = cursor.fetchone()
                cursor.execute("SHOW BINARY LOGS")
                logs = [(str(r[0]), int(r[1])) for r in cursor.fetchall()]
        finally:
            conn.close()
    except pymysql.Error as exc:
        raise SourceUnreadable(str(exc)) from exc
    if status is None:
        raise ValueError(f"{target.name}: MariaDB has no binary log (log_bin is off)")
    head = (str(status[0]), int(status[1]))
    if not offset.get("file"):
        return Sample(now, binlog_ordinal(*head), None, 0)
    at = (str(offset["file"]), int(offset.get("pos", 0)))
    return Sample(now, binlog_ordinal(*head), binlog_ordinal(*at), binlog_lag_bytes(at, head, logs))


def lag_now(target: Target, client: ConnectClient) -> int | None:
    """The source lag in bytes at this moment (None if it cannot be read), for `connectors status`."""
    sample, _, _ = read_source(target, _committed_offset(client, target.name), 0.0)
    return None if sample is None else sample.lag_bytes
