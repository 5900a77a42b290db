"""`openframe-stream run` and `openframe-stream dlq list|replay`."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import click
import orjson
from rich.console import Console
from rich.table import Table

from openframe_stream.cli import AppContext, settings_of
from pipelines import deadletter
from topologies.topics import declare


@click.command()
@click.option("--bridge/--no-bridge", default=True, show_default=True, help="Also run the NATS bridge.")
@click.option("--loglevel", default="INFO", show_default=True)
@click.option("--processes", type=click.IntRange(min=1), default=None,
              help="Worker processes in one consumer group (default: worker.processes).")
@click.pass_context
def run(ctx: click.Context, bridge: bool, loglevel: str, processes: int | None) -> None:
    """Start the stream worker (and the NATS JetStream bridge) with settings from env or a file."""
    from topologies.processes import supervise
    from topologies.worker import prepare, run_worker

    settings = settings_of(ctx)
    if processes is not None:
        settings = settings.model_copy(update={"worker": settings.worker.model_copy(update={"processes": processes})})
    child = None
    if bridge:
        child = subprocess.Popen([sys.executable, "-m", "openframe_stream", "bridge"])  # noqa: S603
    try:
        if settings.worker.processes > 1:
            prepare(settings)  # once, before the processes race to create topics and tables
            obj = ctx.find_object(AppContext)
            supervise(settings, loglevel, obj.settings_file if obj is not None else None)
        else:
            run_worker(settings, loglevel)
    finally:
        if child is not None:
            child.terminate()
            child.wait(timeout=30)


def read_dead_letters(bootstrap: str, topic: str, timeout: float = 5.0) -> list[tuple[int, int, dict[str, Any]]]:
    """Every dead letter on the topic: (partition, offset, record). Joins no group, commits nothing."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "openframe-dlq-reader",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if metadata is None or metadata.error is not None:
            return []
        parts = [TopicPartition(topic, p, OFFSET_BEGINNING) for p in metadata.partitions]
        ends = {p.partition: consumer.get_watermark_offsets(p, timeout=5) for p in parts}
        live = {p for p, (low, high) in ends.items() if high > low}
        consumer.assign(parts)
        out: list[tuple[int, int, dict[str, Any]]] = []
        deadline = time.monotonic() + timeout
        while live and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            error, partition, offset = message.error(), message.partition(), message.offset()
            if partition is None or offset is None:
                continue
            if error is not None:
                if error.code() == -191:  # partition EOF
                    live.discard(partition)
                continue
            out.append((partition, offset, orjson.loads(message.value() or b"{}")))
            if offset + 1 >= ends[partition][1]:
                live.discard(partition)
        return sorted(out, key=lambda row: row[2].get("failedAt", 0))
    finally:
        consumer.close()


def _matches(record: dict[str, Any], stage: str | None, reason: str | None, topic: str | None) -> bool:
    return (
        (stage is None or record.get("stage") == stage)
        and (reason is None or record.get("reason") == reason)
        and (topic is None or record.get("source", {}).get("topic") == topic)
    )


@click.group()
def dlq() -> None:
    """Inspect dead letters and re-inject them after a fix."""


_filters = [
    click.option("--stage", help="Only this stage (decode, route, envelope, map, enrich, tenant, sink, ...)."),
    click.option("--reason", help="Only this reason code."),
    click.option("--topic", "source_topic", help="Only records that came from this topic."),
]


def _with_filters(fn: Any) -> Any:
    for option in reversed(_filters):
        fn = option(fn)
    return fn


@dlq.command("list")
@_with_filters
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON dead letter per line.")
@click.pass_context
def list_cmd(
    ctx: click.Context, stage: str | None, reason: str | None, source_topic: str | None, limit: int, as_json: bool
) -> None:
    """Show dead letters, oldest first."""
    settings = settings_of(ctx)
    topic = declare(settings.topics).dead_letter.name
    rows = [
        r
        for r in read_dead_letters(settings.kafka.bootstrap_servers, topic)
        if _matches(r[2], stage, reason, source_topic)
    ][-limit:]
    if as_json:
        for _, _, record in rows:
            click.echo(orjson.dumps(record).decode())
        return
    table = Table(title=f"{len(rows)} dead letter(s) on {topic}")
    for col in ("failed at", "stage", "reason", "source", "detail"):
        table.add_column(col, overflow="fold")
    for _, _, r in rows:
        src = r.get("source", {})
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(r.get("failedAt", 0) / 1000))
        table.add_row(
            when,
            r.get("stage", ""),
            r.get("reason", ""),
            f"{src.get('topic')}[{src.get('partition')}]@{src.get('offset')}",
            r.get("detail", "")[:160],
        )
    Console().print(table)


@dlq.command()
@_with_filters
@click.option("--dry-run", is_flag=True, help="Say what would be re-injected, send nothing.")
@click.pass_context
def replay(ctx: click.Context, stage: str | None, reason: str | None, source_topic: str | None, dry_run: bool) -> None:
    """Re-inject matching dead letters into the topic they came from, byte for byte."""
    from confluent_kafka import Producer

    settings = settings_of(ctx)
    topic = declare(settings.topics).dead_letter.name
    rows = [
        r
        for r in read_dead_letters(settings.kafka.bootstrap_servers, topic)
        if _matches(r[2], stage, reason, source_topic)
    ]
    if dry_run:
        click.echo(f"would replay {len(rows)} record(s)")
        return
    producer = Producer({"bootstrap.servers": settings.kafka.bootstrap_servers, "enable.idempotence": True})
    failures: list[str] = []
    for partition, offset, record in rows:
        key, value, headers, source = deadletter.original_bytes(record)
        headers["dlq-replayed-from"] = f"{topic}[{partition}]@{offset}"
        producer.produce(
            source,
            key=key,
            value=value,
            headers=list(headers.items()),
            on_delivery=lambda err, _msg: failures.append(str(err)) if err else None,
        )
    producer.flush(60)
    if failures:
        raise click.ClickException(f"{len(failures)} replay(s) failed: {failures[0]}")
    click.echo(f"replayed {len(rows)} record(s)")
