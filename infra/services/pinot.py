"""Apache Pinot: embedded ZooKeeper, then controller, broker and server in one JVM.

Maven Central here carries a complete Pinot set (tools, controller, broker, server, Kafka 2.0
stream plugin, JSON input) only for 0.11.0, so that is the pinned version; it runs on OpenJDK 17
with the module openings below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from infra import provision
from infra.health import http_ok, tcp_open
from infra.services.base import Launch, Service, classpath, jvm_flags, service_dir

if TYPE_CHECKING:
    from openframe_stream.settings import Settings

_MAIN = "org.apache.pinot.tools.admin.PinotAdministrator"
_OPENS = [
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dpinot.admin.system.exit=true",
]

_LOG4J2 = """<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders><Console name="console" target="SYSTEM_OUT">
    <PatternLayout pattern="%d{HH:mm:ss.SSS} %p [%c{1}] [%t] %m%n"/></Console></Appenders>
  <Loggers>
    <Logger name="org.apache.pinot" level="info" additivity="false"><AppenderRef ref="console"/></Logger>
    <Logger name="org.apache.helix" level="warn" additivity="false"><AppenderRef ref="console"/></Logger>
    <Logger name="org.apache.zookeeper" level="warn" additivity="false"><AppenderRef ref="console"/></Logger>
    <Logger name="org.apache.kafka" level="warn" additivity="false"><AppenderRef ref="console"/></Logger>
    <Root level="warn"><AppenderRef ref="console"/></Root>
  </Loggers>
</Configuration>
"""


def _common(settings: Settings, heap: str, service: str) -> list[str]:
    root = service_dir(settings, "pinot")
    (root / "tmp").mkdir(exist_ok=True)
    log4j = root / "log4j2.xml"
    log4j.write_text(_LOG4J2)
    lib = provision.jvm_lib(settings.stack, "pinot")
    return [
        provision.java(settings.stack),
        *jvm_flags(settings, heap, service),
        *_OPENS,
        f"-Djava.io.tmpdir={root / 'tmp'}",
        f"-Dlog4j2.configurationFile={log4j}",
        "-cp",
        classpath(lib),
        _MAIN,
    ]


def _zk_prepare(settings: Settings) -> Launch:
    data = service_dir(settings, "pinot-zk") / "data"
    argv = [
        *_common(settings, settings.stack.pinot_zk_heap, "pinot-zk"),
        "StartZookeeper",
        "-zkPort",
        str(settings.pinot.zk_port),
        "-dataDir",
        str(data),
    ]
    return Launch(argv=argv)


PINOT_ZK = Service(
    name="pinot-zk",
    deps=(),
    port=lambda s: s.pinot.zk_port,
    provision=lambda s: provision.jvm_lib(s.stack, "pinot"),
    prepare=_zk_prepare,
    healthy=lambda s: tcp_open("127.0.0.1", s.pinot.zk_port),
)


def _prepare(settings: Settings) -> Launch:
    root = service_dir(settings, "pinot")
    p = settings.pinot
    controller_port = int(p.controller_url.rsplit(":", 1)[1].split("/")[0])
    configs = {
        "controller.conf": [
            "pinot.service.role=CONTROLLER",
            f"controller.port={controller_port}",
            "controller.host=127.0.0.1",
            f"controller.data.dir={root / 'controller'}",
            "controller.vip.host=127.0.0.1",
            f"controller.vip.port={controller_port}",
            # Periodic tasks are for clusters; locally they only burn the two cores.
            "controller.task.frequencyInSeconds=3600",
            "controller.realtime.segment.validation.frequencyPeriod=5m",
        ],
        "broker.conf": [
            "pinot.service.role=BROKER",
            f"pinot.broker.client.queryPort={p.broker_port}",
            "pinot.broker.hostname=127.0.0.1",
        ],
        "server.conf": [
            "pinot.service.role=SERVER",
            "pinot.server.netty.host=127.0.0.1",
            f"pinot.server.netty.port={p.server_netty_port}",
            f"pinot.server.adminapi.port={p.server_admin_port}",
            f"pinot.server.grpc.port={p.server_grpc_port}",
            f"pinot.server.instance.dataDir={root / 'server' / 'data'}",
            f"pinot.server.instance.segmentTarDir={root / 'server' / 'segments'}",
            "pinot.server.instance.realtime.alloc.offheap=true",
        ],
    }
    paths = []
    for name, lines in configs.items():
        path = root / name
        path.write_text("\n".join(lines) + "\n")
        paths.append(str(path))
    argv = [
        *_common(settings, settings.stack.pinot_heap, "pinot"),
        "StartServiceManager",
        "-zkAddress",
        f"127.0.0.1:{p.zk_port}",
        "-clusterName",
        "OpenFrame",
        "-port",
        "-1",
        "-bootstrapConfigPaths",
        *paths,
    ]
    return Launch(argv=argv)


def _healthy(settings: Settings) -> bool:
    p = settings.pinot
    return (
        http_ok(f"{p.controller_url}/health")
        and http_ok(f"http://{p.broker_host}:{p.broker_port}/health")
        and http_ok(f"http://127.0.0.1:{p.server_admin_port}/health")
    )


PINOT = Service(
    name="pinot",
    deps=("pinot-zk",),
    port=lambda s: int(s.pinot.controller_url.rsplit(":", 1)[1].split("/")[0]),
    provision=lambda s: provision.jvm_lib(s.stack, "pinot"),
    prepare=_prepare,
    healthy=_healthy,
)
