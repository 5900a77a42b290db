"""The NATS JetStream -> Kafka bridge on the live stack: every result arrives with its headers,
malformed ones land in the dead-letter topic, and `kill -9` loses nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import nats
import orjson
import pytest
import requests

from connectors.nats_bridge import ensure_stream, run_bridge
from connectors.settings import BridgeSettings
from infra.health import http_ok, wait_until
from openframe_stream.settings import Settings
from tests.integration.connectors.conftest import Record, TopicReader
from topologies.topics import declare


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _payload(machine: str, execution: str, exit_code: int = 0) -> bytes:
    return orjson.dumps(
        {
            "tenantId": "oss",
            "machineId": machine,
            "executionId": execution,
            "scriptId": None,
            "stdout": "ok",
            "stderr": "",
            "exitCode": exit_code,
            "executionTimeMs": 12,
            "timedOut": False,
            "error": None,
            "eventTimestamp": int(time.time() * 1000),
        }
    )


async def _publish(
    options: BridgeSettings, settings: Settings, messages: list[tuple[str, bytes]], per_second: float | None = None
) -> None:
    nc = await nats.connect(settings.nats.url)
    try:
        js = nc.jetstream()
        await ensure_stream(js, options)
        begin, batch = time.monotonic(), 50
        for start in range(0, len(messages), batch):
            await asyncio.gather(*(js.publish(s, d) for s, d in messages[start : start + batch]))
            if per_second:  # pacing, like agents reporting over time
                await asyncio.sleep(max(0.0, begin + (start + batch) / per_second - time.monotonic()))
    finally:
        await nc.close()


async def _delete_stream(settings: Settings, name: str) -> None:
    nc = await nats.connect(settings.nats.url)
    try:
        await nc.jetstream().delete_stream(name)
    finally:
        await nc.close()


@pytest.fixture
def options(isolated: Settings, unique: str) -> Iterator[BridgeSettings]:
    """A stream, consumer and subject space of this run's own (JetStream streams may not overlap)."""
    bridge = BridgeSettings(
        stream=f"IT_{unique}",
        durable=f"it-{unique}",
        subject_prefix=f"it{unique}.",
        storage="memory",
        metrics_port=_free_port(),
        ack_wait_s=3.0,
    )
    yield bridge
    asyncio.run(_delete_stream(isolated, bridge.stream))


def _pairs(records: list[Record]) -> set[tuple[str, str]]:
    return {(r.json()["machineId"], r.json()["executionId"]) for r in records if r.value}


def test_results_arrive_unchanged_with_headers_and_malformed_ones_are_dead_lettered(
    isolated: Settings, options: BridgeSettings
) -> None:
    prefix = options.subject_prefix
    good = [
        (
            f"{prefix}machine.m-{i % 7}.{'script' if i % 2 else 'command'}-execution.result",
            _payload(f"m-{i % 7}", f"x-{i}"),
        )
        for i in range(300)
    ]
    bad = [
        (f"{prefix}machine.m-1.script-execution.result", b"not json"),
        (f"{prefix}machine.m-2.command-execution.result", b"[1]"),
    ]
    asyncio.run(_publish(options, isolated, good[:150] + bad + good[150:]))
    topics = declare(isolated.topics)
    reader = TopicReader(isolated, [topics.agent_results.name, topics.dead_letter.name])
    stop = threading.Event()
    thread = threading.Thread(target=run_bridge, args=(isolated, stop, options), daemon=True)
    thread.start()
    try:
        records = reader.until(lambda rs: len(rs) >= len(good) + len(bad), 60, "bridged results")
        metrics = requests.get(f"http://127.0.0.1:{options.metrics_port}/metrics", timeout=5).text
    finally:
        stop.set()
        thread.join(30)
        reader.close()
    results = [r for r in records if r.topic == topics.agent_results.name]
    dead = [r for r in records if r.topic == topics.dead_letter.name]
    assert len(results) == len(good) and len(dead) == len(bad)
    by_value = {r.value: r for r in results}
    for subject, data in good:
        record = by_value[data]  # the payload bytes, unchanged
        machine = subject.split(".")[2]
        assert record.key == machine.encode()
        kind = "SCRIPT_EXECUTED" if ".script-execution." in subject else "COMMAND_EXECUTED"
        assert record.headers["message-type"] == kind and record.headers["nats-subject"] == subject
        assert int(record.headers["nats-stream-seq"]) > 0
    letters = sorted((d.json()["reason"], d.json()["original"]["value"]) for d in dead)
    assert letters == [("invalid_json", "not json"), ("value_not_object", "[1]")]
    assert all(d.json()["stage"] == "bridge" and d.json()["source"]["topic"] == topics.agent_results.name for d in dead)
    assert 'ofs_bridge_messages_out_total{message_type="SCRIPT_EXECUTED"} 150.0' in metrics
    assert 'ofs_bridge_dead_letters_total{reason="invalid_json"} 1.0' in metrics
    assert "ofs_bridge_consumer_pending" in metrics
    assert not thread.is_alive()


def _start_bridge(isolated: Settings, options: BridgeSettings, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, OFS_TOPICS__PREFIX=isolated.topics.prefix)
    argv = [sys.executable, "-m", "openframe_stream", "bridge"]
    argv += ["--stream", options.stream, "--durable", options.durable, "--subject-prefix", options.subject_prefix]
    argv += ["--metrics-port", str(options.metrics_port), "--ack-wait", str(options.ack_wait_s)]
    with log.open("ab") as sink:
        process = subprocess.Popen(argv, env=env, stdout=sink, stderr=sink)
    url = f"http://127.0.0.1:{options.metrics_port}/metrics"
    wait_until(lambda: http_ok(url), timeout=60, what="bridge /metrics", alive=lambda: process.poll() is None)
    return process


def test_kill_9_mid_stream_loses_nothing(isolated: Settings, options: BridgeSettings, tmp_path: Path) -> None:
    total = 2000
    prefix = options.subject_prefix
    messages = [
        (f"{prefix}machine.m-{i % 25}.script-execution.result", _payload(f"m-{i % 25}", f"x-{i}", exit_code=i % 3))
        for i in range(total)
    ]
    expected = {(f"m-{i % 25}", f"x-{i}") for i in range(total)}
    asyncio.run(_publish(options, isolated, []))  # the stream, so the first half is kept
    reader = TopicReader(isolated, [declare(isolated.topics).agent_results.name])
    log = tmp_path / "bridge.log"
    first = _start_bridge(isolated, options, log)
    try:
        paced = messages[:1600]
        publisher = threading.Thread(target=lambda: asyncio.run(_publish(options, isolated, paced, 1000)))
        publisher.start()
        # Mid-way: the bridge is consuming while results are still being published.
        reader.until(lambda rs: len(rs) >= 300, 60, "first results through the bridge")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        publisher.join(60)
        reader.poll(0.5)
        killed_at = len(_pairs(reader.records))
        asyncio.run(_publish(options, isolated, messages[1600:]))
        second = _start_bridge(isolated, options, log)
        try:
            records = reader.until(lambda rs: _pairs(rs) >= expected, 90, "every result after the restart")
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(30)
    finally:
        if first.poll() is None:
            first.kill()
        reader.close()
    assert 0 < killed_at < total, f"the kill did not land mid-stream ({killed_at})"
    assert _pairs(records) == expected  # duplicates are allowed; nothing is missing, nothing foreign
    assert second.returncode == 0, log.read_text()[-3000:]
