"""MeshCentral: the MongoDB `events` collection (Debezium writes `after` as extended-JSON text;
the envelope module has already parsed it)."""

from __future__ import annotations

from pipelines.extjson import object_id
from pipelines.mappers._fields import dotted, text
from pipelines.mappers._registry import mapper
from pipelines.records import Change, ToolEvent


@mapper("meshcentral.events", tool="MESHCENTRAL")
def events(change: Change) -> ToolEvent:
    """Source type `<etype>.<action>` (or whichever is present); `domain` is the tenant
    discriminator. `servertimelinestats` is on the skip list in `taxonomy/meshcentral.json`."""
    row = change.row
    return ToolEvent(  # positional, in field order: this mapper is on the hot path
        dotted(text(row.get("etype")), text(row.get("action"))),  # source_type
        object_id(row.get("_id")),  # pk
        row.get("time"),  # time
        text(row.get("nodeid")),  # agent_id
        text(row.get("msg")),  # message
        text(row.get("domain")),  # discriminator
    )
