"""Enrichment by injected table lookups (plain dicts here): device, hostname, organization, tenant."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pipelines.enrich import (
    Enriched,
    EnrichSettings,
    Lookups,
    TenantUnresolved,
    enrich,
    storage_form,
    stream_key,
)

TENANT = "tenant-oss"
SINGLE = EnrichSettings()
CONNECTIONS: dict[str, dict[str, Any]] = {
    "FLEET:31": {"machineId": "m-ws07", "toolType": "FLEET", "agentToolId": "31", "connectedAt": 1},
    "TACTICAL:no-machine": {"toolType": "TACTICAL", "agentToolId": "no-machine"},  # a row without machineId
    "MESHCENTRAL:node//gone": {"machineId": "m-gone"},  # points at a machine row that does not exist
}
MACHINES: dict[str, dict[str, Any]] = {
    "m-ws07": {"machineId": "m-ws07", "hostname": "WS-ACCT-07", "organizationId": "org-acme"},
    "m-orphan": {"machineId": "m-orphan", "hostname": "ORPHAN-1", "organizationId": "org-missing"},
    "m-loner": {"machineId": "m-loner", "hostname": "LONER-1", "organizationId": None},
}
ORGANIZATIONS: dict[str, dict[str, Any]] = {"org-acme": {"organizationId": "org-acme", "name": "Acme Accounting"}}


class Recorder:
    """A dict lookup that remembers every key it was asked for."""

    def __init__(self, rows: Mapping[str, Any]) -> None:
        self.rows = rows
        self.asked: list[str] = []

    def __call__(self, key: str) -> Any:
        self.asked.append(key)
        return self.rows.get(key)


def lookups() -> tuple[Lookups, Recorder, Recorder, Recorder]:
    c, m, o = Recorder(CONNECTIONS), Recorder(MACHINES), Recorder(ORGANIZATIONS)
    return Lookups(connection=c, machine=m, organization=o), c, m, o


def event(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "tenantId": None,
        "toolEventId": "e-1",
        "toolType": "FLEET",
        "agentId": "31",
        "eventTimestamp": 1_763_630_151_456,
        "details": {"result": "ok"},
    }
    base.update(fields)
    return base


def enriched(out: Enriched | TenantUnresolved) -> Enriched:
    assert isinstance(out, Enriched), out
    return out


def test_tool_connection_machine_and_organization_fill_every_field() -> None:
    found, conn, _, org = lookups()
    out = enriched(enrich(event(), found, SINGLE, TENANT))
    assert out.complete
    assert {k: out.event[k] for k in ("tenantId", "deviceId", "hostname", "organizationId", "organizationName")} == {
        "tenantId": TENANT,
        "deviceId": "m-ws07",
        "hostname": "WS-ACCT-07",
        "organizationId": "org-acme",
        "organizationName": "Acme Accounting",
    }
    assert conn.asked == ["FLEET:31"]
    assert org.asked == ["org-acme"]


def test_connection_key_upper_cases_the_tool_type() -> None:
    found, conn, _, _ = lookups()
    out = enriched(enrich(event(toolType="fleet"), found, SINGLE, TENANT))
    assert conn.asked == ["FLEET:31"]
    assert out.event["deviceId"] == "m-ws07"


def test_agent_results_name_the_machine_directly_without_a_connection_lookup() -> None:
    found, conn, machine, _ = lookups()
    out = enriched(enrich(event(toolType="RMM", agentId="m-ws07"), found, SINGLE, TENANT))
    assert conn.asked == []
    assert machine.asked == ["m-ws07"]
    assert out.complete and out.event["hostname"] == "WS-ACCT-07"


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"agentId": "999"}, "no tool connection for the agent"),
        ({"toolType": "TACTICAL", "agentId": "no-machine"}, "connection row without machineId"),
        ({"toolType": "MESHCENTRAL", "agentId": "node//gone"}, "connection names an unknown machine"),
        ({"toolType": "RMM", "agentId": "m-unknown"}, "agent result for an unknown machine"),
    ],
)
def test_a_miss_is_incomplete_and_leaves_device_fields_alone(fields: dict[str, Any], why: str) -> None:
    found, _, _, org = lookups()
    out = enriched(enrich(event(**fields), found, SINGLE, TENANT))
    assert not out.complete, why
    assert out.event["tenantId"] == TENANT
    assert not {"deviceId", "hostname", "organizationId", "organizationName"} & out.event.keys()
    assert org.asked == []


def test_missing_organization_row_is_incomplete_but_keeps_the_device() -> None:
    found, _, _, _ = lookups()
    out = enriched(enrich(event(toolType="RMM", agentId="m-orphan"), found, SINGLE, TENANT))
    assert not out.complete
    assert (out.event["deviceId"], out.event["organizationId"], out.event["organizationName"]) == (
        "m-orphan",
        "org-missing",
        None,
    )


def test_machine_without_organization_is_complete_and_does_not_look_one_up() -> None:
    found, _, _, org = lookups()
    out = enriched(enrich(event(toolType="RMM", agentId="m-loner"), found, SINGLE, TENANT))
    assert out.complete
    assert out.event["organizationId"] is None and out.event["organizationName"] is None
    assert org.asked == []


@pytest.mark.parametrize("agent", [None, ""])
def test_an_event_without_agent_is_complete_with_no_lookup(agent: Any) -> None:
    found, conn, machine, org = lookups()
    out = enriched(enrich(event(agentId=agent), found, SINGLE, TENANT))
    assert out.complete
    assert out.event["tenantId"] == TENANT
    assert conn.asked == machine.asked == org.asked == []
    assert "deviceId" not in out.event


def test_single_mode_overrides_whatever_tenant_the_event_carried() -> None:
    found, *_ = lookups()
    out = enriched(enrich(event(tenantId="someone-else"), found, SINGLE, TENANT))
    assert out.event["tenantId"] == TENANT


def test_the_input_event_is_not_mutated() -> None:
    found, *_ = lookups()
    original = event()
    snapshot = copy.deepcopy(original)
    out = enriched(enrich(original, found, SINGLE, TENANT))
    assert original == snapshot
    assert out.event is not original and out.event != original


SHARED = EnrichSettings(tenant_mode="shared", tenants={"FLEET:7": "tenant-a", "MESHCENTRAL:acme": "tenant-b"})


@pytest.mark.parametrize(
    ("tool", "discriminator", "tenant"),
    [("FLEET", 7, "tenant-a"), ("FLEET", "7", "tenant-a"), ("MESHCENTRAL", "acme", "tenant-b")],
)
def test_shared_mode_maps_the_discriminator_to_a_tenant(tool: str, discriminator: Any, tenant: str) -> None:
    found, *_ = lookups()
    out = enriched(enrich(event(toolType=tool, agentId=None, discriminator=discriminator), found, SHARED, TENANT))
    assert out.event["tenantId"] == tenant


@pytest.mark.parametrize(
    ("tool", "discriminator"), [("FLEET", 8), ("FLEET", None), ("MESHCENTRAL", "7"), ("TACTICAL", "acme")]
)
def test_shared_mode_unresolved_tenant_is_reported_not_defaulted(tool: str, discriminator: Any) -> None:
    found, conn, _, _ = lookups()
    out = enrich(event(toolType=tool, discriminator=discriminator), found, SHARED, TENANT)
    assert isinstance(out, TenantUnresolved)
    assert out.reason == "tenant_unresolved"
    assert f"{tool}:{discriminator}" in out.detail
    assert conn.asked == []  # nothing is joined for an event that has no tenant


def test_settings_are_frozen_and_reject_unknown_fields() -> None:
    unknown_mode: Any = "multi"
    with pytest.raises(ValidationError):
        EnrichSettings(tenant_mode=unknown_mode)
    with pytest.raises(ValidationError):
        EnrichSettings(tenant="x")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        SINGLE.tenant_mode = "shared"  # type: ignore[misc]
    assert SINGLE.tenant_mode == "single" and SINGLE.tenants == {}


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"toolType": "FLEET", "agentId": "31"}, "FLEET:31"),
        ({"toolType": "MESHCENTRAL", "agentId": "node//mesh-1"}, "MESHCENTRAL:node//mesh-1"),
        ({"toolType": "FLEET", "agentId": None}, "e-1"),
        ({"toolType": "FLEET", "agentId": ""}, "e-1"),
    ],
)
def test_stream_key_is_the_join_key_or_the_event_id(fields: dict[str, Any], key: str) -> None:
    assert stream_key(event(**fields)) == key


def test_stream_key_without_agent_or_id_fails_loudly() -> None:
    with pytest.raises(KeyError):
        stream_key({"toolType": "FLEET"})


def test_storage_form_turns_details_into_json_text_without_touching_the_input() -> None:
    original = event(details={"result": "ok", "n": [1, 2]})
    out = storage_form(original)
    assert isinstance(out["details"], str)
    assert orjson.loads(out["details"]) == {"result": "ok", "n": [1, 2]}
    assert original["details"] == {"result": "ok", "n": [1, 2]}
    assert {k: v for k, v in out.items() if k != "details"} == {k: v for k, v in original.items() if k != "details"}


@pytest.mark.parametrize("details", ['{"already": "text"}', None, ""])
def test_storage_form_keeps_text_and_null_details(details: Any) -> None:
    assert storage_form(event(details=details))["details"] == details


ids = st.sampled_from(["31", "no-machine", "node//gone", "m-ws07", "m-orphan", "m-loner", "999", "", None])
tools = st.sampled_from(["FLEET", "fleet", "TACTICAL", "MESHCENTRAL", "RMM"])


@settings(max_examples=200, deadline=None)
@given(tool=tools, agent=ids, tenant=st.one_of(st.none(), st.text(max_size=5)))
def test_property_enrich_never_mutates_and_complete_means_every_named_row_was_found(
    tool: str, agent: str | None, tenant: str | None
) -> None:
    found, *_ = lookups()
    original = event(toolType=tool, agentId=agent, tenantId=tenant)
    snapshot = copy.deepcopy(original)
    out = enriched(enrich(original, found, SINGLE, TENANT))
    assert original == snapshot
    assert out.event["tenantId"] == TENANT
    if not agent:
        assert out.complete and "deviceId" not in out.event
        return
    machine_id = agent if tool == "RMM" else (CONNECTIONS.get(f"{tool.upper()}:{agent}") or {}).get("machineId")
    machine = MACHINES.get(machine_id) if machine_id else None
    if machine is None:
        assert not out.complete and "deviceId" not in out.event
        return
    assert out.event["deviceId"] == machine_id and out.event["hostname"] == machine["hostname"]
    org_id = machine["organizationId"]
    assert out.complete == (org_id is None or org_id in ORGANIZATIONS)
