from __future__ import annotations

import orjson
import pytest

from pipelines.mappers import REGISTRY
from pipelines.mappers._registry import MapperSpec
from pipelines.normalize import normalize, route
from pipelines.records import Change, DeadLetter, MapError, Mapped, RawRecord, Skipped, ToolEvent
from pipelines.settings import PipelineSettings
from pipelines.taxonomy import tool_taxonomy

SETTINGS = PipelineSettings()
MESH_AFTER = '{"_id": {"$oid": "a1"}, "etype": "user", "action": "login", "time": {"$date": 1763630151456}}'


def mesh(headers: dict[str, str] | None = None, topic: str = "meshcentral.mongodb.events") -> RawRecord:
    value = orjson.dumps({"op": "c", "ts_ms": 1, "after": MESH_AFTER, "source": {"collection": "events"}})
    return RawRecord(topic, headers or {}, None, value)


def test_header_wins_over_topic_and_is_case_insensitive() -> None:
    assert route(mesh({"message-type": "meshcentral_event"}, topic="logs.events"), SETTINGS) == "meshcentral.events"


def test_source_name_as_header_value() -> None:
    assert route(mesh({"message-type": "meshcentral.events"}, topic="x"), SETTINGS) == "meshcentral.events"


def test_bytes_header_is_tolerated() -> None:
    record = RawRecord("x", {"message-type": b"MESHCENTRAL_EVENT"}, None, None)  # type: ignore[dict-item]
    assert route(record, SETTINGS) == "meshcentral.events"


def test_unknown_header_and_unknown_topic() -> None:
    out = route(mesh({"message-type": "NOPE"}), SETTINGS)
    assert isinstance(out, DeadLetter) and (out.stage, out.reason) == ("route", "unknown_message_type")
    out = route(mesh(topic="nope"), SETTINGS)
    assert isinstance(out, DeadLetter) and (out.stage, out.reason) == ("route", "unknown_source")


def test_settings_drive_routing_and_tenant() -> None:
    settings = PipelineSettings(
        tenant_id="acme",
        topic_sources={"mesh.raw": "meshcentral.events"},
        message_types={"my_mesh": "meshcentral.events"},
    )
    assert settings.message_types == {"MY_MESH": "meshcentral.events"}
    for record in (mesh(topic="mesh.raw"), mesh({"message-type": "My_Mesh"}, topic="other")):
        out = normalize(record, settings)
        assert isinstance(out, Mapped) and out.event["tenantId"] == "acme"
    assert isinstance(normalize(mesh(), settings), DeadLetter)  # the default topic map was replaced


def test_results_carry_the_source() -> None:
    out = normalize(RawRecord("meshcentral.mongodb.events", {}, None, None), SETTINGS)
    assert out == Skipped("tombstone", "meshcentral.events")


def test_mapped_event_serializes() -> None:
    out = normalize(mesh(), SETTINGS)
    assert isinstance(out, Mapped)
    assert orjson.loads(orjson.dumps(out.event))["sourceEventType"] == "user.login"


@pytest.fixture
def temp_mapper() -> object:
    """Registers `test.temp` for one test, with a swappable body."""
    box: dict[str, object] = {}

    def fn(change: Change) -> ToolEvent | Skipped:
        behaviour = box["fn"]
        return behaviour(change)  # type: ignore[operator, no-any-return]

    spec = MapperSpec("test.temp", "RMM", ("test.temp",), "temp", fn, tool_taxonomy("RMM"), "tests")
    REGISTRY.register(spec)
    yield box
    REGISTRY._by_name.pop("test.temp")
    REGISTRY.by_source.pop("test.temp")


def _temp_record() -> RawRecord:
    return RawRecord(
        "t", {"message-type": "test.temp"}, None, b'{"op": "c", "ts_ms": 1763630151456, "after": {"k": 1}}'
    )


def test_mapper_errors_become_dead_letters(temp_mapper: dict[str, object]) -> None:
    def boom(change: Change) -> ToolEvent:
        raise KeyError("x")

    def refuse(change: Change) -> ToolEvent:
        raise MapError("missing_field", "no `id`")

    def wrong(change: Change) -> object:
        return 42

    temp_mapper["fn"] = boom
    out = normalize(_temp_record(), SETTINGS)
    assert isinstance(out, DeadLetter) and (out.stage, out.reason, out.source) == ("map", "mapper_error", "test.temp")
    temp_mapper["fn"] = refuse
    assert normalize(_temp_record(), SETTINGS) == DeadLetter("map", "missing_field", "no `id`", "test.temp")
    temp_mapper["fn"] = wrong
    out = normalize(_temp_record(), SETTINGS)
    assert isinstance(out, DeadLetter) and out.reason == "mapper_error"


def test_mapper_skip_and_table_override(temp_mapper: dict[str, object]) -> None:
    temp_mapper["fn"] = lambda change: Skipped("not_interesting")
    assert normalize(_temp_record(), SETTINGS) == Skipped("not_interesting", "test.temp")
    temp_mapper["fn"] = lambda change: ToolEvent("cmd_run.finished", "7", table="other")
    out = normalize(_temp_record(), SETTINGS)
    assert isinstance(out, Mapped)
    assert out.event["sourceTable"] == "other" and out.event["eventType"] == "COMMAND_RUN_FINISHED"
    assert out.event["summary"] == "Command run finished"  # no message: the default summary
    assert out.event["eventTimestamp"] == 1763630151456  # no tool time: ts_ms


def test_internal_errors_never_escape() -> None:
    class Exploding(dict[str, str]):
        def get(self, *args: object) -> str:
            raise RuntimeError("bad headers")

    out = normalize(RawRecord("t", Exploding({"x": "y"}), None, None), SETTINGS)
    assert isinstance(out, DeadLetter) and (out.stage, out.reason) == ("map", "internal_error")


def test_tactical_audit_reads_the_real_agent_id_column_and_the_reference_alias() -> None:
    from pipelines.normalize import normalize
    from pipelines.records import Mapped, RawRecord
    from pipelines.settings import PipelineSettings

    def agent_of(row_extra: dict[str, object]) -> object:
        row = {"id": 1, "entry_time": "2026-11-20T09:20:11Z", "action": "login", "object_type": "user", **row_extra}
        envelope = {"op": "c", "ts_ms": 1, "after": row, "source": {"table": "logs_auditlog"}}
        result = normalize(
            RawRecord("tactical-rmm.postgres.events", {"message-type": "TACTICAL_RMM_AUDIT_EVENT"}, None, envelope),
            PipelineSettings(),
        )
        assert isinstance(result, Mapped)
        return result.event["agentId"]

    assert agent_of({"agent_id": "AgentStr"}) == "AgentStr"  # Tactical's real column
    assert agent_of({"agentid": "Legacy"}) == "Legacy"  # the reference's captures
