"""The Pinot reader's handling of broker answers, on a mock transport (no Pinot)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from api.query.logs import LogFilters, LogQuery
from api.readers.base import StoreUnavailable
from api.readers.pinot import PinotReader
from api.tenancy import Tenant

COLUMNS = ["toolEventId", "eventTimestamp", "ingestDay", "toolType", "eventType", "severity", "userId", "deviceId",
           "hostname", "organizationId", "organizationName", "summary"]
ROW = ["e1", 5, "2026-11-18", "FLEET", "LOGIN", "INFO", "null", "null", "H", "o", "O", "disk full"]
OK = {"exceptions": [], "resultTable": {"dataSchema": {"columnNames": COLUMNS}, "rows": [ROW]}}
RACE = {"exceptions": [{"errorCode": 200, "message": "QueryExecutionError: ParseException: Cannot parse"}]}


def reader(answers: list[dict[str, object]], seen: list[str]) -> PinotReader:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content)["sql"])
        return httpx.Response(200, json=answers.pop(0))

    return PinotReader("http://broker", "logs", 1.0, transport=httpx.MockTransport(handle))


def test_rows_come_back_with_missing_strings_as_none() -> None:
    seen: list[str] = []
    rows = asyncio.run(reader([OK], seen).search(LogQuery(Tenant("acme"), LogFilters())))
    assert rows[0].values["deviceId"] is None and rows[0].values["summary"] == "disk full"
    assert seen[0].startswith("SELECT ") and "WHERE tenantId = 'acme'" in seen[0]


def test_a_lucene_parser_race_is_retried_only_for_text_queries() -> None:
    seen: list[str] = []
    text = LogQuery(Tenant("acme"), LogFilters(search_terms=("disk",)))
    assert len(asyncio.run(reader([RACE, RACE, OK], seen).search(text))) == 1 and len(seen) == 3
    with pytest.raises(StoreUnavailable):
        asyncio.run(reader([RACE], []).search(LogQuery(Tenant("acme"), LogFilters())))
    with pytest.raises(StoreUnavailable):
        asyncio.run(reader([RACE] * 5, []).search(text))


def test_transport_errors_are_unavailable() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    broken = PinotReader("http://broker", "logs", 1.0, transport=httpx.MockTransport(fail))
    with pytest.raises(StoreUnavailable):
        asyncio.run(broken.search(LogQuery(Tenant("acme"), LogFilters())))
    assert asyncio.run(broken.ping()) is False
