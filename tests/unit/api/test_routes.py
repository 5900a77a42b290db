"""The HTTP surface on the in-memory reader: tenant isolation, error shapes, facets, stats, details,
probes, metrics and the dashboard's files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.query.logs import LogQuery, LogRow
from api.readers.base import StoreUnavailable
from api.readers.memory import MemoryReader
from tests.unit.api.conftest import Keys, auth

V1 = "/api/v1"


@pytest.fixture
def acme(keys: Keys) -> dict[str, str]:
    return auth(keys.token("acme"))


def test_details_of_another_tenants_event_look_exactly_like_a_missing_one(client: TestClient, acme: dict[str, str]
                                                                          ) -> None:
    own = client.get(f"{V1}/logs/acme-e0003", headers=acme)
    assert own.status_code == 200
    body = own.json()
    assert body["message"] == "message 3" and body["details"] == {"result": {"n": 3}}
    foreign = client.get(f"{V1}/logs/globex-e0003", headers=acme)
    missing = client.get(f"{V1}/logs/nobody-e0003", headers=acme)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


@pytest.mark.parametrize(("query", "field"), [
    ("limit=0", "limit"), ("limit=101", "limit"), ("limit=x", "limit"), ("sortField=message", "sortField"),
    ("sortDirection=UP", "sortDirection"), ("severities=LOUD", "severities"), ("toolTypes=a'b", "toolTypes"),
    ("startDate=2026-11-20&endDate=2026-11-19", "endDate"), ("startDate=20261119", "startDate"),
    ("timestampFrom=2026-11-20T00:00:00Z&timestampTo=2026-11-19T00:00:00Z", "timestampTo"),
    ("search=%21%21%21", "search"), ("cursor=not-a-cursor", "cursor"), ("deviceId=a%00b", "deviceId"),
    ("organizationIds=" + "o," * 51, "organizationIds"),
])
def test_bad_parameters_are_400_with_the_field_named(client: TestClient, acme: dict[str, str], query: str,
                                                     field: str) -> None:
    response = client.get(f"{V1}/logs?{query}", headers=acme)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_parameter" and field in [f["field"] for f in error["fields"]]


def test_filters_and_lists_in_both_spellings(client: TestClient, acme: dict[str, str]) -> None:
    a = client.get(f"{V1}/logs?severities=error,critical&limit=100", headers=acme).json()
    b = client.get(f"{V1}/logs?severities=ERROR&severities=CRITICAL&limit=100", headers=acme).json()
    assert a == b and len(a["items"]) == 30 and {i["severity"] for i in a["items"]} == {"ERROR", "CRITICAL"}
    search = client.get(f"{V1}/logs?search=number 7 disk&limit=100", headers=acme).json()
    assert [i["toolEventId"] for i in search["items"]] == ["acme-e0007"]
    day = client.get(f"{V1}/logs?startDate=2026-11-18&endDate=2026-11-18&limit=100", headers=acme).json()
    assert len(day["items"]) == 60  # BASE_MS is 2026-11-18 UTC: days are UTC days
    assert client.get(f"{V1}/logs?startDate=2026-11-19", headers=acme).json()["items"] == []


def test_facets_honour_the_other_filters_but_not_their_own(client: TestClient, acme: dict[str, str]) -> None:
    body = client.get(f"{V1}/logs/filters?severities=CRITICAL&toolTypes=FLEET", headers=acme).json()
    assert [s["value"] for s in body["severities"]] == ["CRITICAL", "ERROR", "INFO", "WARNING"]  # own filter ignored
    assert sum(s["count"] for s in body["severities"]) == 20  # ...but toolTypes=FLEET applies
    assert {t["value"] for t in body["toolTypes"]} == {"FLEET", "MESHCENTRAL", "TACTICAL"}
    assert sum(t["count"] for t in body["toolTypes"]) == 15  # the CRITICAL ones of every tool
    assert [o["name"] for o in body["organizations"]] == ["Globex"]  # CRITICAL events are the odd, Globex ones


def test_stats_buckets_cover_the_range_and_count_by_group(client: TestClient, acme: dict[str, str]) -> None:
    q = "interval=minute&groupBy=toolType&timestampFrom=2026-11-18T11:00:00Z&timestampTo=2026-11-18T12:59:59Z&top=3"
    body = client.get(f"{V1}/stats?{q}", headers=acme).json()
    assert len(body["buckets"]) == 120 and body["groups"] == ["FLEET", "MESHCENTRAL", "TACTICAL"]
    assert body["total"] == sum(b["total"] for b in body["buckets"]) == 60
    assert len(body["topDevices"]) == 3 and body["topDevices"][0]["count"] >= body["topDevices"][-1]["count"]
    assert body["topEventTypes"][0]["count"] == 15
    too_many = client.get(f"{V1}/stats?interval=minute&startDate=2026-01-01&endDate=2026-11-18", headers=acme)
    assert too_many.status_code == 400 and too_many.json()["error"]["fields"][0]["field"] == "interval"


def test_failures_never_leak_a_trace(client_for: Callable[..., TestClient], memory: MemoryReader,
                                     acme: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_for()

    async def broken(q: LogQuery) -> list[LogRow]:
        raise RuntimeError("secret internals at /srv/app.py line 42")

    monkeypatch.setattr(memory, "search", broken)
    response = client.get(f"{V1}/logs", headers=acme)
    assert response.status_code == 500
    assert response.json() == {"error": {"status": 500, "code": "internal", "message": "internal error", "fields": []}}

    async def down(q: Any) -> list[Any]:
        raise StoreUnavailable("pinot")

    monkeypatch.setattr(memory, "search", down)
    response = client.get(f"{V1}/logs", headers=acme)
    assert response.status_code == 503 and "pinot" not in response.text and response.headers["Retry-After"]


def test_probes_metrics_and_unknown_routes(client: TestClient, memory: MemoryReader, acme: dict[str, str]) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "checks": {}}
    assert client.get("/readyz").status_code == 200
    memory.healthy = False
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"] == {"pinot": False, "cassandra": False}
    client.get(f"{V1}/logs/acme-e0001", headers=acme)
    client.get(f"{V1}/logs")
    text = client.get("/metrics").text
    assert 'openframe_api_requests_total{method="GET",route="/api/v1/logs/{toolEventId}",status="200"} 1.0' in text
    assert 'openframe_api_auth_failures_total{reason="no credentials"} 1.0' in text
    missing = client.get("/nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_pipeline_lag(client_for: Callable[..., TestClient], acme: dict[str, str]) -> None:
    assert client_for(lag=7).get(f"{V1}/pipeline/lag", headers=acme).json() == {
        "group": "openframe-stream", "lagMessages": 7}
    assert client_for(lag=None).get(f"{V1}/pipeline/lag", headers=acme).json()["lagMessages"] is None


def test_the_dashboard_is_local_files_under_a_strict_policy(client: TestClient) -> None:
    page = client.get("/dashboard")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "http" not in page.text.replace("http://www.w3.org", "")  # nothing from another origin
    script = client.get("/dashboard/static/dashboard.js")
    assert script.headers["content-type"].startswith("text/javascript") and "innerHTML" not in script.text
    assert client.get("/dashboard/static/..%2Fapp.py").status_code == 404
    assert client.get("/dashboard/static/openapi.json").status_code == 404


def test_a_value_the_query_layer_refuses_is_a_400(client: TestClient, acme: dict[str, str]) -> None:
    from api.cursor import LogCursor
    from api.query.logs import Keyset, LogFilters
    from api.tenancy import Tenant

    # A forged cursor's position is data for the store: any text, but never control characters.
    fingerprint = LogFilters().fingerprint(Tenant("acme"))
    cursor = LogCursor("after", "deviceId", "DESC", Keyset("dev\x01", "id"), fingerprint).encode()
    response = client.get(f"{V1}/logs", params={"cursor": cursor, "sortField": "deviceId"}, headers=acme)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_parameter"
