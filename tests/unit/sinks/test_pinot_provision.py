"""Pinot provisioning: placeholder filling, drift detection, and create/update/leave-alone against a
fake controller (`_call` monkeypatched; no server)."""

from __future__ import annotations

import copy
import json
import socket
from dataclasses import dataclass, field
from typing import Any

import pytest

import sinks.pinot.provision as provision_module
from openframe_stream.errors import ConfigError, Transient
from sinks.pinot.provision import PinotSinkSettings, _differs, provision, schema, table_config

TOPIC, BOOTSTRAP, URL = "openframe.enriched.events", "kafka-1:9092,kafka-2:9092", "http://pinot:9000"


def test_table_config_fills_every_placeholder_and_the_settings() -> None:
    settings = PinotSinkSettings(table="logs_eu", flush_rows=1234, retention_days=7)
    config = table_config(settings, TOPIC, BOOTSTRAP)
    assert "${" not in json.dumps(config)
    streams = config["tableIndexConfig"]["streamConfigs"]
    assert streams["stream.kafka.topic.name"] == TOPIC
    assert streams["stream.kafka.broker.list"] == BOOTSTRAP
    assert streams["realtime.segment.flush.threshold.rows"] == "1234"
    assert config["tableName"] == config["segmentsConfig"]["schemaName"] == "logs_eu"
    assert config["segmentsConfig"]["retentionTimeValue"] == "7"
    assert config["tableType"] == "REALTIME"
    assert config["upsertConfig"]["mode"] == "FULL"


def test_schema_is_named_after_the_table_and_keyed_by_tool_event_id() -> None:
    body = schema(PinotSinkSettings(table="logs_eu"))
    assert body["schemaName"] == "logs_eu"
    assert body["primaryKeyColumns"] == ["toolEventId"]


def test_builders_return_fresh_objects() -> None:
    settings = PinotSinkSettings()
    first = table_config(settings, TOPIC, BOOTSTRAP)
    first["tableIndexConfig"]["streamConfigs"]["stream.kafka.topic.name"] = "changed"
    assert (
        table_config(settings, TOPIC, BOOTSTRAP)["tableIndexConfig"]["streamConfigs"]["stream.kafka.topic.name"]
        == TOPIC
    )


WANTED = {"a": "1", "n": {"x": [1, 2], "on": True}, "list": [{"k": "v"}]}


@pytest.mark.parametrize(
    ("have", "differs"),
    [
        (copy.deepcopy(WANTED), False),
        ({**copy.deepcopy(WANTED), "serverDefault": 5}, False),  # the server adds keys of its own
        ({"a": 1, "n": {"x": ["1", "2"], "on": True}, "list": [{"k": "v", "extra": 0}]}, False),  # "1" == 1
        ({**copy.deepcopy(WANTED), "a": "2"}, True),
        ({"a": "1", "n": {"x": [1, 2]}, "list": [{"k": "v"}]}, True),  # a key we set is gone
        ({"a": "1", "n": {"x": [1, 2, 3], "on": True}, "list": [{"k": "v"}]}, True),  # list length
        ({"a": "1", "n": {"x": [2, 1], "on": True}, "list": [{"k": "v"}]}, True),  # list order
        ({"a": "1", "n": "text", "list": [{"k": "v"}]}, True),
        ({"a": "1", "n": {"x": [1, 2], "on": True}, "list": {"k": "v"}}, True),
    ],
)
def test_differs_only_on_keys_we_set(have: dict[str, Any], differs: bool) -> None:
    assert _differs(have, WANTED) is differs


@dataclass
class FakeResponse:
    status_code: int
    body: Any = None

    @property
    def ok(self) -> bool:
        return self.status_code < 400

    @property
    def text(self) -> str:
        return json.dumps(self.body)

    def json(self) -> Any:
        return self.body


