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
from typing import Any

import orjson

from openframe_stream.errors import Transient
from sinks.base import Capabilities, Event, Rejected, Sink, last_per_id
from sinks.cassandra import cql
from sinks.cassandra.config import CassandraSinkSettings

_Placement = tuple[str, int, str | None]  # (ingest day, event time ms, device id)
_BATCH_STATEMENTS = 40  # keep each UNLOGGED batch (one partition) well under the warn threshold


def _time(ms: Any) -> dt.datetime | None:
    return None if ms is None else dt.datetime.fromtimestamp(int(ms) / 1000, tz=dt.UTC)


def _json(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _month(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m")


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
                self._hosts, port=self._port, execution_profiles={EXEC_PROFILE_DEFAULT: profile}, connect_timeout=5
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
        rows: list[tuple[Event, list[Any]]] = []
        required = ("tenantId", "toolEventId", "eventTimestamp", "ingestDay")
        for index, event in last_per_id(events):
            missing = [name for name in required if event.get(name) in (None, "")]
            if missing:
                rejected.append(Rejected(index, "missing_key_field", f"missing {', '.join(missing)}"))
                continue
            try:
                values = cql.row_values(event, _time, _json)
                # Binding serializes every value: a type the column cannot hold is this event's fault,
                # found here rather than as a write error that would be retried forever.
                self._ps["by_day"].bind([*values, self._settings.ttl_seconds])
            except Exception as exc:  # noqa: BLE001 - the driver raises many types for bad values
                rejected.append(Rejected(index, "unstorable_value", f"{type(exc).__name__}: {exc}"))
                continue
            rows.append((event, values))
        try:
            await self._write_rows(rows)
        except Transient:
            raise
        except Exception as exc:  # driver errors: the server is down, overloaded or timing out
            raise Transient(f"cassandra write failed: {type(exc).__name__}: {exc}") from exc
        return rejected

    async def _write_rows(self, rows: list[tuple[Event, list[Any]]]) -> None:
        from cassandra.query import BatchStatement, BatchType

        previous = await asyncio.gather(*(self._previous(e) for e, _ in rows))
        ttl = self._settings.ttl_seconds
        single: list[Any] = []
        by_partition: dict[tuple[str, ...], list[tuple[Any, list[Any]]]] = {}
        for (event, values), before in zip(rows, previous, strict=True):
            tenant, event_id = str(event["tenantId"]), str(event["toolEventId"])
            ms, day, device = int(event["eventTimestamp"]), str(event.get("ingestDay")), event.get("deviceId")
            single.append((self._ps["by_id"], [*values, ttl]))
            by_partition.setdefault(("day", tenant, day), []).append((self._ps["by_day"], [*values, ttl]))
            if device:
                month = _month(ms)
                by_partition.setdefault(("dev", tenant, str(device), month), []).append(
                    (self._ps["timeline"], [*values, month, ttl])
                )
            if before is not None and before != (day, ms, device):
                old_day, old_ms, old_device = before
                old_time = _time(old_ms)
                if (old_day, old_ms) != (day, ms):
                    single.append((self._ps["del_day"], [tenant, old_day, old_time, event_id]))
                if old_device:
                    single.append((self._ps["del_timeline"], [tenant, old_device, _month(old_ms), old_time, event_id]))
        requests = [self._run(ps, vals) for ps, vals in single]
        for statements in by_partition.values():
            for start in range(0, len(statements), _BATCH_STATEMENTS):
                batch = BatchStatement(batch_type=BatchType.UNLOGGED)
                for ps, vals in statements[start : start + _BATCH_STATEMENTS]:
                    batch.add(ps, vals)
                requests.append(self._run(batch))
        # Deletes and inserts of one event target different rows, so their order does not matter.
        await asyncio.gather(*requests)

    async def _previous(self, event: Event) -> _Placement | None:
        """Where this event's rows are now, if an update may have moved them (time, day or device).

        Read from Cassandra, never from a local cache: after a rebalance or a restart another
        worker may have moved the event since this one last wrote it.
        """
        if event.get("operation") == "c":
            return None  # a create: a redelivery carries the same placement (updates and re-snapshots may not)
        rows = await self._run(self._ps["previous"], [str(event["tenantId"]), str(event["toolEventId"])])
        row = rows[0] if rows else None
        if row is None:
            return None
        ms = int(row.event_timestamp.replace(tzinfo=dt.UTC).timestamp() * 1000)
        return (row.ingest_day, ms, row.device_id)

    def _shutdown(self) -> None:
        if self._cluster is not None:
            self._cluster.shutdown()
        self._cluster = self._session = None

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._shutdown)
