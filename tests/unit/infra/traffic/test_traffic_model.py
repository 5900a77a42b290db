"""The traffic generator's pure half: estate, model and the records it builds."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import orjson
import pytest

from infra.traffic import rows
from infra.traffic.estate import build_estate
from infra.traffic.model import TrafficModel
from infra.traffic.reference import documents
from infra.traffic.settings import DEFAULT_MIX, TrafficSettings
from pipelines.records import Mapped, RawRecord
from pipelines.settings import PipelineSettings

FIXTURES = Path("/work/shared/fixtures/examples")
NOW = 1_763_630_151_456


def _sequence(seed: int, n: int, options: TrafficSettings | None = None) -> list[tuple[str, str | None, str]]:
    options = options or TrafficSettings()
    model = TrafficModel(build_estate(options, "oss"), options, seed)
    out = []
    for i in range(n):
        action = model.next(NOW + i)
        out.append(
            (action.kind, action.device.machine_id if action.device else None, orjson.dumps(action.data).decode())
        )
    return out


def test_the_same_seed_gives_the_same_actions_and_another_seed_does_not() -> None:
    assert _sequence(1, 300) == _sequence(1, 300)
    assert _sequence(1, 300) != _sequence(2, 300)


def test_the_estate_is_stable_across_event_seeds_and_ids_look_like_the_tools() -> None:
    options = TrafficSettings()
    estate = build_estate(options, "oss")
    assert estate == build_estate(options, "oss")
    assert len(estate.connected) == options.devices and len(estate.orphans) == options.orphans
    assert len({d.machine_id for d in estate.devices}) == len(estate.devices)
    for device in estate.devices:
        assert device.tactical_agent_id is None or (
            len(device.tactical_agent_id) == 40 and device.tactical_agent_id.isalpha()
        )
        assert device.mesh_node_id is None or (
            device.mesh_node_id.startswith("node//") and len(device.mesh_node_id) == 70
        )
    for orphan in estate.orphans:
        assert None not in (orphan.fleet_host_id, orphan.tactical_agent_id, orphan.mesh_node_id)


def test_about_five_percent_of_agent_events_reference_unconnected_agents() -> None:
    options = TrafficSettings()
    estate = build_estate(options, "oss")
    orphan_ids = {d.machine_id for d in estate.orphans}
    model = TrafficModel(estate, options, 11)
    with_device = [a for a in (model.next(NOW) for _ in range(6000)) if a.device is not None]
    share = sum(a.device.machine_id in orphan_ids for a in with_device if a.device) / len(with_device)
    assert 0.03 < share < 0.07


def test_every_connected_agent_the_model_emits_has_a_reference_document() -> None:
    options = TrafficSettings()
    estate = build_estate(options, "oss")
    pk = {d.tactical_agent_id: i + 1 for i, d in enumerate(estate.devices) if d.tactical_agent_id}
    docs = documents(estate, options, pk)
    connections = {(m["toolType"], m["agentToolId"]): f["machineId"] for m, f in docs["tool_connections"]}
    machines = {m["machineId"] for m, _ in docs["machines"]}
    orgs = {m["organizationId"] for m, _ in docs["organizations"]}
    assert all(f["organizationId"] in orgs for _, f in docs["machines"])
    for device in estate.connected:
        assert device.machine_id in machines
        if device.fleet_host_id is not None:
            assert connections[("FLEET", str(device.fleet_host_id))] == device.machine_id
        if device.tactical_agent_id is not None:
            assert connections[("TACTICAL", device.tactical_agent_id)] == device.machine_id
            assert connections[("TACTICAL", str(pk[device.tactical_agent_id]))] == device.machine_id
        if device.mesh_node_id is not None:
            assert connections[("MESHCENTRAL", device.mesh_node_id)] == device.machine_id
    for orphan in estate.orphans:
        assert orphan.machine_id not in machines
        assert ("FLEET", str(orphan.fleet_host_id)) not in connections
    without_alias = documents(estate, TrafficSettings(tactical_pk_connections=False), pk)
    assert len(without_alias["tool_connections"]) < len(docs["tool_connections"])


def test_updates_and_deletes_only_target_rows_created_earlier() -> None:
    options = TrafficSettings()
    model = TrafficModel(build_estate(options, "oss"), options, 5)
    created: set[int] = set()
    kinds: Counter[str] = Counter()
    for _ in range(3000):
        action = model.next(NOW)
        kinds[action.kind] += 1
        if action.handle is not None:
            created.add(action.handle)
        if action.target is not None:
            assert action.target in created
            created.discard(action.target)
    assert set(kinds) == set(DEFAULT_MIX)


def test_unknown_kinds_in_the_mix_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown traffic kinds"):
        TrafficModel(build_estate(TrafficSettings(), "oss"), TrafficSettings(mix={"fleet.typo": 1}), 1)


def test_agent_results_have_the_published_shape_with_failures_and_timeouts() -> None:
    fixture = json.loads((FIXTURES / "agent-script-result.nats.json").read_text())["payload"]
    options = TrafficSettings(mix={"agent.script": 1, "agent.command": 1})
    model = TrafficModel(build_estate(options, "oss"), options, 3)
    payloads = [model.next(NOW).data for _ in range(2000)]
    assert all(set(p["payload"]) == set(fixture) for p in payloads)
    assert all(
        p["subject"] == f"machine.{p['payload']['machineId']}.{p['subject'].split('.')[2]}.result" for p in payloads
    )
    assert any(p["payload"]["timedOut"] for p in payloads)
    assert any(p["payload"]["exitCode"] not in (0, None) for p in payloads)


def test_meshcentral_envelope_matches_the_recorded_shape_and_maps() -> None:
    from pipelines.normalize import normalize

    fixture = json.loads((FIXTURES / "meshcentral-event.debezium-mongodb.json").read_text())
    options = TrafficSettings(mix={"mesh.event": 1}, orphan_share=0)
    model = TrafficModel(build_estate(options, "oss"), options, 4)
    mapped = 0
    for _ in range(50):
        doc = model.next(NOW).data
        key, value = rows.mesh_envelope(doc, NOW + 40)
        envelope = orjson.loads(value)
        assert set(envelope) == set(fixture["value"])
        assert set(envelope["source"]) == set(fixture["value"]["source"])
        after = orjson.loads(envelope["after"])
        assert after["_id"] == {"$oid": doc["_id"]} and after["time"] == {"$date": NOW}
        assert orjson.loads(orjson.loads(key)["id"]) == {"$oid": doc["_id"]}
        record = RawRecord("meshcentral.mongodb.events", {"message-type": "MESHCENTRAL_EVENT"}, key, value)
        result = normalize(record, PipelineSettings())
        if isinstance(result, Mapped):
            mapped += 1
            assert result.event["eventTimestamp"] == NOW
    assert mapped > 30  # the rest are `servertimelinestats`, which the mapper skips on purpose
