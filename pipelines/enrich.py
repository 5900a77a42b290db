"""Enrichment: an event gains device, hostname and organization, and its tenant, by table lookups.

Pure: lookups are injected callables (the topology passes Faust table reads), so no network call
is made per event and tests pass dicts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

from pipelines.reference import connection_key

Row = Mapping[str, Any]


class EnrichSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_mode: Literal["single", "shared"] = Field(
        "single", description="single: every event gets pipeline.tenant_id; shared: resolved per discriminator."
    )
    tenants: dict[str, str] = Field(
        default_factory=dict,
        description="Shared mode: '<TOOLTYPE>:<discriminator>' (Fleet team_id, MeshCentral domain) -> tenant id.",
    )
    reenrich_window_minutes: float = Field(
        30.0, description="Events that missed enrichment are re-emitted enriched if their row arrives this soon."
    )
    retry_interval_seconds: float = Field(2.0, description="How often missed events are retried.")
    max_pending_per_agent: int = Field(500, description="Cap on missed events kept per agent for re-emission.")
    expiry_sweep_seconds: float = Field(
        30.0, gt=0, description="How often kept events older than the re-enrich window are dropped (a full read of "
        "the kept events; the retries in between read one event per agent)."
    )


@dataclass(frozen=True)
class Lookups:
    connection: Callable[[str], Row | None]  # "<TOOLTYPE>:<agentId>" -> tool connection row
    machine: Callable[[str], Row | None]
    organization: Callable[[str], Row | None]


@dataclass(frozen=True, slots=True)
class Enriched:
    event: dict[str, Any]
    complete: bool  # False: an agent was named but its device (or organization) is not known yet


@dataclass(frozen=True, slots=True)
class TenantUnresolved:
    reason: str
    detail: str


# Agent results already carry the OpenFrame machine id; other tools go through tool_connections.
NATIVE_TOOLS = frozenset({"RMM"})


def enrich(
    event: Mapping[str, Any], lookups: Lookups, settings: EnrichSettings, tenant_id: str
) -> Enriched | TenantUnresolved:
    """A new event dict with enrichment fields set; the input is not mutated."""
    out = dict(event)
    tenant = _tenant(out, settings, tenant_id)
    if isinstance(tenant, TenantUnresolved):
        return tenant
    out["tenantId"] = tenant
    agent = out.get("agentId")
    if not agent:
        return Enriched(out, complete=True)  # a global event (e.g. a Fleet settings change): nothing to join
    tool = str(out.get("toolType") or "")
    if tool in NATIVE_TOOLS:
        machine_id: str | None = str(agent)
    else:
        connection = lookups.connection(connection_key(tool, str(agent)))
        machine_id = str(connection["machineId"]) if connection and connection.get("machineId") else None
    machine = lookups.machine(machine_id) if machine_id else None
    if machine is None:
        return Enriched(out, complete=False)
    out["deviceId"] = machine_id
    out["hostname"] = machine.get("hostname")
    org_id = machine.get("organizationId")
    org = lookups.organization(str(org_id)) if org_id else None
    out["organizationId"] = org_id
    out["organizationName"] = org.get("name") if org else None
    return Enriched(out, complete=org is not None or not org_id)


def _tenant(event: Mapping[str, Any], settings: EnrichSettings, tenant_id: str) -> str | TenantUnresolved:
    if settings.tenant_mode == "single":
        return tenant_id
    discriminator = event.get("discriminator")
    key = f"{event.get('toolType')}:{discriminator}"
    tenant = settings.tenants.get(key)
    if tenant is None:
        return TenantUnresolved("tenant_unresolved", f"no tenant for {key!r} in shared mode")
    return tenant


def stream_key(event: Mapping[str, Any]) -> str:
    """Key of the unified topic: the enrichment join key, so an agent's events share a partition."""
    agent = event.get("agentId")
    if agent:
        return f"{event.get('toolType')}:{agent}"
    return str(event["toolEventId"])


def storage_form(event: Mapping[str, Any]) -> dict[str, Any]:
    """The enriched topic's form of an event: `details` as JSON text, as Pinot and Cassandra store it
    (Pinot's JSON decoder cannot put an object into a STRING column)."""
    out = dict(event)
    details = out.get("details")
    if details is not None and not isinstance(details, str):
        out["details"] = orjson.dumps(details).decode()
    return out


@dataclass(frozen=True, slots=True)
class RetryResult:
    emit: list[tuple[str, dict[str, Any]]]  # (pending key, the event now enriched in full)
    remove: list[str]  # pending keys to delete: the emitted, the expired and the overflow


def pending_key(stream_key: str, tool_event_id: str) -> str:
    """One small pending entry per missed event: a write never re-serializes an agent's backlog."""
    return f"{stream_key}\x00{tool_event_id}"


def agent_of(key: str) -> str:
    """The agent stream key a pending key was made from (`pending_key`)."""
    return key.split("\x00", 1)[0]


def by_agent(keys: Iterable[str]) -> dict[str, dict[str, None]]:
    """Pending keys grouped by agent (their stream key), in order: the index `retry_due` walks."""
    groups: dict[str, dict[str, None]] = {}
    for key in keys:
        groups.setdefault(agent_of(key), {})[key] = None
    return groups


def retry_due(
    groups: Mapping[str, Iterable[str]],
    pending: Mapping[str, Mapping[str, Any] | None],
    lookups: Lookups,
    settings: EnrichSettings,
    tenant_id: str,
    now_ms: int,
    sweep: bool = True,
) -> RetryResult:
    """Missed events whose reference rows have arrived are re-enriched; expired ones and those past the
    per-agent cap are dropped.

    Cost follows the agents, not the events: `groups` (from `by_agent`) names each agent's pending
    keys, one entry per agent is probed (its events share the agent's device and organization), and
    only the agents whose probe now succeeds, or whose count is past the cap, are read in full. Expiry
    reads every entry, so it runs only when `sweep` is set (the caller sweeps now and then)."""
    window_ms = settings.reenrich_window_minutes * 60_000
    emit: list[tuple[str, dict[str, Any]]] = []
    remove: list[str] = []
    for group in groups.values():
        keys = list(group)
        live: list[tuple[str, Mapping[str, Any]]] = []
        if sweep or len(keys) > settings.max_pending_per_agent:
            waiting = sorted(((key, entry) for key in keys if (entry := pending.get(key)) is not None),
                             key=lambda item: item[1]["since"])
            overflow = max(0, len(waiting) - settings.max_pending_per_agent)
            for index, (key, entry) in enumerate(waiting):
                if index < overflow or now_ms - entry["since"] > window_ms:
                    remove.append(key)
                else:
                    live.append((key, entry))
            first = live[0][1] if live else None
        else:
            first = next((entry for key in keys if (entry := pending.get(key)) is not None), None)
        if first is None:
            continue
        probe = enrich(first["event"], lookups, settings, tenant_id)
        if not (isinstance(probe, Enriched) and probe.complete):
            continue
        if not live:
            live = [(key, entry) for key in keys if (entry := pending.get(key)) is not None]
        for key, entry in live:
            result = enrich(entry["event"], lookups, settings, tenant_id)
            if isinstance(result, Enriched) and result.complete:
                emit.append((key, result.event))
                remove.append(key)
    return RetryResult(emit, remove)
