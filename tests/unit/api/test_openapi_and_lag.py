"""The checked-in OpenAPI document is the generated one; the lag parser reads the worker's metric."""

from __future__ import annotations

import json

from api import openapi
from api.lag import total_lag


def test_checked_in_openapi_matches_the_app() -> None:
    generated = openapi.render()
    assert openapi.SPEC_PATH.read_text() == generated, "run `openframe-stream api openapi` and commit api/openapi.json"
    spec = json.loads(generated)
    logs = spec["paths"]["/api/v1/logs"]["get"]
    names = {p["name"] for p in logs["parameters"]}
    assert {"startDate", "endDate", "timestampFrom", "timestampTo", "toolTypes", "eventTypes", "severities",
            "organizationIds", "deviceId", "search", "limit", "cursor", "sortField", "sortDirection"} <= names
    assert {"400", "401", "403"} <= set(logs["responses"])
    assert set(spec["components"]["securitySchemes"]) == {"HTTPBearer", "APIKeyHeader"}


def test_total_lag_sums_the_groups_partitions() -> None:
    text = "\n".join([
        "# HELP openframe_consumer_lag_messages Log-end offset minus committed offset.",
        'openframe_consumer_lag_messages{group="openframe-stream",partition="0",topic="a"} 5.0',
        'openframe_consumer_lag_messages{group="openframe-stream",partition="1",topic="a"} 7.0',
        'openframe_consumer_lag_messages{group="other",partition="0",topic="a"} 100.0',
        'openframe_consumer_lag_seconds{group="openframe-stream",partition="0",topic="a"} 9.0',
    ])
    assert total_lag(text, "openframe-stream") == 12
    assert total_lag(text, "missing") is None
