from __future__ import annotations

import orjson
import pytest

from connectors.bridge_messages import (
    COMMAND_EXECUTED,
    SCRIPT_EXECUTED,
    Forward,
    Reject,
    classify,
    dead_letter,
    subjects,
)
from pipelines.deadletter import original_bytes

PAYLOAD = orjson.dumps({"machineId": "m-8f2c41", "executionId": "x-5521", "exitCode": 0})


@pytest.mark.parametrize(
    ("subject", "message_type"),
    [
        ("machine.m-8f2c41.script-execution.result", SCRIPT_EXECUTED),
        ("machine.m-8f2c41.command-execution.result", COMMAND_EXECUTED),
    ],
)
def test_a_result_is_forwarded_unchanged_keyed_by_the_subjects_machine(subject: str, message_type: str) -> None:
    verdict = classify(subject, PAYLOAD, 42)
    assert isinstance(verdict, Forward)
    assert verdict.value is PAYLOAD  # the very bytes, not a re-serialization
    assert verdict.key == b"m-8f2c41"
    assert dict(verdict.headers) == {
        "message-type": message_type.encode(),
        "nats-subject": subject.encode(),
        "nats-stream-seq": b"42",
    }


def test_the_subject_prefix_is_stripped_before_matching() -> None:
    assert isinstance(classify("t1.machine.m1.command-execution.result", PAYLOAD, 1, "t1."), Forward)
    assert isinstance(classify("machine.m1.command-execution.result", PAYLOAD, 1, "t1."), Reject)
    assert subjects("t1.") == ["t1.machine.*.command-execution.result", "t1.machine.*.script-execution.result"]


@pytest.mark.parametrize(
    "subject",
    [
        "machine.m1.reboot.result",
        "machine.m1.script-execution.progress",
        "machine.m1.x.script-execution.result",
        "device.m1.script-execution.result",
        "machine..script-execution.result",
    ],
)
def test_unknown_subjects_are_rejected(subject: str) -> None:
    verdict = classify(subject, PAYLOAD, 7)
    assert isinstance(verdict, Reject) and verdict.reason == "unknown_subject"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not json", "invalid_json"),
        (b"[1, 2]", "value_not_object"),
        (b"\xff\xfe", "invalid_json"),
        (b"", "invalid_json"),
    ],
)
def test_payloads_that_are_not_json_objects_are_rejected(data: bytes, reason: str) -> None:
    verdict = classify("machine.m1.script-execution.result", data, 9)
    assert isinstance(verdict, Reject)
    assert verdict.reason == reason and verdict.key == b"m1"


def test_dead_letter_keeps_the_original_bytes_and_the_nats_coordinates() -> None:
    data = b"\xff not utf-8"
    verdict = classify("machine.m1.script-execution.result", data, 9)
    assert isinstance(verdict, Reject)
    record = orjson.loads(dead_letter(verdict, data, "logs.events", 1_700_000_000_000))
    assert record["stage"] == "bridge" and record["component"] == "nats-bridge"
    assert record["reason"] == "invalid_json" and record["failedAt"] == 1_700_000_000_000
    key, value, headers, topic = original_bytes(record)
    assert (key, value, topic) == (b"m1", data, "logs.events")
    assert headers == {"nats-subject": "machine.m1.script-execution.result", "nats-stream-seq": "9"}
