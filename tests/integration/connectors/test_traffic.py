"""The traffic generator's non-CDC outputs on the live stack: MeshCentral envelopes on Kafka,
agent results in JetStream, and the reference documents in MongoDB."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import nats
import pymongo
import pytest

from connectors.settings import BridgeSettings
from infra.traffic.cli import generate
from infra.traffic.estate import build_estate
from infra.traffic.reference import documents
from infra.traffic.settings import TrafficSettings
from openframe_stream.settings import MongoSettings, Settings
from pipelines.normalize import normalize
from pipelines.records import Mapped, RawRecord, Skipped
from pipelines.settings import PipelineSettings
from tests.integration.connectors.conftest import TopicReader
from topologies.topics import declare


@pytest.fixture
def scoped(isolated: Settings, unique: str) -> Iterator[tuple[Settings, BridgeSettings]]:
    settings = isolated.model_copy(
        update={"mongo": MongoSettings(uri=isolated.mongo.uri, database=f"it_traffic_{unique}")}
    )
    bridge = BridgeSettings(stream=f"IT_TRAFFIC_{unique}", subject_prefix=f"it{unique}.", storage="memory")
    yield settings, bridge

    async def drop() -> None:
        nc = await nats.connect(settings.nats.url)
        await nc.jetstream().delete_stream(bridge.stream)
        await nc.close()

    asyncio.run(drop())
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(settings.mongo.uri)
    client.drop_database(settings.mongo.database)
    client.close()


def test_mesh_envelopes_agent_results_and_reference_documents(scoped: tuple[Settings, BridgeSettings]) -> None:
    settings, bridge = scoped
    options = TrafficSettings(mix={"mesh.event": 2, "agent.script": 1, "agent.command": 1})
    counts = asyncio.run(generate(settings, options, bridge, 500.0, 80, None, 9, threading.Event(), None))
    assert sum(counts.values()) == 80

    reader = TopicReader(settings, [declare(settings.topics).meshcentral.name])
    try:
        records = reader.until(lambda rs: len(rs) >= counts["mesh.event"], 30, "MeshCentral envelopes")
    finally:
        reader.close()
    assert len(records) == counts["mesh.event"]
    outcomes = [
        normalize(RawRecord("meshcentral.mongodb.events", r.headers, r.key, r.value), PipelineSettings())
        for r in records
    ]
    assert all(r.headers["message-type"] == "MESHCENTRAL_EVENT" for r in records)
    assert all(isinstance(o, Mapped) or (isinstance(o, Skipped) and "skip" in o.reason) for o in outcomes), outcomes

    async def stream_count() -> int:
        nc = await nats.connect(settings.nats.url)
        try:
            info = await nc.jetstream().stream_info(bridge.stream)
            return int(info.state.messages)
        finally:
            await nc.close()

    assert asyncio.run(stream_count()) == counts["agent.script"] + counts["agent.command"]

    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(settings.mongo.uri)
    try:
        db = client[settings.mongo.database]
        expected = documents(build_estate(options, settings.pipeline.tenant_id), options, {"x": 1})
        assert db["organizations"].count_documents({}) == len(expected["organizations"])
        assert db["machines"].count_documents({}) == len(expected["machines"])
        # Each connected Tactical agent is also connected under its integer pk (see TrafficSettings).
        tactical = sum(1 for d in build_estate(options, "oss").connected if d.tactical_agent_id)
        assert db["tool_connections"].count_documents({}) == len(expected["tool_connections"]) + tactical
        assert db["tool_connections"].count_documents({"connectedAt": {"$exists": True}}) > 0
    finally:
        client.close()
