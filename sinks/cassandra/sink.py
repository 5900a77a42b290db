"""Cassandra sink: async, batched by partition, idempotent on toolEventId.

Three tables (schemas/cql/events.cql): a point lookup by id, a tenant's day (newest first) and a
device timeline. Their partition keys hold the tenant and a time bucket, so no partition grows
without bound. An update whose event time (or day, or device) changed deletes the row it replaces
in the time-ordered tables, so an event never has two rows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from openframe_stream.errors import Transient
from sinks.base import Capabilities, Event, Rejected, Sink, last_per_id
from sinks.cassandra import cql
from sinks.cassandra.config import CassandraSinkSettings

_Placement = tuple[str, int, str | None]  # (ingest day, event time ms, device id)
_BATCH_STATEMENTS = 40  # keep each UNLOGGED batch (one partition) well under the warn threshold
_CELL_OVERHEAD = 24  # bytes the server adds per cell when it sizes a batch (measured against its warnings)
_READ_IN = 100  # ids per placement read (one IN query per tenant and chunk)


def _time(ms: Any) -> int | None:
    """A CQL timestamp as epoch milliseconds: the driver writes an int as it is, where a datetime
    costs a timetuple and calendar.timegm per value (9% of the sink's samples)."""
    return None if ms is None else int(ms)


def _json(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _reuse(prepared: Any, serialized: list[bytes | None]) -> Any:
    """A bound statement from values already serialized for the same column types."""
    from cassandra.query import BoundStatement  # the driver loads lazily; this is a dict lookup once loaded

    bound = BoundStatement(prepared)
    bound.values = serialized
    return bound


def _column_types(prepared: Any) -> list[str]:
    return [meta.type.cql_parameterized_type() for meta in prepared.column_metadata]


def _month(ms: int) -> str:
    return _month_of_day(ms // 86_400_000)


@lru_cache(maxsize=4096)
def _month_of_day(day: int) -> str:
    """The UTC month of an epoch day: one strftime per day seen, not per row."""
    return dt.datetime.fromtimestamp(day * 86_400, tz=dt.UTC).strftime("%Y-%m")


@dataclass(frozen=True, slots=True)
class _Row:
    tenant: str
    event_id: str
    placement: _Placement
    may_move: bool  # not a create: an update or re-snapshot may have changed time, day or device
    by_id: Any
    by_day: Any
    timeline: Any  # None without a device


class CassandraSink(Sink):
    name = "cassandra"

    def __init__(self, hosts: Sequence[str], port: int, keyspace: str, settings: CassandraSinkSettings) -> None:
        self.capabilities = Capabilities(upsert=True, max_batch=settings.batch_size)
        self._hosts, self._port, self._keyspace, self._settings = list(hosts), port, keyspace, settings
        self._cluster: Any = None
        self._session: Any = None
        self._ps: dict[str, Any] = {}
        self._gate = asyncio.Semaphore(settings.concurrency)

    async def start(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._connect)

    def _connect(self) -> None:
        from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
        from cassandra.policies import RoundRobinPolicy

        profile = ExecutionProfile(
            load_balancing_policy=RoundRobinPolicy(), request_timeout=self._settings.request_timeout
        )
        try:
            self._cluster = Cluster(
                self._hosts,
                port=self._port,
                execution_profiles={EXEC_PROFILE_DEFAULT: profile},
                connect_timeout=5,
                # Pinned: the driver would otherwise try a newer version first and log each downgrade.
                protocol_version=self._settings.protocol_version,
            )
            session = self._cluster.connect()
            for statement in cql.statements(self._keyspace):
                session.execute(statement, timeout=60)
        except Exception as exc:
            self._shutdown()
            raise Transient(f"cassandra unavailable: {exc}") from exc
        ks = self._keyspace
        self._ps = {
            "by_id": session.prepare(cql.insert(ks, "events_by_id")),
            "by_day": session.prepare(cql.insert(ks, "events_by_day")),
            "timeline": session.prepare(cql.insert(ks, "device_timeline")),
            "previous": session.prepare(cql.select_previous(ks)),
            "del_day": session.prepare(cql.delete_day(ks)),
            "del_timeline": session.prepare(cql.delete_timeline(ks)),
        }
        shared = _column_types(self._ps["by_day"])
        timeline = _column_types(self._ps["timeline"])
        if _column_types(self._ps["by_id"]) != shared or [*timeline[:-2], timeline[-1]] != shared:
            raise RuntimeError(f"the inserts of {ks} disagree on column types; _bind reuses one serialization")
        self._month_type = self._ps["timeline"].column_metadata[-2].type
        self._protocol = session.cluster.protocol_version
        self._session = session

    async def _run(self, statement: Any, values: Any = None) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def settle(result: Any, error: BaseException | None) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        # The driver calls back on its own thread; hand the outcome to the event loop.
        def done(result: Any) -> None:
            loop.call_soon_threadsafe(settle, result, None)

        def failed(exc: BaseException) -> None:
            loop.call_soon_threadsafe(settle, None, exc)

        async with self._gate:
            response = self._session.execute_async(statement, values)
            response.add_callbacks(done, failed)
            return await future

    async def write(self, events: Sequence[Event]) -> list[Rejected]:
        if self._session is None:
            await self.start()
        rejected: list[Rejected] = []
        rows: list[_Row] = []
        required = ("tenantId", "toolEventId", "eventTimestamp", "ingestDay")
        for index, event in last_per_id(events):
            missing = [name for name in required if event.get(name) in (None, "")]
            if missing:
                rejected.append(Rejected(index, "missing_key_field", f"missing {', '.join(missing)}"))
                continue
            try:
                # Binding serializes every value: a type the column cannot hold is this event's fault,
                # found here rather than as a write error that would be retried forever. Each row is
                # bound once, and the bound statements go into the batches as they are.
                rows.append(self._bind(event))
            except Exception as exc:  # noqa: BLE001 - the driver raises many types for bad values
                rejected.append(Rejected(index, "unstorable_value", f"{type(exc).__name__}: {exc}"))
                continue
        try:
            await self._write_rows(rows)
        except Transient:
            raise
        except Exception as exc:  # driver errors: the server is down, overloaded or timing out
            raise Transient(f"cassandra write failed: {type(exc).__name__}: {exc}") from exc
        return rejected

    def _bind(self, event: Event) -> _Row:
        values = cql.row_values(event, _time, _json)
        ttl = self._settings.ttl_seconds
        tenant, event_id = str(event["tenantId"]), str(event["toolEventId"])
        ms, day, device = int(event["eventTimestamp"]), str(event.get("ingestDay")), event.get("deviceId")
        # Serialized once (~35 us a bind here): the three inserts take the same columns in the same
        # order and types (checked at start), so the other two reuse the bytes.
        by_day = self._ps["by_day"].bind([*values, ttl])
        serialized = by_day.values
        by_id = _reuse(self._ps["by_id"], serialized)
        timeline = None
        if device:
            month = self._month_type.serialize(_month(ms), self._protocol)
            timeline = _reuse(self._ps["timeline"], [*serialized[:-1], month, serialized[-1]])
        return _Row(tenant, event_id, (day, ms, device), event.get("operation") != "c", by_id, by_day, timeline)

    async def _write_rows(self, rows: list[_Row]) -> None:
        from cassandra.query import BatchStatement, BatchType

        previous = await self._placements([row for row in rows if row.may_move])
        groups: dict[tuple[str, ...], list[Any]] = {}
        deletes: list[tuple[Any, list[Any]]] = []
        for row in rows:
            tenant, (day, ms, device) = row.tenant, row.placement
            # events_by_id has one row per partition: its rows go in batches of their own, by tenant.
            groups.setdefault(("id", tenant), []).append(row.by_id)
            groups.setdefault(("day", tenant, day), []).append(row.by_day)
            if row.timeline is not None:
                groups.setdefault(("dev", tenant, str(device), _month(ms)), []).append(row.timeline)
            before = previous.get((tenant, row.event_id))
            if before is not None and before != row.placement:
                old_day, old_ms, old_device = before
                old_time = _time(old_ms)
                if (old_day, old_ms) != (day, ms):
                    deletes.append((self._ps["del_day"], [tenant, old_day, old_time, row.event_id]))
                if old_device:
                    deletes.append(
                        (self._ps["del_timeline"], [tenant, old_device, _month(old_ms), old_time, row.event_id])
                    )
        requests = [self._run(ps, vals) for ps, vals in deletes]
        for group, statements in groups.items():
            step = _BATCH_STATEMENTS
            chunks = (self._across_partitions(statements) if group[0] == "id"
                      else (statements[i : i + step] for i in range(0, len(statements), step)))
            for chunk in chunks:
                if len(chunk) == 1:
                    requests.append(self._run(chunk[0]))
                    continue
                batch = BatchStatement(batch_type=BatchType.UNLOGGED)
                for bound in chunk:
                    batch.add(bound)
                requests.append(self._run(batch))
        # Deletes and inserts of one event target different rows, so their order does not matter.
        await asyncio.gather(*requests)

    def _across_partitions(self, statements: list[Any]) -> list[list[Any]]:
        """Chunks of one-partition rows, each under the server's batch size warning and partition count."""
        most, budget = self._settings.batch_partitions, self._settings.batch_bytes
        chunks: list[list[Any]] = []
        chunk: list[Any] = []
        size = 0
        for bound in statements:
            # The server counts each cell's timestamp, TTL and flags too: ~24 bytes over its value.
            row = sum(len(v) + _CELL_OVERHEAD if v else _CELL_OVERHEAD for v in bound.values)
            if chunk and (len(chunk) >= most or size + row > budget):
                chunks.append(chunk)
                chunk, size = [], 0
            chunk.append(bound)
            size += row
        if chunk:
            chunks.append(chunk)
        return chunks

    async def _placements(self, rows: list[_Row]) -> dict[tuple[str, str], _Placement]:
        """Where the rows of events that may have moved (updates, re-snapshots) are now, read in one
        IN query per tenant and chunk: a create's redelivery carries the same placement, so it reads nothing.

        Read from Cassandra, never from a local cache: after a rebalance or a restart another
        worker may have moved the event since this one last wrote it.
        """
        ids: dict[str, list[str]] = {}
        for row in rows:
            ids.setdefault(row.tenant, []).append(row.event_id)
        reads = [
            (tenant, self._run(self._ps["previous"], [tenant, chunk[start : start + _READ_IN]]))
            for tenant, chunk in ids.items()
            for start in range(0, len(chunk), _READ_IN)
        ]
        found: dict[tuple[str, str], _Placement] = {}
        for tenant, result in zip((t for t, _ in reads), await asyncio.gather(*(r for _, r in reads)), strict=True):
            for row in result:
                ms = int(row.event_timestamp.replace(tzinfo=dt.UTC).timestamp() * 1000)
                found[(tenant, row.tool_event_id)] = (row.ingest_day, ms, row.device_id)
        return found

    def _shutdown(self) -> None:
        if self._cluster is not None:
            self._cluster.shutdown()
        self._cluster = self._session = None

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._shutdown)
