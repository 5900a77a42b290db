"""The Fleet join: `activities` learn their host from `host_activities` rows (matched on activity id).

Better than the reference's 5 s windowed join, which dropped the host for good when its row came
late: an activity waits at most `join_wait_seconds` for its host row, then goes out without one; a
host row arriving later (within `late_window_minutes`) re-emits the activity with the same
toolEventId and the host, so every sink corrects itself by upsert.

Pure state transitions over JSON-able dicts: the topology keeps the state in a Faust table. The
batch step (`join_batch`) and the timed step (`join_due`) decide, for records the caller treats as
opaque handles, what to emit, what to ack, what to store and what to keep holding; the caller does
the I/O. An activity held for its host is not acked, so a crash redelivers it instead of losing it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypedDict, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class FleetJoinSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    join_wait_seconds: float = Field(
        2.0, description="How long an activity waits for its host row before it goes out without a host."
    )
    late_window_minutes: float = Field(
        1440.0, description="A host row arriving this late still re-emits its activity with the host; join "
        "state untouched for longer is dropped from the table."
    )
    expiry_sweep_seconds: float = Field(
        60.0, gt=0, description="How often join state older than the late window is dropped (a full table read)."
    )


class JoinState(TypedDict, total=False):
    activity: dict[str, Any]  # the activity's decoded record value, as emitted
    hostId: Any  # the joined host id, once a host row was seen
    emittedHost: Any  # the host id the last emission carried (None: emitted without host)
    emitted: bool
    touchedAt: int  # epoch ms of the last change, for expiry
    partition: int  # Kafka partition of the activity


@dataclass(frozen=True, slots=True)
class Emit:
    value: dict[str, Any]  # the activity record value to normalize, with `after.hostId` when known


def _body(value: dict[str, Any]) -> dict[str, Any]:
    payload = value.get("payload")
    return payload if isinstance(payload, dict) and "schema" in value else value


def _row(value: dict[str, Any]) -> dict[str, Any] | None:
    body = _body(value)
    after = body.get("after") if ("after" in body or "op" in body) else body
    return after if isinstance(after, dict) else None


def activity_id(value: dict[str, Any]) -> str | None:
    """The activity id of an `activities` record value (envelope or flattened row)."""
    row = _row(value)
    return None if row is None or row.get("id") is None else str(row["id"])


def host_link(value: dict[str, Any]) -> tuple[str, Any] | None:
    """(activity id, host id) of a `host_activities` record value; None for deletes and tombstones."""
    body = _body(value)
    if body.get("op") == "d":
        return None
    row = _row(value)
    if row is None or row.get("activity_id") is None or row.get("host_id") is None:
        return None
    return str(row["activity_id"]), row["host_id"]


def with_host(value: dict[str, Any], host_id: Any) -> dict[str, Any]:
    """A copy of the activity record value whose row carries `hostId` (the mapper's join contract)."""
    out = copy.deepcopy(value)
    row = _row(out)
    if row is not None and host_id is not None:
        row["hostId"] = host_id
    return out


def on_activity(state: JoinState | None, value: dict[str, Any], now_ms: int) -> tuple[JoinState, Emit | None]:
    """An activity row arrived. Emit at once if its host is known, else hold it (None)."""
    new: JoinState = dict(state or {})  # type: ignore[assignment]
    new["activity"] = value
    new["touchedAt"] = now_ms
    host = new.get("hostId")
    if host is None:
        new["emitted"] = False
        return new, None
    new["emitted"] = True
    new["emittedHost"] = host
    return new, Emit(with_host(value, host))


def on_host(state: JoinState | None, host_id: Any, now_ms: int) -> tuple[JoinState, Emit | None]:
    """A host row arrived. Emit (or re-emit) the activity if it is known and lacked this host."""
    new: JoinState = dict(state or {})  # type: ignore[assignment]
    new["hostId"] = host_id
    new["touchedAt"] = now_ms
    activity = new.get("activity")
    if activity is None or (new.get("emitted") and new.get("emittedHost") == host_id):
        return new, None
    new["emitted"] = True
    new["emittedHost"] = host_id
    return new, Emit(with_host(activity, host_id))


def on_wait_over(state: JoinState) -> tuple[JoinState, Emit | None]:
    """The held activity's wait is over: emit it without a host (a late host row re-emits it)."""
    activity = state.get("activity")
    if activity is None or state.get("emitted"):
        return state, None
    new: JoinState = dict(state)  # type: ignore[assignment]
    new["emitted"] = True
    new["emittedHost"] = None
    return new, Emit(activity)


def expired(state: JoinState, now_ms: int, settings: FleetJoinSettings) -> bool:
    return now_ms - state.get("touchedAt", 0) > settings.late_window_minutes * 60_000


R = TypeVar("R")  # the caller's record handle: opaque here
Kind = Literal["activity", "host"]


@dataclass(frozen=True, slots=True)
class Held(Generic[R]):
    """An activity waiting for its host row: not acked, not emitted yet."""

    record: R
    since_ms: int
    partition: int
    value: dict[str, Any]  # the activity record value, emitted as it is if its join state is gone


@dataclass(frozen=True, slots=True)
class Incoming(Generic[R]):
    kind: Kind
    record: R
    partition: int
    value: dict[str, Any] | None  # the decoded record value; None when it is not a JSON object


@dataclass
class JoinResult(Generic[R]):
    emit: list[tuple[R, dict[str, Any]]] = field(default_factory=list)  # (source record, activity value)
    passthrough: list[R] = field(default_factory=list)  # to normalize as they are (deletes, non-JSON)
    ack: list[R] = field(default_factory=list)
    store: dict[str, JoinState] = field(default_factory=dict)  # table writes; state["partition"] says where
    held: dict[str, Held[R]] = field(default_factory=dict)  # the held activities after this step
    skipped: int = 0  # host rows without both ids


def _is_delete(value: Mapping[str, Any]) -> bool:
    body = _body(dict(value))
    return body.get("op") == "d"


def join_batch(
    items: Sequence[Incoming[R]],
    state: Callable[[str], JoinState | None],
    held: Mapping[str, Held[R]],
    now_ms: int,
) -> JoinResult[R]:
    """One batch of activity and host rows, in order. `state` reads the table; nothing is mutated."""
    out: JoinResult[R] = JoinResult(held=dict(held))

    def current(aid: str) -> JoinState | None:
        return out.store[aid] if aid in out.store else state(aid)

    for item in items:
        value, record = item.value, item.record
        if value is None:  # not JSON: normalization dead-letters or skips it as usual
            out.passthrough.append(record)
            out.ack.append(record)
            continue
        if item.kind == "host":
            out.ack.append(record)
            link = host_link(value)
            if link is None:
                out.skipped += 1
                continue
            aid, host = link
            new, emission = on_host(current(aid), host, now_ms)
            new["partition"] = item.partition
            out.store[aid] = new
            waiting = out.held.pop(aid, None)
            if emission is not None:
                out.emit.append((waiting.record if waiting else record, emission.value))
            if waiting is not None:
                out.ack.append(waiting.record)
            continue
        activity = activity_id(value)
        if activity is None or _is_delete(value):
            out.passthrough.append(record)
            out.ack.append(record)
            continue
        new, emission = on_activity(current(activity), value, now_ms)
        new["partition"] = item.partition
        out.store[activity] = new
        if emission is None:
            replaced = out.held.get(activity)
            if replaced is not None:  # a redelivery or an update while waiting: keep the newest
                out.ack.append(replaced.record)
            out.held[activity] = Held(record, now_ms, item.partition, value)
            continue
        out.emit.append((record, emission.value))
        out.ack.append(record)
    return out


def join_due(
    state: Callable[[str], JoinState | None],
    held: Mapping[str, Held[R]],
    now_ms: int,
    settings: FleetJoinSettings,
) -> JoinResult[R]:
    """Held activities whose wait is over go out without a host (a late host row re-emits them)."""
    out: JoinResult[R] = JoinResult(held=dict(held))
    wait_ms = settings.join_wait_seconds * 1000
    for aid, waiting in held.items():
        if now_ms - waiting.since_ms < wait_ms:
            continue
        del out.held[aid]
        out.ack.append(waiting.record)
        current = state(aid)
        if current is None:  # never lose a held activity, even without its join state
            out.emit.append((waiting.record, waiting.value))
            continue
        new, emission = on_wait_over(current)
        if emission is not None:
            out.store[aid] = new
            out.emit.append((waiting.record, emission.value))
    return out


def join_expired(
    states: Iterable[tuple[str, JoinState | None]],
    held: Mapping[str, Held[R]],
    now_ms: int,
    settings: FleetJoinSettings,
) -> list[str]:
    """Activity ids whose join state is past the late window: drop them (a held activity stays)."""
    return [aid for aid, state in states if state is not None and aid not in held and expired(state, now_ms, settings)]