@dataclass
class FakeController:
    """The controller's REST surface the provisioner uses. Like Pinot, it adds defaults to what it
    stores and (when `pinot_table_names`) reports the table as `<name>_REALTIME`."""

    pinot_table_names: bool = True
    fail: dict[tuple[str, str], int] = field(default_factory=dict)  # (method, path) -> status code
    schemas: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, method: str, url: str, **kwargs: Any) -> FakeResponse:
        assert url.startswith(URL)
        path = url.removeprefix(URL)
        self.calls.append((method, path))
        if (method, path) in self.fail:
            return FakeResponse(self.fail[(method, path)], {"error": "nope"})
        parts = path.strip("/").split("/")
        body: Any = kwargs.get("json")
        if parts[0] == "schemas":
            if method == "GET":
                found = self.schemas.get(parts[1])
                return FakeResponse(200, found) if found else FakeResponse(404, {"error": "not found"})
            self.schemas[body["schemaName"]] = {**copy.deepcopy(body), "enableColumnBasedNullHandling": False}
            return FakeResponse(200, {"status": "ok"})
        if parts[0] == "tables":
            if method == "GET":
                assert kwargs.get("params") == {"type": "realtime"}
                found = self.tables.get(parts[1])
                return FakeResponse(200, {"REALTIME": found} if found else {})
            stored = copy.deepcopy(body)
            stored["segmentsConfig"]["retentionTimeValue"] = int(stored["segmentsConfig"]["retentionTimeValue"])
            stored["tableIndexConfig"]["createInvertedIndexDuringSegmentGeneration"] = False
            if self.pinot_table_names:
                stored["tableName"] = f"{body['tableName']}_REALTIME"
            self.tables[body["tableName"]] = stored
            return FakeResponse(200, {"status": "ok"})
        raise AssertionError(f"unexpected call {method} {path}")

    def writes(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[0] != "GET"]


@pytest.fixture
def controller(monkeypatch: pytest.MonkeyPatch) -> FakeController:
    fake = FakeController()
    monkeypatch.setattr(provision_module, "_call", fake)
    return fake


SETTINGS = PinotSinkSettings()


def run() -> list[str]:
    return provision(URL, SETTINGS, TOPIC, BOOTSTRAP)


def test_empty_controller_gets_the_schema_and_the_table(controller: FakeController) -> None:
    assert run() == ["schema created", "table created"]
    assert controller.writes() == [("POST", "/schemas"), ("POST", "/tables")]
    assert controller.schemas["logs"]["primaryKeyColumns"] == schema(SETTINGS)["primaryKeyColumns"]
    stored = controller.tables["logs"]
    assert (
        stored["tableIndexConfig"]["streamConfigs"]
        == table_config(SETTINGS, TOPIC, BOOTSTRAP)["tableIndexConfig"]["streamConfigs"]
    )


def test_a_second_run_with_server_defaults_changes_nothing(controller: FakeController) -> None:
    """Server-added keys and "60" vs 60 are not drift (this controller echoes the table name as sent)."""
    controller.pinot_table_names = False
    run()
    controller.calls.clear()
    assert run() == []
    assert controller.writes() == []


def test_a_second_run_against_pinot_shaped_responses_changes_nothing(controller: FakeController) -> None:
    run()
    controller.calls.clear()
    assert run() == []
    assert controller.writes() == []


def test_table_drift_is_updated_with_the_wanted_config(controller: FakeController) -> None:
    controller.pinot_table_names = False
    run()
    changed = PinotSinkSettings(flush_rows=5)
    assert provision(URL, changed, TOPIC, BOOTSTRAP) == ["table updated"]
    assert controller.writes()[-1] == ("PUT", "/tables/logs")
    streams = controller.tables["logs"]["tableIndexConfig"]["streamConfigs"]
    assert streams["realtime.segment.flush.threshold.rows"] == "5"


def test_a_new_topic_is_drift(controller: FakeController) -> None:
    controller.pinot_table_names = False
    run()
    assert provision(URL, SETTINGS, "other.topic", BOOTSTRAP) == ["table updated"]


def test_schema_drift_is_updated(controller: FakeController) -> None:
    controller.pinot_table_names = False
    run()
    controller.schemas["logs"]["dimensionFieldSpecs"] = controller.schemas["logs"]["dimensionFieldSpecs"][:-1]
    assert run() == ["schema updated"]
    assert ("PUT", "/schemas/logs") in controller.writes()
    assert controller.schemas["logs"]["dimensionFieldSpecs"] == schema(SETTINGS)["dimensionFieldSpecs"]


@pytest.mark.parametrize(
    ("failing", "status", "error"),
    [
        (("GET", "/schemas/logs"), 503, Transient),
        (("GET", "/schemas/logs"), 403, ConfigError),
        (("POST", "/schemas"), 400, ConfigError),
        (("GET", "/tables/logs"), 500, Transient),
        (("POST", "/tables"), 400, ConfigError),
        (("POST", "/tables"), 502, Transient),
    ],
)
def test_server_errors_are_transient_and_client_errors_are_config_errors(
    controller: FakeController, failing: tuple[str, str], status: int, error: type[Exception]
) -> None:
    controller.fail[failing] = status
    with pytest.raises(error) as caught:
        run()
    assert str(status) in str(caught.value)


def test_an_unreachable_controller_is_transient() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(Transient, match="unreachable"):
        provision(f"http://127.0.0.1:{port}", SETTINGS, TOPIC, BOOTSTRAP)
