"""What only the Cassandra sink promises, beyond the shared contract: TTL, `Transient` when the server
is unreachable or failing, and a retry after a failed write converging to one row per event."""

from __future__ import annotations

import asyncio
import socket
import uuid
from typing import Any

import pytest

from openframe_stream.errors import Transient
from openframe_stream.settings import Settings
from sinks.cassandra.config import CassandraSinkSettings
from sinks.cassandra.sink import CassandraSink
from tests.contract.conftest import SinkUnderTest, cassandra_views
from tests.contract.test_sinks import DAY, T0, Case, expected_views, utc_day

TABLES = ("events_by_id", "events_by_day", "device_timeline")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
def case(cassandra_sut: SinkUnderTest, runner: asyncio.Runner) -> Case:
    return Case(cassandra_sut, runner, f"t_{uuid.uuid4().hex[:12]}")


def test_write_raises_transient_when_nothing_listens() -> None:
    sink = CassandraSink(["127.0.0.1"], free_port(), "never_created", CassandraSinkSettings())
    event = {"tenantId": "t", "toolEventId": "e", "eventTimestamp": T0, "ingestDay": utc_day(T0)}

    async def attempt() -> None:
        try:
            await sink.write([event])
        finally:
            await sink.close()

    with pytest.raises(Transient, match="cassandra unavailable"):
        asyncio.run(attempt())


def ttls(reader: Any, keyspace: str, tenant: str) -> dict[str, list[Any]]:
    return {
        table: [
            r.ttl
            for r in reader.execute(f"SELECT tenant_id, TTL(summary) AS ttl FROM {keyspace}.{table}")
            if r.tenant_id == tenant
        ]
        for table in TABLES
    }


def test_ttl_setting_applies_to_every_table(
    case: Case, live_stack: Settings, keyspace: str, cassandra_reader: Any, runner: asyncio.Runner
) -> None:
    c = live_stack.cassandra
    expiring = CassandraSink(c.hosts, c.port, keyspace, CassandraSinkSettings(ttl_seconds=3600))
    try:
        assert case.write([case.event("e1")], expiring) == []
    finally:
        runner.run(expiring.close())
    found = ttls(cassandra_reader, keyspace, case.tenant)
    assert {table: len(values) for table, values in found.items()} == dict.fromkeys(TABLES, 1)
    assert all(3500 < value <= 3600 for values in found.values() for value in values), found


def test_default_ttl_keeps_rows_forever(case: Case, keyspace: str, cassandra_reader: Any) -> None:
    assert case.write([case.event("e1")]) == []
    assert ttls(cassandra_reader, keyspace, case.tenant) == {table: [None] for table in TABLES}


def test_retry_after_a_failed_update_leaves_one_row(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    from cassandra import OperationTimedOut

    sink = case.sut.sink
    original = case.event("e1")
    assert case.write([original]) == []
    moved = case.event("e1", ms=T0 + DAY, ingestDay=utc_day(T0 + DAY), device="dev-2", summary="v2", op="u")

    async def timing_out(statement: Any, values: Any = None) -> Any:
        raise OperationTimedOut("simulated: the write timed out")

    with monkeypatch.context() as patched:
        patched.setattr(sink, "_run", timing_out)
        with pytest.raises(Transient, match="cassandra write failed"):
            case.write([moved])
    assert case.write([moved]) == []  # the caller's retry, once Cassandra answers again

    assert case.views() == expected_views(case.sut, [moved])


def test_failing_writes_are_transient_and_nothing_is_half_rejected(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    from cassandra import OperationTimedOut

    async def timing_out(statement: Any, values: Any = None) -> Any:
        raise OperationTimedOut("simulated")

    with monkeypatch.context() as patched:
        patched.setattr(case.sut.sink, "_run", timing_out)
        with pytest.raises(Transient):
            case.write([case.event("e1"), case.event("e2")])
    assert case.views() == {table: [] for table in TABLES}


@pytest.mark.parametrize(
    "bad", [{"severity": 5}, {"ingestDay": None}], ids=["number-in-text-column", "null-ingest-day"]
)
def test_an_unstorable_event_is_rejected_not_retried_forever(case: Case, bad: dict[str, Any]) -> None:
    good = case.event("ok")
    rejected = case.write([good, case.event("bad", **bad)])
    assert [r.index for r in rejected] == [1]
    assert case.views() == expected_views(case.sut, [good])


def test_reader_sees_only_its_tenant(case: Case, keyspace: str, cassandra_reader: Any) -> None:
    """The harness itself: another tenant's rows never leak into a case's views."""
    assert case.write([case.event("e1")]) == []
    other = Case(case.sut, case.runner, f"t_{uuid.uuid4().hex[:12]}")
    assert other.write([other.event("e1", summary="other")]) == []
    assert [r["summary"] for r in cassandra_views(cassandra_reader, keyspace, case.tenant)["events_by_id"]] == ["v1"]
