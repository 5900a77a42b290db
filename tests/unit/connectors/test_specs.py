"""The versioned connector files: placeholders, secrets, routing and the key contract."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest

from connectors.settings import ConnectorSettings
from connectors.specs import (
    CONFIG_DIR,
    connectors_for,
    fill,
    is_secret,
    load_templates,
    placeholder_values,
    render,
)
from openframe_stream.errors import ConfigError
from openframe_stream.settings import Settings
from pipelines.settings import DEFAULT_MESSAGE_TYPES
from topologies.topics import TopicSettings, declare


def _java_route(config: dict[str, str], topic: str) -> str:
    """What Connect's RegexRouter does: a full match of `regex`, then `$1` substitution."""
    match = re.fullmatch(config["transforms.route.regex"], topic)
    assert match is not None, f"router does not match {topic}"
    return re.sub(r"\$(\d)", lambda m: match.group(int(m.group(1))), config["transforms.route.replacement"])


def _predicate(config: dict[str, str], name: str, topic: str) -> bool:
    return re.fullmatch(config[f"predicates.{name}.pattern"], topic) is not None


def test_fill_replaces_known_placeholders_and_escapes_for_regex() -> None:
    values = {"a.b": "x.y", "c.d": "7"}
    assert fill("${a.b}:${c.d}", values) == "x.y:7"
    assert fill("${a.b|re}\\.t", values) == "x\\.y\\.t"


@pytest.mark.parametrize("text", ["${nope.field}", "${a.b", "${A.B}"])
def test_fill_rejects_unknown_or_malformed_placeholders(text: str) -> None:
    with pytest.raises(ConfigError):
        fill(text, {"a.b": "x"}, "here")


def test_every_file_renders_with_default_settings_and_no_placeholder_survives() -> None:
    connectors = connectors_for(Settings.load())
    assert {c.name for c in connectors} == {
        "tactical-rmm-postgres",
        "fleet-mariadb",
        "meshcentral-mongodb",
        "openframe-reference-mongodb",
    }
    for connector in connectors:
        assert all("${" not in v for v in connector.config.values()), connector.name


def test_secrets_are_placeholders_in_files_and_masked_keys_are_recognised() -> None:
    for template in load_templates():
        for key, value in template.config.items():
            if is_secret(key):
                assert value.startswith("${") and value.endswith("}"), f"{template.name}: {key} holds a literal"
    assert is_secret("database.password") and is_secret("mongodb.connection.string")
    assert not is_secret("database.user")


def test_bool_settings_render_in_connect_syntax() -> None:
    values = placeholder_values(Settings.load(), ConnectorSettings(tactical_slot_drop_on_stop=True))
    assert values["connectors.tactical_slot_drop_on_stop"] == "true"


def test_tactical_routes_all_tables_to_one_topic_with_a_header_per_table() -> None:
    settings = Settings.load(topics=TopicSettings(prefix="p1."))
    (tactical,) = connectors_for(settings, ["tactical-rmm-postgres"])
    config = tactical.config
    expected = {
        "logs_auditlog": "TACTICAL_RMM_AUDIT_EVENT",
        "agents_agenthistory": "TACTICAL_RMM_AGENT_HISTORY_EVENT",
        "autotasks_taskresult": "TACTICAL_RMM_TASK_RESULT_EVENT",
    }
    transforms = config["transforms"].split(",")
    assert transforms[-1] == "route", "headers must be chosen by the source table, before routing"
    for table, header in expected.items():
        topic = f"trmm.public.{table}"
        assert _java_route(config, topic) == declare(settings.topics).tactical.name == "p1.tactical-rmm.postgres.events"
        inserted = [
            config[f"transforms.{t}.value.literal"]
            for t in transforms[:-1]
            if _predicate(config, config[f"transforms.{t}.predicate"], topic)
        ]
        assert inserted == [header]
        assert header in DEFAULT_MESSAGE_TYPES
    assert config["publication.autocreate.mode"] == "disabled"
    assert config["tombstones.on.delete"] == "false"


def test_fleet_routes_each_table_to_its_declared_topic_with_headers_and_bare_activity_keys() -> None:
    settings = Settings.load(topics=TopicSettings(prefix="p1.", raw_partitions=6))
    (fleet,) = connectors_for(settings, ["fleet-mariadb"])
    config = fleet.config
    topics = declare(settings.topics)
    route = {
        "activities": (topics.fleet_activities.name, "FLEET_MDM_EVENT", "id"),
        "host_activities": (topics.fleet_host_activities.name, None, "activity_id"),
        "query_results": (topics.fleet_query_results.name, "FLEET_MDM_QUERY_RESULT_EVENT", None),
        "policy_membership": (topics.fleet_policy_membership.name, "FLEET_MDM_POLICY_MEMBERSHIP_EVENT", None),
    }
    transforms = config["transforms"].split(",")
    assert transforms[-1] == "route"
    for table, (topic_name, header, key_field) in route.items():
        source_topic = f"fleet_mysql.fleet.{table}"
        assert _java_route(config, source_topic) == topic_name
        applied = [t for t in transforms[:-1] if _predicate(config, config[f"transforms.{t}.predicate"], source_topic)]
        kinds = {t: config[f"transforms.{t}.type"] for t in applied}
        headers = [config[f"transforms.{t}.value.literal"] for t in applied if kinds[t].endswith("InsertHeader")]
        keys = [config[f"transforms.{t}.field"] for t in applied if kinds[t].endswith("ExtractField$Key")]
        assert headers == ([header] if header else [])
        assert keys == ([key_field] if key_field else [])
    # host_activities' primary key is (host_id, activity_id): re-key it so ExtractField finds activity_id.
    assert config["message.key.columns"] == "fleet.host_activities:activity_id"
    assert config["topic.creation.default.partitions"] == "6"


def test_meshcentral_and_reference_route_to_declared_topics() -> None:
    settings = Settings.load(topics=TopicSettings(prefix="p1."))
    mesh, reference = connectors_for(settings, ["meshcentral-mongodb", "openframe-reference-mongodb"])
    topics = declare(settings.topics)
    assert _java_route(mesh.config, "meshcentral.meshcentral.events") == topics.meshcentral.name
    assert mesh.config["transforms.header.value.literal"] == "MESHCENTRAL_EVENT"
    for collection, spec in [
        ("machines", topics.machines),
        ("organizations", topics.organizations),
        ("tool_connections", topics.tool_connections),
    ]:
        assert _java_route(reference.config, f"openframe.openframe.{collection}") == spec.name
    assert mesh.template.needs_change_streams and reference.template.needs_change_streams


def test_render_can_rename_a_connector_and_unknown_names_fail() -> None:
    (template,) = [t for t in load_templates() if t.name == "fleet-mariadb"]
    renamed = render(template, placeholder_values(Settings.load()), name="it-fleet")
    assert renamed.name == "it-fleet" and renamed.template is template
    with pytest.raises(ConfigError, match="unknown connector"):
        connectors_for(Settings.load(), ["nope"])


def test_a_file_with_a_non_string_value_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_bytes(orjson.dumps({"name": "x", "config": {"connector.class": "C", "tasks.max": 1}}))
    with pytest.raises(ConfigError, match="strings"):
        load_templates(tmp_path)
    assert load_templates(CONFIG_DIR)
