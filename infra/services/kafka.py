"""Apache Kafka in single-node KRaft mode, and Kafka Connect (distributed) with Debezium plugins."""

from __future__ import annotations

import base64
import subprocess
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from infra import provision
from infra.health import http_ok, tcp_open
from infra.services.base import Launch, Service, classpath, jvm_flags, service_dir

if TYPE_CHECKING:
    from openframe_stream.settings import Settings

_LOG4J = """log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka=INFO
log4j.logger.state.change.logger=WARN
log4j.logger.org.reflections=ERROR
"""


def _hostport(settings: Settings) -> tuple[str, int]:
    first = settings.kafka.bootstrap_servers.split(",")[0]
    host, _, port = first.rpartition(":")
    return host or "127.0.0.1", int(port)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _kafka_provision(settings: Settings) -> None:
    provision.jvm_lib(settings.stack, "kafka")


def _kafka_prepare(settings: Settings) -> Launch:
    host, port = _hostport(settings)
    cport = settings.kafka.controller_port
    root = service_dir(settings, "kafka")
    lib = provision.jvm_lib(settings.stack, "kafka")
    data = root / "data"
    props = _write(
        root / "server.properties",
        "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@{host}:{cport}",
                f"listeners=PLAINTEXT://{host}:{port},CONTROLLER://{host}:{cport}",
                f"advertised.listeners=PLAINTEXT://{host}:{port}",
                "inter.broker.listener.name=PLAINTEXT",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                f"log.dirs={data}",
                "num.partitions=1",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=4",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                # Consumer groups (the worker, Connect, Pinot, tests) join without the 3 s delay.
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=true",
                "log.segment.bytes=67108864",
                "num.network.threads=2",
                "num.io.threads=2",
                "",
            ]
        ),
    )
    log4j = _write(root / "log4j.properties", _LOG4J)
    java = provision.java(settings.stack)
    if not (data / "meta.properties").exists():
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        result = subprocess.run(  # noqa: S603
            [
                java,
                "-Xmx256m",
                "-XX:TieredStopAtLevel=1",
                f"-Dlog4j.configuration=file:{log4j}",
                "-cp",
                classpath(lib),
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(props),
                "--ignore-formatted",
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"kafka storage format failed: {result.stdout}{result.stderr}")
    argv = [
        java,
        *jvm_flags(settings, settings.stack.kafka_heap, "kafka"),
        f"-Dlog4j.configuration=file:{log4j}",
        f"-Dkafka.logs.dir={root}",
        "-cp",
        classpath(lib),
        "kafka.Kafka",
        str(props),
    ]
    return Launch(argv=argv)


def _kafka_healthy(settings: Settings) -> bool:
    host, port = _hostport(settings)
    if not tcp_open(host, port):
        return False
    from confluent_kafka.admin import AdminClient

    try:
        metadata = AdminClient({"bootstrap.servers": settings.kafka.bootstrap_servers}).list_topics(timeout=3)
    except Exception:  # noqa: BLE001 - any client error means "not ready yet"
        return False
    return len(metadata.brokers) > 0


KAFKA = Service(
    name="kafka",
    deps=(),
    port=lambda s: _hostport(s)[1],
    provision=_kafka_provision,
    prepare=_kafka_prepare,
    healthy=_kafka_healthy,
)


def _connect_port(settings: Settings) -> int:
    return int(settings.connect.url.rsplit(":", 1)[1].split("/")[0])


def _connect_provision(settings: Settings) -> None:
    provision.jvm_lib(settings.stack, "connect")
    provision.connect_plugin_path(settings.stack)


def _connect_prepare(settings: Settings) -> Launch:
    root = service_dir(settings, "connect")
    lib = provision.jvm_lib(settings.stack, "connect")
    plugins = provision.connect_plugin_path(settings.stack)
    port = _connect_port(settings)
    props = _write(
        root / "worker.properties",
        "\n".join(
            [
                f"bootstrap.servers={settings.kafka.bootstrap_servers}",
                "group.id=openframe-connect",
                "key.converter=org.apache.kafka.connect.json.JsonConverter",
                "value.converter=org.apache.kafka.connect.json.JsonConverter",
                "key.converter.schemas.enable=false",
                "value.converter.schemas.enable=false",
                "offset.storage.topic=connect-offsets",
                "offset.storage.replication.factor=1",
                "offset.storage.partitions=5",
                "config.storage.topic=connect-configs",
                "config.storage.replication.factor=1",
                "status.storage.topic=connect-status",
                "status.storage.replication.factor=1",
                "status.storage.partitions=1",
                "offset.flush.interval.ms=1000",
                f"listeners=http://127.0.0.1:{port}",
                "rest.advertised.host.name=127.0.0.1",
                f"plugin.path={plugins}",
                # The Debezium jars declare their connectors as services: no reflective scan needed.
                "plugin.discovery=service_load",
                "topic.creation.enable=true",
                # Issue 16: a broker outage makes the worker revoke its tasks (coordinator unreachable for
                # heartbeat.interval.ms). An abandoned task gets its offset reader closed, and Debezium 3.2's
                # PostgreSQL task then fails inside stop() before closing its replication connection: give a
                # stopping task time to finish once the broker is back.
                f"task.shutdown.graceful.timeout.ms={settings.connect.task_shutdown_timeout_ms}",
                # A worker that rejoins under a new member id finds its own old assignment "lost"; with one
                # worker there is nobody to wait for.
                f"scheduled.rebalance.max.delay.ms={settings.connect.rebalance_delay_ms}",
                "",
            ]
        ),
    )
    log4j = _write(root / "log4j.properties", _LOG4J)
    argv = [
        provision.java(settings.stack),
        *jvm_flags(settings, settings.stack.connect_heap, "connect"),
        f"-Dlog4j.configuration=file:{log4j}",
        "-cp",
        classpath(lib),
        "org.apache.kafka.connect.cli.ConnectDistributed",
        str(props),
    ]
    return Launch(argv=argv)


def _connect_healthy(settings: Settings) -> bool:
    return http_ok(f"{settings.connect.url}/connector-plugins", contains="PostgresConnector")


CONNECT = Service(
    name="connect",
    deps=("kafka",),
    port=_connect_port,
    provision=_connect_provision,
    prepare=_connect_prepare,
    healthy=_connect_healthy,
)
