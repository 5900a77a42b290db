"""What the NATS bridge does with one message, without any I/O: forward it to Kafka (key, value,
headers) or reject it to the dead-letter topic (reason, detail). The value is forwarded as the
agent published it, byte for byte; the mappers read that bare payload.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import orjson

from pipelines import deadletter
from pipelines.records import MESSAGE_TYPE_HEADER

COMMAND_EXECUTED: Final = "COMMAND_EXECUTED"
SCRIPT_EXECUTED: Final = "SCRIPT_EXECUTED"
# The last two subject tokens -> the `message-type` header.
KINDS: Final = {
    ("command-execution", "result"): COMMAND_EXECUTED,
    ("script-execution", "result"): SCRIPT_EXECUTED,
}
SUBJECT_HEADER: Final = "nats-subject"
SEQUENCE_HEADER: Final = "nats-stream-seq"
STAGE: Final = "bridge"
COMPONENT: Final = "nats-bridge"


@dataclass(frozen=True, slots=True)
class Forward:
    key: bytes
    value: bytes
    headers: list[tuple[str, str | bytes | None]]
    message_type: str


@dataclass(frozen=True, slots=True)
class Reject:
    reason: str
    detail: str
    key: bytes | None
    headers: dict[str, str]


def subjects(prefix: str = "") -> list[str]:
    """The stream's subjects: `machine.<machineId>.{command,script}-execution.result`."""
    return [f"{prefix}machine.*.{kind}.{tail}" for kind, tail in KINDS]


def classify(subject: str, data: bytes, stream_seq: int, prefix: str = "") -> Forward | Reject:
    """Forward a JSON-object result on a known subject, keyed by the subject's machine id."""
    nats_headers = {SUBJECT_HEADER: subject, SEQUENCE_HEADER: str(stream_seq)}
    tokens = subject[len(prefix) :].split(".") if subject.startswith(prefix) else []
    if len(tokens) != 4 or tokens[0] != "machine" or (tokens[2], tokens[3]) not in KINDS or not tokens[1]:
        expected = " or ".join(subjects(prefix))
        return Reject("unknown_subject", f"subject {subject!r} is not {expected}", None, nats_headers)
    machine_id = tokens[1].encode()
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return Reject("invalid_json", str(exc), machine_id, nats_headers)
    if not isinstance(payload, dict):
        return Reject("value_not_object", f"payload is a JSON {type(payload).__name__}", machine_id, nats_headers)
    message_type = KINDS[(tokens[2], tokens[3])]
    headers: list[tuple[str, str | bytes | None]] = [
        (MESSAGE_TYPE_HEADER, message_type.encode()),
        (SUBJECT_HEADER, subject.encode()),
        (SEQUENCE_HEADER, str(stream_seq).encode()),
    ]
    return Forward(machine_id, data, headers, message_type)


def dead_letter(reject: Reject, data: bytes, topic: str, failed_at_ms: int) -> bytes:
    """The dead-letter record of a rejected message. `topic` is where it would have gone (so
    `dlq replay` re-injects it there); the NATS subject and sequence travel in its headers."""
    return deadletter.build(
        stage=STAGE,
        reason=reject.reason,
        detail=reject.detail,
        topic=topic,
        partition=-1,
        offset=-1,
        key=reject.key,
        value=data,
        headers=reject.headers,
        failed_at_ms=failed_at_ms,
        component=COMPONENT,
    )
