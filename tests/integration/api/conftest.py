"""A seeded, isolated pair of read stores (its own topic, Pinot table and keyspace, dropped at the
end) and the API on them, in-process (TestClient) and over HTTP (uvicorn in a thread)."""

from __future__ import annotations

import datetime as dt
import json
import random
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import local
from api.auth.principal import SCOPES
from api.readers.memory import MemoryReader
from api.settings import ApiSettings
from api.tenancy import Tenant
from api.wiring import build_readers
from openframe_stream.settings import Settings
from tests.integration.api.stores import Stores, day

TENANTS = ("acme", "globex", "initech")
ISSUER, AUDIENCE = "it-issuer", "it-aud"
START = dt.datetime(2026, 9, 3, tzinfo=dt.UTC)
WORDS = ["disk", "full", "login", "failed", "script", "policy", "backup", "agent", "restart", "update"]


def dataset(per_tenant: int = 140, seed: int = 7) -> list[dict[str, Any]]:
    """Events over three months with many equal timestamps and sort values (ties for the keyset
    tiebreaker), devices and organizations with quotes in their ids, and some invisible events."""
    rng = random.Random(seed)
    events = []
    for tenant in TENANTS:
        for n in range(per_tenant):
            ms = int((START + dt.timedelta(hours=rng.randrange(0, 80 * 24, 7))).timestamp() * 1000)
            device = rng.choice([None, "dev-1", "dev-2", "dev'3", f"{tenant}-dev"])
            org = rng.choice([None, ("org-a", "Alpha Ltd"), ('org"b', "Beta 'B' GmbH")])
            severity = rng.choice(["INFO", "INFO", "WARNING", "ERROR", "CRITICAL"])
            events.append({
                "tenantId": tenant, "toolEventId": f"{tenant}-{uuid.UUID(int=rng.getrandbits(128))}",
                "eventTimestamp": ms, "ingestDay": day(ms), "toolType": rng.choice(["FLEET", "MESHCENTRAL", "RMM"]),
                "eventType": rng.choice(["LOGIN", "SCRIPT_EXECUTED", "POLICY_FAILED", "DEVICE_OFFLINE"]),
                "severity": severity, "userId": rng.choice([None, "alice"]), "deviceId": device,
                "hostname": None if device is None else device.upper(),
                "organizationId": org and org[0], "organizationName": org and org[1],
                "summary": " ".join(rng.sample(WORDS, 3)) + f" it's #{n}",
                "agentId": "agent-1", "sourceEventType": "x.y", "sourceTable": "events", "operation": "c",
                "message": f"message {n} of {tenant}", "details": {"result": {"n": n, "quote": "it's"}},
                "visible": rng.random() > 0.05, "schemaVersion": 1, "discriminator": None,
            })
    return events


@dataclass
class Seeded:
    stores: Stores
    events: list[dict[str, Any]]
    oracle: MemoryReader  # the same events, evaluated in Python
    api_settings: ApiSettings
    signing: dict[str, tuple[Any, str]]

    def token(self, tenant: str, scopes: tuple[str, ...] = SCOPES) -> str:
        key, kid = self.signing[tenant]
        return local.sign(key, kid, local.claims(Tenant(tenant), ISSUER, AUDIENCE, scopes, 3600))

    def headers(self, tenant: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(tenant)}"}


@pytest.fixture(scope="session")
def seeded(live_stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    stores = Stores(live_stack, uuid.uuid4().hex[:8])
    events = dataset()
    try:
        stores.create()
        stores.produce(e for e in events if e["visible"])
        stores.write_cassandra(events)
        visible = sum(1 for e in events if e["visible"])
        disk = sum(1 for e in events if e["visible"] and "disk" in e["summary"].split())
        text_sql = f"SELECT COUNT(*) FROM {stores.table} WHERE TEXT_MATCH(summary, '\"disk\"')"
        stores.wait_for_pinot(visible, extra=(text_sql, disk))
        tmp = tmp_path_factory.mktemp("api")
        jwks = tmp / "jwks.json"
        signing = {t: local.tenant_key(tmp / "signing", jwks, Tenant(t)) for t in TENANTS}
        settings = ApiSettings(jwks=str(jwks), issuer=ISSUER, audience=AUDIENCE, pinot_table=stores.table,
                               keyspace=stores.keyspace, api_keys_file=tmp / "keys.json", pepper_file=tmp / "pepper",
                               worker_metrics_url="http://127.0.0.1:9/metrics")
        yield Seeded(stores, events, MemoryReader(events), settings, signing)
    finally:
        stores.drop()


@pytest.fixture(scope="session")
def api_client(seeded: Seeded, live_stack: Settings) -> Iterator[TestClient]:
    app = create_app(seeded.api_settings, build_readers(live_stack, seeded.api_settings))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


WORKER_LAG = 17


class _WorkerMetrics(BaseHTTPRequestHandler):
    """Stands in for the stream worker's /metrics: what the dashboard reads the consumer lag from."""

    def do_GET(self) -> None:  # noqa: N802 - the http.server hook's name
        body = "\n".join(f'openframe_consumer_lag_messages{{group="openframe-stream",partition="{p}",topic="t"}} {n}'
                         for p, n in enumerate((WORKER_LAG - 5, 5))).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture(scope="session")
def live_api(seeded: Seeded, live_stack: Settings) -> Iterator[str]:
    """The API served over HTTP on a free loopback port, for a browser and schemathesis."""
    metrics = ThreadingHTTPServer(("127.0.0.1", 0), _WorkerMetrics)
    threading.Thread(target=metrics.serve_forever, daemon=True).start()
    settings = seeded.api_settings.model_copy(
        update={"worker_metrics_url": f"http://127.0.0.1:{metrics.server_address[1]}/metrics"})
    app = create_app(settings, build_readers(live_stack, settings))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=_free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "API server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(timeout=30)
    metrics.shutdown()


def write_json(path: Path, body: Any) -> None:
    path.write_text(json.dumps(body))
