"""The Fleet join state machine: an activity waits for its host row, goes out without one when the
wait is over, and is re-emitted (same record, now with the host) when the host row comes late."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.fleet_join import (
    Emit,
    FleetJoinSettings,
    JoinState,
    activity_id,
    expired,
    host_link,
    on_activity,
    on_host,
    on_wait_over,
    with_host,
)

T0 = 1_763_630_151_456


def activity(id_: Any = 101, *, op: str = "c", actor: str = "admin", schema: bool = False) -> dict[str, Any]:
    body = {"op": op, "ts_ms": T0, "before": None, "after": {"id": id_, "activity_type": "ran_script", "actor": actor}}
    return {"schema": {"type": "struct"}, "payload": body} if schema else body


def host_row(activity_id: Any = 101, host_id: Any = 7, *, op: str = "c") -> dict[str, Any]:
    after = None if op == "d" else {"host_id": host_id, "activity_id": activity_id}
    before = {"host_id": host_id, "activity_id": activity_id} if op == "d" else None
    return {"op": op, "ts_ms": T0, "before": before, "after": after}


def emitted_host(emit: Emit) -> Any:
    body = emit.value.get("payload", emit.value) if "schema" in emit.value else emit.value
    after = body.get("after", body) if ("after" in body or "op" in body) else body
    return after.get("hostId")


# -- record helpers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (activity(101), "101"),
        (activity("a-9", schema=True), "a-9"),
        ({"id": 55, "activity_type": "x"}, "55"),  # flattened row (ExtractNewRecordState)
        (activity(None), None),
        ({"op": "d", "before": {"id": 1}, "after": None}, None),
        ({"schema": {}, "payload": None}, None),
    ],
)
def test_activity_id(value: dict[str, Any], expected: str | None) -> None:
    assert activity_id(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (host_row(101, 7), ("101", 7)),
        ({"schema": {}, "payload": host_row("a-1", "h-2")}, ("a-1", "h-2")),
        ({"host_id": 3, "activity_id": 4}, ("4", 3)),  # flattened row
        (host_row(101, 7, op="d"), None),
        ({"op": "d", "after": {"host_id": 3, "activity_id": 4}}, None),  # deletes never link
        ({"op": "c", "after": {"activity_id": 4}}, None),
        ({"op": "c", "after": {"host_id": 3}}, None),
        ({"op": "c", "after": None}, None),
        ({}, None),
    ],
)
def test_host_link(value: dict[str, Any], expected: tuple[str, Any] | None) -> None:
    assert host_link(value) == expected


@pytest.mark.parametrize("value", [activity(1), activity(1, schema=True), {"id": 1, "actor": "x"}])
def test_with_host_sets_host_on_a_copy(value: dict[str, Any]) -> None:
    before = copy.deepcopy(value)
    out = with_host(value, 42)
    assert value == before, "the input must not be mutated"
    assert emitted_host(Emit(out)) == 42
    assert activity_id(out) == "1"


def test_with_host_none_is_a_plain_copy() -> None:
    value = activity(1)
    out = with_host(value, None)
    assert out == value and out is not value and out["after"] is not value["after"]


# -- transitions -----------------------------------------------------------------------------------


def test_activity_without_known_host_is_held() -> None:
    state, emit = on_activity(None, activity(), T0)
    assert emit is None
    assert state["emitted"] is False and state["activity"] == activity() and state["touchedAt"] == T0


def test_host_first_then_activity_emits_at_once_with_the_host() -> None:
    state, emit = on_host(None, 7, T0)
    assert emit is None and state["hostId"] == 7
    state, emit = on_activity(state, activity(), T0 + 5)
    assert emit is not None and emitted_host(emit) == 7
    assert state["emitted"] and state["emittedHost"] == 7 and state["touchedAt"] == T0 + 5


def test_host_during_the_wait_emits_once_with_host_and_the_timer_then_does_nothing() -> None:
    state, _ = on_activity(None, activity(), T0)
    state, emit = on_host(state, 7, T0 + 100)
    assert emit is not None and emitted_host(emit) == 7
    after, emit = on_wait_over(state)
    assert emit is None and after == state


def test_wait_over_emits_without_host_and_a_late_host_re_emits_the_same_activity() -> None:
    state, _ = on_activity(None, activity(), T0)
    state, first = on_wait_over(state)
    assert first is not None and emitted_host(first) is None and first.value == activity()
    assert state["emitted"] and state["emittedHost"] is None
    state, late = on_host(state, 7, T0 + 60_000)
    assert late is not None and emitted_host(late) == 7
    assert activity_id(late.value) == activity_id(first.value)
    assert state["touchedAt"] == T0 + 60_000


def test_same_host_again_is_not_re_emitted_but_a_changed_host_is() -> None:
    state, _ = on_activity(None, activity(), T0)
    state, _ = on_host(state, 7, T0)
    state, again = on_host(state, 7, T0 + 1)
    assert again is None
    state, moved = on_host(state, 8, T0 + 2)
    assert moved is not None and emitted_host(moved) == 8 and state["emittedHost"] == 8


def test_activity_update_after_emission_re_emits_with_the_known_host() -> None:
    state, _ = on_host(None, 7, T0)
    state, _ = on_activity(state, activity(actor="a"), T0)
    state, emit = on_activity(state, activity(op="u", actor="b"), T0 + 1)
    assert emit is not None and emitted_host(emit) == 7 and emit.value["after"]["actor"] == "b"


def test_wait_over_without_activity_does_nothing() -> None:
    state, _ = on_host(None, 7, T0)
    after, emit = on_wait_over(state)
    assert emit is None and after == state
    empty: JoinState = {}
    assert on_wait_over(empty) == (empty, None)


def test_transitions_do_not_mutate_the_previous_state() -> None:
    state, _ = on_activity(None, activity(), T0)
    frozen = copy.deepcopy(state)
    on_host(state, 7, T0 + 1)
    on_wait_over(state)
    on_activity(state, activity(op="u"), T0 + 2)
    assert state == frozen


@pytest.mark.parametrize(("age_ms", "is_expired"), [(0, False), (60_000, False), (60_001, True), (10 * 60_000, True)])
def test_expired_after_the_late_window(age_ms: int, is_expired: bool) -> None:
    window = FleetJoinSettings(late_window_minutes=1)
    state, _ = on_activity(None, activity(), T0)
    assert expired(state, T0 + age_ms, window) is is_expired


def test_state_without_touch_time_counts_as_old() -> None:
    assert expired({}, 60_001, FleetJoinSettings(late_window_minutes=1))
    assert not expired({}, 60_000, FleetJoinSettings(late_window_minutes=1))


# -- property: any interleaving -------------------------------------------------------------------------

steps = st.lists(
    st.one_of(
        st.tuples(st.just("activity"), st.integers(0, 3)),  # a new version of the activity (its actor)
        st.tuples(st.just("host"), st.integers(1, 3)),
        st.tuples(st.just("wait_over"), st.just(0)),
    ),
    max_size=25,
)


@settings(max_examples=500, deadline=None)
@given(steps=steps)
def test_property_any_interleaving_emits_every_activity_and_never_a_stale_host(
    steps: list[tuple[str, int]],
) -> None:
    """Every activity goes out at least once (each arrival arms a timer that eventually fires); the
    last emission carries the host when a host row was seen and the latest activity version; an
    emission never carries a host other than the latest one seen."""
    state: JoinState | None = None
    emissions: list[tuple[Any, str]] = []
    latest_host: Any = None
    latest_actor: str | None = None
    now = T0
    timers = 0  # armed, not yet fired

    def record(emit: Emit | None) -> None:
        if emit is not None:
            host = emitted_host(emit)
            assert host is None or host == latest_host, f"emitted host {host}, latest seen {latest_host}"
            assert emit.value["after"]["actor"] == latest_actor
            emissions.append((host, emit.value["after"]["actor"]))

    for kind, n in steps:
        now += 10
        if kind == "activity":
            latest_actor = f"v{n}"
            timers += 1
            state, emit = on_activity(state, activity(actor=latest_actor), now)
        elif kind == "host":
            latest_host = n
            state, emit = on_host(state, n, now)
        else:
            if state is None or not timers:
                continue
            timers -= 1
            state, emit = on_wait_over(state)
        record(emit)
    while timers and state is not None:  # the armed timers fire
        timers -= 1
        state, emit = on_wait_over(state)
        record(emit)

    if latest_actor is None:
        assert emissions == []
        return
    assert emissions, "an activity was never emitted"
    last_host, last_actor = emissions[-1]
    assert last_actor == latest_actor
    assert last_host == latest_host  # the host if one was seen, else none
