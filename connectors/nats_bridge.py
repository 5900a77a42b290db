"""The NATS JetStream -> Kafka bridge for agent results.

A durable pull consumer fetches a batch, every message is produced to Kafka (results to the raw
topic, malformed ones to the dead-letter topic), the producer is flushed, and only the messages
Kafka confirmed are acked. Anything unconfirmed is left unacked (or nak'ed) and JetStream
redelivers it after `ack_wait`, so a crash, even `kill -9`, loses nothing: it can only duplicate,
which is harmless downstream because the event id is derived from the result itself.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from connectors.bridge_messages import Forward, classify, dead_letter, subjects
from connectors.bridge_metrics import BridgeMetrics
from connectors.settings import BridgeSettings, bridge_settings
from openframe_stream.cli import settings_of
from topologies.provision import ensure_topics
from topologies.topics import declare

if TYPE_CHECKING:
    from confluent_kafka import Producer
    from nats.aio.msg import Msg
    from nats.js.client import JetStreamContext

    from openframe_stream.settings import Settings

log = logging.getLogger(__name__)
_NAK_DELAY_S = 2.0  # after a failed Kafka delivery: retry soon, but do not spin while Kafka is down
_PENDING_EVERY_S = 2.0
_RETRY_S = 1.0


@dataclass
class BridgeStats:
    fetched: int = 0
    forwarded: int = 0
    dead_lettered: int = 0
    redelivered_later: int = 0
    started: float = field(default_factory=time.monotonic)


async def ensure_stream(js: JetStreamContext, options: BridgeSettings) -> None:
    """Create the stream if missing (file storage); make its subjects ours if it exists."""
    from nats.js.api import StorageType, StreamConfig
    from nats.js.errors import NotFoundError

    wanted = subjects(options.subject_prefix)
    try:
        info = await js.stream_info(options.stream)
    except NotFoundError:
        await js.add_stream(
            StreamConfig(
                name=options.stream,
                subjects=wanted,
                storage=StorageType(options.storage),
                max_age=options.max_age_s,
            )
        )
        return
    if sorted(info.config.subjects or []) != sorted(wanted):
        await js.update_stream(info.config.evolve(subjects=wanted))


async def ensure_consumer(js: JetStreamContext, options: BridgeSettings) -> None:
    """Create or update the durable consumer (server >= 2.10 updates a compatible config)."""
    from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

    await js.add_consumer(
        options.stream,
        ConsumerConfig(
            name=options.durable,
            durable_name=options.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=options.ack_wait_s,
            max_ack_pending=options.max_ack_pending,
            filter_subjects=subjects(options.subject_prefix),
        ),
    )


def make_producer(settings: Settings, options: BridgeSettings) -> Producer:
    from confluent_kafka import Producer

    return Producer(
        {
            "bootstrap.servers": settings.kafka.bootstrap_servers,
            # Idempotent: librdkafka's own retries never duplicate or reorder within a partition.
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "compression.type": "lz4",
            "message.timeout.ms": int(options.delivery_timeout_s * 1000),
        }
    )


class Bridge:
    def __init__(
        self, settings: Settings, options: BridgeSettings, metrics: BridgeMetrics, producer: Producer | None = None
    ) -> None:
        topics = declare(settings.topics)
        self._settings = settings
        self._options = options
        self._metrics = metrics
        self._results_topic = topics.agent_results.name
        self._dlq_topic = topics.dead_letter.name
        self._producer = producer or make_producer(settings, options)
        self.stats = BridgeStats()

    async def run(self, stop: threading.Event, ready: Callable[[], None] | None = None) -> BridgeStats:
        import nats

        options = self._options
        nc = await nats.connect(self._settings.nats.url, max_reconnect_attempts=-1, name="openframe-bridge")
        try:
            js = nc.jetstream()
            await ensure_stream(js, options)
            await ensure_consumer(js, options)
            sub = await js.pull_subscribe_bind(durable=options.durable, stream=options.stream)
            if ready is not None:
                ready()
            await self.consume(sub, stop)
        finally:
            await asyncio.get_running_loop().run_in_executor(None, self._producer.flush, 10.0)
            await nc.close()
        return self.stats

    async def consume(self, sub: Any, stop: threading.Event, retry_s: float = _RETRY_S) -> None:
        """Fetch and forward batches from a pull subscription until `stop` is set."""
        from nats.errors import Error as NatsError
        from nats.errors import TimeoutError as NatsTimeout

        next_pending = 0.0
        while not stop.is_set():
            try:
                batch = await sub.fetch(self._options.batch, timeout=self._options.fetch_wait_s)
            except (TimeoutError, NatsTimeout):
                # nats-py raises its own TimeoutError for an empty fetch, and a bare asyncio one when the
                # pull request itself times out (seen under load): both only mean "nothing yet".
                batch = []
            except NatsError as exc:
                # Disconnected or reconnecting: the client reconnects by itself; try again shortly.
                log.warning("fetch failed (%s); retrying", exc)
                await asyncio.sleep(retry_s)
                continue
            if batch:
                await self._forward(batch)
            if time.monotonic() >= next_pending:
                next_pending = time.monotonic() + _PENDING_EVERY_S
                try:
                    info = await sub.consumer_info()
                except NatsError:
                    continue  # a gauge can wait; the fetch above reports the outage
                self._metrics.set_pending(info.num_pending or 0, info.num_ack_pending or 0)

    async def _forward(self, batch: list[Msg]) -> None:
        outcome: dict[int, str | None] = {}  # batch index -> delivery error (None: delivered)

        def delivered(index: int) -> Callable[[Any, Any], None]:
            def callback(error: Any, _message: Any) -> None:
                outcome[index] = None if error is None else str(error)

            return callback

        prefix = self._options.subject_prefix
        kinds: dict[int, str] = {}
        now_ms = int(time.time() * 1000)
        for index, msg in enumerate(batch):
            seq = msg.metadata.sequence.stream
            verdict = classify(msg.subject, msg.data, seq, prefix)
            if isinstance(verdict, Forward):
                kinds[index] = verdict.message_type
                self._produce(self._results_topic, verdict.key, verdict.value, verdict.headers, delivered(index))
            else:
                kinds[index] = "dead:" + verdict.reason
                record = dead_letter(verdict, msg.data, self._results_topic, now_ms)
                self._produce(self._dlq_topic, verdict.key, record, [], delivered(index))
        self._metrics.fetched(len(batch))
        self.stats.fetched += len(batch)
        # flush() blocks until every delivery report is in (or the timeout): off the event loop.
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._producer.flush, self._options.delivery_timeout_s)
        for index, msg in enumerate(batch):
            kind = kinds[index]
            if index in outcome and outcome[index] is None:
                await msg.ack()  # only now: Kafka has the record (or its dead letter)
                if kind.startswith("dead:"):
                    self.stats.dead_lettered += 1
                    self._metrics.dead_lettered(kind[5:])
                else:
                    self.stats.forwarded += 1
                    self._metrics.forwarded(kind)
            else:
                self.stats.redelivered_later += 1
                self._metrics.delivery_failed()
                log.warning("kafka did not confirm seq %s: %s", msg.metadata.sequence.stream, outcome.get(index))
                await msg.nak(delay=_NAK_DELAY_S)

    def _produce(
        self, topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, str | bytes | None]], callback: Any
    ) -> None:
        while True:
            try:
                self._producer.produce(topic, value=value, key=key, headers=headers, on_delivery=callback)
                return
            except BufferError:
                self._producer.poll(0.1)  # local queue full: serve delivery reports, then retry


def run_bridge(
    settings: Settings,
    stop_event: threading.Event,
    options: BridgeSettings | None = None,
    ready: Callable[[], None] | None = None,
) -> BridgeStats:
    """Run the bridge until `stop_event` is set (blocking; call it in a thread or a process).

    Creates the declared Kafka topics if missing, the stream and the durable consumer, and serves
    `/metrics` on `options.metrics_port`. `ready` is called once messages are being consumed.
    """
    options = options or bridge_settings(settings)
    ensure_topics(settings.kafka.bootstrap_servers, declare(settings.topics), settings.topics.replication)
    metrics = BridgeMetrics()
    server = metrics.serve(options.metrics_host, options.metrics_port)
    try:
        return asyncio.run(Bridge(settings, options, metrics).run(stop_event, ready))
    finally:
        server.shutdown()


@click.command("bridge")
@click.option("--stream", help="JetStream stream (default: setting bridge.stream).")
@click.option("--durable", help="Durable consumer name (default: setting bridge.durable).")
@click.option("--subject-prefix", help="Prefix before the machine.* subjects.")
@click.option("--metrics-port", type=int, help="Port of /metrics (0: any free port).")
@click.option("--ack-wait", type=float, help="Seconds before an unacked message is redelivered.")
@click.pass_context
def bridge_command(
    ctx: click.Context,
    stream: str | None,
    durable: str | None,
    subject_prefix: str | None,
    metrics_port: int | None,
    ack_wait: float | None,
) -> None:
    """Bridge agent results from NATS JetStream to Kafka until SIGINT/SIGTERM."""
    settings = settings_of(ctx)
    overrides = {
        "stream": stream,
        "durable": durable,
        "subject_prefix": subject_prefix,
        "metrics_port": metrics_port,
        "ack_wait_s": ack_wait,
    }
    options = bridge_settings(settings).model_copy(update={k: v for k, v in overrides.items() if v is not None})
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stats = run_bridge(settings, stop, options, ready=lambda: log.info("bridge consuming %s", options.stream))
    elapsed = time.monotonic() - stats.started
    click.echo(f"bridge stopped: {stats.forwarded} forwarded, {stats.dead_lettered} dead-lettered in {elapsed:.1f}s")
