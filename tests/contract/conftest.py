"""The contract tier: one suite of sink cases run against every `Sink` implementation, on the real
stack (`live_stack` is the integration tier's session fixture, shared from its conftest).

Each implementation is a `SinkUnderTest`: the sink, a second instance over the same store (a
restarted worker: it has never seen the events a test writes), and a reader that returns a tenant's
stored rows per view. Add an implementation by writing a `<name>_sut` fixture and listing the name
in `IMPLEMENTATIONS`; cases that need a capability say so with `@pytest.mark.needs(upsert=True)`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from openframe_stream.settings import Settings
from sinks.base import Sink
from sinks.cassandra.config import CassandraSinkSettings
from sinks.cassandra.sink import CassandraSink

# The integration tier's stack fixtures, registered here too so `tests/contract` runs on its own.
from tests.integration.conftest import live_stack, settings  # noqa: F401

IMPLEMENTATIONS = ["cassandra"]

Stored = dict[str, Any]  # toolEventId, eventTimestamp (epoch ms), ingestDay, deviceId, summary, operation
Views = dict[str, list[Stored]]  # view name -> a tenant's rows in it


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "needs(**capabilities): a contract case that only applies to sinks with these capabilities"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/contract" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@dataclass
class SinkUnderTest:
    name: str
    sink: Sink  # started; lives for the session
    restarted: Sink  # a second instance over the same store, as after a worker restart
    read: Callable[[str], Views]
    primary: str  # the view that holds every stored event (the others may hold a subset)
    one_row_views: tuple[str, ...]  # views in which an event may have at most one row


@pytest.fixture(scope="session")
def runner() -> Iterator[asyncio.Runner]:
    """One event loop for the session: sinks keep loop-bound state between calls."""
    with asyncio.Runner() as r:
        yield r


@pytest.fixture(scope="session")
def keyspace(live_stack: Settings) -> Iterator[str]:  # noqa: F811
    """A keyspace of this session's own (created by the sink), dropped at the end."""
    name = f"contract_{uuid.uuid4().hex[:10]}"
    yield name
    session, cluster = cql_session(live_stack)
    try:
        session.execute(f"DROP KEYSPACE IF EXISTS {name}", timeout=60)
    finally:
        cluster.shutdown()


def cql_session(settings: Settings) -> tuple[Any, Any]:  # noqa: F811
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.policies import RoundRobinPolicy

    c = settings.cassandra
    profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy(), request_timeout=30)
    cluster = Cluster(list(c.hosts), port=c.port, execution_profiles={EXEC_PROFILE_DEFAULT: profile})
    return cluster.connect(), cluster


_EPOCH = dt.datetime(1970, 1, 1)


def epoch_ms(value: dt.datetime) -> int:
    """A driver timestamp (naive UTC) as epoch milliseconds, in integer arithmetic."""
    return (value.replace(tzinfo=None) - _EPOCH) // dt.timedelta(milliseconds=1)


@pytest.fixture(scope="session")
def cassandra_reader(live_stack: Settings) -> Iterator[Any]:  # noqa: F811
    session, cluster = cql_session(live_stack)
    yield session
    cluster.shutdown()


def cassandra_views(session: Any, keyspace: str, tenant: str) -> Views:
    views: Views = {}
    for table in ("events_by_id", "events_by_day", "device_timeline"):
        rows = session.execute(
            f"SELECT tenant_id, tool_event_id, event_timestamp, ingest_day, device_id, summary, operation "
            f"FROM {keyspace}.{table}"
        )
        views[table] = sorted(
            (
                {
                    "toolEventId": r.tool_event_id,
                    "eventTimestamp": epoch_ms(r.event_timestamp),
                    "ingestDay": r.ingest_day,
                    "deviceId": r.device_id,
                    "summary": r.summary,
                    "operation": r.operation,
                }
                for r in rows
                if r.tenant_id == tenant
            ),
            key=lambda row: (row["toolEventId"], row["eventTimestamp"], str(row["deviceId"])),
        )
    return views


@pytest.fixture(scope="session")
def cassandra_sut(
    live_stack: Settings,  # noqa: F811
    runner: asyncio.Runner,
    keyspace: str,
    cassandra_reader: Any,
) -> Iterator[SinkUnderTest]:
    c = live_stack.cassandra
    sink = CassandraSink(c.hosts, c.port, keyspace, CassandraSinkSettings())
    restarted = CassandraSink(c.hosts, c.port, keyspace, CassandraSinkSettings())
    runner.run(sink.start())
    runner.run(restarted.start())
    try:
        yield SinkUnderTest(
            name="cassandra",
            sink=sink,
            restarted=restarted,
            read=lambda tenant: cassandra_views(cassandra_reader, keyspace, tenant),
            primary="events_by_id",
            one_row_views=("events_by_id", "events_by_day", "device_timeline"),
        )
    finally:
        runner.run(sink.close())
        runner.run(restarted.close())


@pytest.fixture(scope="session", params=IMPLEMENTATIONS)
def sut(request: pytest.FixtureRequest) -> SinkUnderTest:
    implementation: SinkUnderTest = request.getfixturevalue(f"{request.param}_sut")
    return implementation
