"""`LogReader` on the Pinot broker's HTTP SQL endpoint (POST /query/sql)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from api.query import pinot_sql
from api.query.logs import BucketQuery, FacetQuery, LogQuery, LogRow, TopQuery
from api.readers.base import StoreUnavailable

log = logging.getLogger(__name__)


_TEXT_RETRIES = 5


class _LuceneRace(StoreUnavailable):
    pass


def _present(value: Any) -> Any:
    # Pinot 0.11 returns a missing string as its default value, the text 'null'.
    return None if value == "null" else value


class PinotReader:
    def __init__(self, broker_url: str, table: str, timeout: float,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._url = broker_url.rstrip("/") + "/query/sql"
        self._table = pinot_sql.table(table)
        self._timeout = timeout
        self._transport = transport  # tests pass a mock transport
        self._client: httpx.AsyncClient | None = None
        self._text_lock = asyncio.Lock()

    async def start(self) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout + 2, transport=self._transport)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def query(self, sql: str) -> tuple[list[str], list[list[Any]]]:
        """Column names and rows; a transport error or a Pinot exception is `StoreUnavailable`.

        Pinot 0.11 shares one Lucene query parser per realtime text index across query threads, so two
        TEXT_MATCH queries at once can fail to parse a valid phrase. This process runs them one at a
        time, and a parse failure (another API process raced it) is retried."""
        if "TEXT_MATCH(" not in sql:
            return await self._query(sql)
        for attempt in range(_TEXT_RETRIES):
            async with self._text_lock:
                try:
                    return await self._query(sql)
                except _LuceneRace:
                    log.info("lucene parser race in pinot, retry %d", attempt + 1)
            await asyncio.sleep(0.05 * (attempt + 1))
        raise StoreUnavailable("pinot")

    async def _query(self, sql: str) -> tuple[list[str], list[list[Any]]]:
        await self.start()
        assert self._client is not None
        body = {"sql": sql, "queryOptions": f"timeoutMs={int(self._timeout * 1000)}"}
        try:
            response = await self._client.post(self._url, json=body)
            response.raise_for_status()
            result = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("pinot query failed: %s", exc)
            raise StoreUnavailable("pinot") from exc
        if result.get("exceptions"):
            if "TEXT_MATCH(" in sql and "ParseException" in str(result["exceptions"]):
                raise _LuceneRace
            log.warning("pinot query error: %s | %s", result["exceptions"][:1], sql[:500])
            raise StoreUnavailable("pinot")
        table = result.get("resultTable") or {}
        return list(table.get("dataSchema", {}).get("columnNames", [])), list(table.get("rows", []))

    async def ping(self) -> bool:
        try:
            await self.query(f"SELECT COUNT(*) FROM {self._table} LIMIT 1")
        except StoreUnavailable:
            return False
        return True

    async def search(self, q: LogQuery) -> list[LogRow]:
        names, rows = await self.query(pinot_sql.select_logs(self._table, q))
        return [LogRow({n: _present(v) for n, v in zip(names, row, strict=True)}) for row in rows]

    async def facet(self, q: FacetQuery) -> list[tuple[str, str | None, int]]:
        _, rows = await self.query(pinot_sql.select_facet(self._table, q))
        if q.facet == "organization":
            return [(str(r[0]), _present(r[1]), int(r[2])) for r in rows]
        return [(str(r[0]), None, int(r[1])) for r in rows]

    async def buckets(self, q: BucketQuery) -> list[tuple[int, str, int]]:
        _, rows = await self.query(pinot_sql.select_buckets(self._table, q))
        return [(int(r[0]), str(r[1]), int(r[2])) for r in rows]

    async def top(self, q: TopQuery) -> list[tuple[str, str | None, int]]:
        _, rows = await self.query(pinot_sql.select_top(self._table, q))
        if q.column == "deviceId":
            return [(str(r[0]), _present(r[1]), int(r[2])) for r in rows]
        return [(str(r[0]), None, int(r[1])) for r in rows]
