"""OpenFrame's reference documents for the generated estate, in MongoDB (db `openframe`):
organizations, machines and tool connections, consistent with the ids the generator writes.

Orphan devices get no machine and no connection, so their events miss enrichment. Upserts keep
`connectedAt` from the first run, so a rerun changes nothing and `reference sync` sends nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from infra.traffic.estate import Estate
from infra.traffic.settings import TrafficSettings

if TYPE_CHECKING:
    from openframe_stream.settings import Settings


def documents(
    estate: Estate, options: TrafficSettings, agent_pk: dict[str, int]
) -> dict[str, list[tuple[dict[str, Any], dict[str, Any]]]]:
    """Collection -> (filter, fields) pairs to upsert. Pure, for tests."""
    tenant = estate.tenant_id
    out: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {
        "organizations": [
            ({"organizationId": o.organization_id}, {"name": o.name, "tenantId": tenant}) for o in estate.organizations
        ],
        "machines": [],
        "tool_connections": [],
    }
    for device in estate.connected:
        out["machines"].append(
            (
                {"machineId": device.machine_id},
                {"hostname": device.hostname, "organizationId": device.organization_id, "tenantId": tenant},
            )
        )
        agents: list[tuple[str, str]] = []
        if device.fleet_host_id is not None:
            agents.append(("FLEET", str(device.fleet_host_id)))
        if device.tactical_agent_id is not None:
            agents.append(("TACTICAL", device.tactical_agent_id))
            if options.tactical_pk_connections and device.tactical_agent_id in agent_pk:
                agents.append(("TACTICAL", str(agent_pk[device.tactical_agent_id])))
        if device.mesh_node_id is not None:
            agents.append(("MESHCENTRAL", device.mesh_node_id))
        for tool, agent in agents:
            out["tool_connections"].append(
                ({"toolType": tool, "agentToolId": agent}, {"machineId": device.machine_id, "tenantId": tenant})
            )
    return out


def seed(settings: Settings, estate: Estate, options: TrafficSettings, agent_pk: dict[str, int]) -> int:
    """Upsert the documents; returns how many were new."""
    import pymongo

    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(settings.mongo.uri, serverSelectionTimeoutMS=5000)
    created = 0
    try:
        db = client[settings.mongo.database]
        for collection, pairs in documents(estate, options, agent_pk).items():
            for match, fields in pairs:
                update: dict[str, Any] = {"$set": fields}
                if collection == "tool_connections":
                    update["$setOnInsert"] = {"connectedAt": datetime.now(UTC)}
                result = db[collection].update_one(match, update, upsert=True)
                created += result.upserted_id is not None
    finally:
        client.close()
    return created
