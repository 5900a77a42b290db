"""`EventStore` on Cassandra: prepared statements only, executed asynchronously."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

import orjson

from api.query import cql
from api.query.cql import EventByIdQuery, TimelineSlice
from api.readers.base import StoreUnavailable

log = logging.getLogger(__name__)

_CAMEL = {c: "".join(p if i == 0 else p.title() for i, p in enumerate(c.split("_"))) for c in cql.EVENT_COLUMNS}


def to_event(row: Any) -> dict[str, Any]:
    """A driver row as a wire-shaped dict: camelCase, epoch-ms time, details parsed from JSON text."""
    event = {_CAMEL[c]: getattr(row, c) for c in cql.EVENT_COLUMNS}
    ts: dt.datetime | None = event["eventTimestamp"]
    if ts is not None:
        event["eventTimestamp"] = int(ts.replace(tzinfo=dt.UTC).timestamp() * 1000)
    details = event.get("details")
    if isinstance(details, str):
        try:
            event["details"] = orjson.loads(details)
        except orjson.JSONDecodeError:
            event["details"] = {"raw": details}  # stored text that is not JSON: shown, not lost
    return event


class CassandraReader:
    def __init__(self, hosts: Sequence[str], port: int, keyspace: str, timeout: float) -> None:
        self._hosts, self._port, self._timeout = list(hosts), port, timeout
        self._texts = cql.statements(keyspace)
        self._cluster: Any = None
        self._session: Any = None
        self._prepared: dict[str, Any] = {}
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        async with self._lock:
            if self._session is None:
                await asyncio.get_running_loop().run_in_executor(None, self._connect)

    def _connect(self) -> None:
        from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
        from cassandra.policies import RoundRobinPolicy

        profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy(), request_timeout=self._timeout)
        cluster = Cluster(self._hosts, port=self._port, execution_profiles={EXEC_PROFILE_DEFAULT: profile},
                          connect_timeout=5)
        try:
            session = cluster.connect()
            self._prepared = {name: session.prepare(text) for name, text in self._texts.items()}
        except Exception as exc:
            cluster.shutdown()
            log.warning("cassandra unavailable: %s", exc)
            raise StoreUnavailable("cassandra") from exc
        self._cluster, self._session = cluster, session

    async def close(self) -> None:
        if self._cluster is not None:
            cluster, self._cluster, self._session = self._cluster, None, None
            await asyncio.get_running_loop().run_in_executor(None, cluster.shutdown)

    async def _execute(self, name: str, values: tuple[object, ...]) -> list[Any]:
        try:
            await self.start()
        except StoreUnavailable:
            raise
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Any]] = loop.create_future()

        def settle(rows: list[Any] | None, error: BaseException | None) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(rows or [])

        # The driver calls back on its own thread; hand the outcome to the event loop. A query here reads
        # one partition with a LIMIT, so its rows fit in the first page.
        response = self._session.execute_async(self._prepared[name], values)
        response.add_callbacks(lambda rows: loop.call_soon_threadsafe(settle, list(rows), None),
                               lambda exc: loop.call_soon_threadsafe(settle, None, exc))
        try:
            return await future
        except Exception as exc:
            log.warning("cassandra query %s failed: %s", name, exc)
            raise StoreUnavailable("cassandra") from exc

    async def ping(self) -> bool:
        try:
            await self.start()
            await asyncio.get_running_loop().run_in_executor(
                None, lambda: self._session.execute("SELECT release_version FROM system.local", timeout=5)
            )
        except Exception:  # noqa: BLE001 - any failure means not ready
            return False
        return True

    async def event(self, q: EventByIdQuery) -> dict[str, Any] | None:
        for name, values in q.bound():
            rows = await self._execute(name, values)
            if rows:
                return to_event(rows[0])
        return None

    async def timeline(self, q: TimelineSlice) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for name, values in q.bound():
            if len(out) >= q.limit:
                break
            rows = await self._execute(name, values)
            out.extend(to_event(r) for r in rows)
        return out[: q.limit]
