"""Apache Cassandra 5.0, single node, started from the cassandra-all jars on OpenJDK 17."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from infra import provision
from infra.health import tcp_open
from infra.services.base import Launch, Service, classpath, jvm_flags, service_dir

if TYPE_CHECKING:
    from openframe_stream.settings import Settings

# From Cassandra 5.0's conf/jvm17-server.options: the module openings it needs on Java 17.
_JAVA17 = [
    "--add-exports",
    "java.base/jdk.internal.misc=ALL-UNNAMED",
    "--add-exports",
    "java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
    "--add-exports",
    "java.rmi/sun.rmi.registry=ALL-UNNAMED",
    "--add-exports",
    "java.rmi/sun.rmi.server=ALL-UNNAMED",
    "--add-exports",
    "java.sql/java.sql=ALL-UNNAMED",
    "--add-exports",
    "java.base/java.lang.ref=ALL-UNNAMED",
    "--add-exports",
    "jdk.unsupported/sun.misc=ALL-UNNAMED",
    "--add-exports",
    "jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
    "--add-exports",
    "jdk.attach/sun.tools.attach=ALL-UNNAMED",
    "--add-opens",
    "java.base/java.lang.module=ALL-UNNAMED",
    "--add-opens",
    "java.base/jdk.internal.loader=ALL-UNNAMED",
    "--add-opens",
    "java.base/jdk.internal.ref=ALL-UNNAMED",
    "--add-opens",
    "java.base/jdk.internal.reflect=ALL-UNNAMED",
    "--add-opens",
    "java.base/jdk.internal.math=ALL-UNNAMED",
    "--add-opens",
    "java.base/jdk.internal.module=ALL-UNNAMED",
    "--add-opens",
    "java.base/jdk.internal.util.jar=ALL-UNNAMED",
    "--add-opens",
    "jdk.management/com.sun.management.internal=ALL-UNNAMED",
    "--add-opens",
    "java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens",
    "java.base/java.io=ALL-UNNAMED",
    "--add-opens",
    "java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-opens",
    "jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
    "--add-opens",
    "java.base/java.lang=ALL-UNNAMED",
    "--add-opens",
    "java.base/java.util=ALL-UNNAMED",
]

_LOGBACK = """<configuration>
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%d %-5level [%thread] %logger{20} %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="STDOUT"/></root>
</configuration>
"""


def _yaml(settings: Settings, root: Path) -> str:
    c = settings.cassandra
    host = c.hosts[0]
    return f"""cluster_name: openframe-local
num_tokens: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
commitlog_sync: periodic
commitlog_sync_period: 10000ms
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "{host}:{c.storage_port}"
listen_address: {host}
rpc_address: {host}
storage_port: {c.storage_port}
native_transport_port: {c.port}
start_native_transport: true
data_file_directories: [{root}/data]
commitlog_directory: {root}/commitlog
hints_directory: {root}/hints
saved_caches_directory: {root}/saved_caches
cdc_raw_directory: {root}/cdc_raw
auto_snapshot: false
storage_compatibility_mode: NONE
concurrent_compactors: 1
compaction_throughput: 0MiB/s
"""


def _prepare(settings: Settings) -> Launch:
    root = service_dir(settings, "cassandra")
    lib = provision.jvm_lib(settings.stack, "cassandra")
    config = root / "cassandra.yaml"
    config.write_text(_yaml(settings, root))
    logback = root / "logback.xml"
    logback.write_text(_LOGBACK)
    jamm = next(lib.glob("jamm-*.jar"), None)
    argv = [
        provision.java(settings.stack),
        *jvm_flags(settings, settings.stack.cassandra_heap, "cassandra"),
        "-XX:MaxDirectMemorySize=256m",
        "-Xss512k",
        "-ea",
        *_JAVA17,
        "-Djdk.attach.allowAttachSelf=true",
        "-Dio.netty.tryReflectionSetAccessible=true",
        f"-Dcassandra.config=file://{config}",
        f"-Dcassandra.storagedir={root}",
        "-Dcassandra-foreground=yes",
        f"-Dcassandra.logdir={root}",
        f"-Dlogback.configurationFile={logback}",
        f"-Dcassandra.jmx.local.port={settings.cassandra.jmx_port}",
        "-Dcassandra.skip_wait_for_gossip_to_settle=0",
        "-Dcassandra.ring_delay_ms=0",
        "-Dcassandra.unsafesystem=true",
        *([f"-javaagent:{jamm}"] if jamm else []),
        "-cp",
        classpath(lib),
        "org.apache.cassandra.service.CassandraDaemon",
    ]
    return Launch(argv=argv)


def _healthy(settings: Settings) -> bool:
    c = settings.cassandra
    if not tcp_open(c.hosts[0], c.port):
        return False
    from cassandra.cluster import Cluster

    cluster = Cluster(list(c.hosts), port=c.port, connect_timeout=3, control_connection_timeout=3)
    try:
        session = cluster.connect()
        row = session.execute("SELECT release_version FROM system.local").one()
        return row is not None
    except Exception:  # noqa: BLE001 - any driver error means "not ready yet"
        return False
    finally:
        cluster.shutdown()


CASSANDRA = Service(
    name="cassandra",
    deps=(),
    port=lambda s: s.cassandra.port,
    provision=lambda s: provision.jvm_lib(s.stack, "cassandra"),
    prepare=_prepare,
    healthy=_healthy,
    stop_timeout=90.0,
)
