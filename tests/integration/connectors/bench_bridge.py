"""Bridge throughput on the live stack (not a test; run it by hand):

    .venv/bin/python -m tests.integration.connectors.bench_bridge [N] [--storage file|memory]

Publishes N agent results to a fresh stream first, then starts the bridge and times it from
"consuming" until `/metrics` counts N results confirmed by Kafka and acked. Cleans up after.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import socket
import threading
import time
import uuid

import nats
import orjson
import requests

from connectors.nats_bridge import ensure_stream, run_bridge
from connectors.settings import BridgeSettings
from infra.health import wait_until
from openframe_stream.settings import Settings
from tests.integration.connectors.conftest import delete_topics
from topologies.topics import TopicSettings


async def _publish(settings: Settings, options: BridgeSettings, n: int) -> float:
    nc = await nats.connect(settings.nats.url)
    js = nc.jetstream()
    await ensure_stream(js, options)
    begin = time.monotonic()
    for start in range(0, n, 1000):
        batch = []
        for i in range(start, min(n, start + 1000)):
            machine = f"m-{i % 200}"
            payload = {"tenantId": "oss", "machineId": machine, "executionId": f"x-{i}", "scriptId": "s-1"}
            payload |= {"scheduleId": None, "stdout": "Removed 412 files", "stderr": "", "exitCode": 0}
            payload |= {"executionTimeMs": 2311, "timedOut": False, "error": None, "eventTimestamp": 1763630520123}
            subject = f"{options.subject_prefix}machine.{machine}.script-execution.result"
            batch.append(js.publish(subject, orjson.dumps(payload)))
        await asyncio.gather(*batch)
    elapsed = time.monotonic() - begin
    await nc.close()
    return elapsed


async def _drop(settings: Settings, stream: str) -> None:
    nc = await nats.connect(settings.nats.url)
    await nc.jetstream().delete_stream(stream)
    await nc.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int, nargs="?", default=50_000)
    parser.add_argument("--storage", default="file")
    parser.add_argument("--batch", type=int, default=BridgeSettings().batch)
    args = parser.parse_args()
    tag = uuid.uuid4().hex[:6]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    settings = Settings.load(topics=TopicSettings(prefix=f"bench{tag}."))
    options = BridgeSettings(
        stream=f"BENCH_{tag}", durable=f"bench-{tag}", subject_prefix=f"bench{tag}.", storage=args.storage,
        metrics_port=port, batch=args.batch,
    )  # fmt: skip
    published = asyncio.run(_publish(settings, options, args.n))
    print(f"published {args.n} in {published:.2f}s")  # noqa: T201
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(target=run_bridge, args=(settings, stop, options, ready.set))
    thread.start()
    try:
        wait_until(ready.is_set, timeout=60, what="bridge ready")
        begin = time.monotonic()

        def forwarded() -> int:
            text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            return sum(int(float(v)) for v in re.findall(r"^ofs_bridge_messages_out_total\{.*\} (\S+)$", text, re.M))

        wait_until(lambda: forwarded() >= args.n, timeout=600, what="all forwarded", interval=0.05, max_interval=0.1)
        elapsed = time.monotonic() - begin
        rate = args.n / elapsed
        summary = f"bridged {args.n} in {elapsed:.2f}s: {rate:,.0f} msgs/s ({args.storage} storage, batch {args.batch})"
        print(summary)  # noqa: T201
    finally:
        stop.set()
        thread.join(60)
        asyncio.run(_drop(settings, options.stream))
        delete_topics(settings, settings.topics.prefix)


if __name__ == "__main__":
    main()
