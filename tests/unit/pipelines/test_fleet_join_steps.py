"""The Fleet join's batch steps: plain dicts for the table, strings for records, a fake clock."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.fleet_join import FleetJoinSettings, Held, Incoming, JoinState, join_batch, join_due, join_expired

T0 = 1_763_630_151_456
WAIT = FleetJoinSettings(join_wait_seconds=5)


def activity(id_: Any = 101, op: str = "c") -> dict[str, Any]:
    return {"op": op, "ts_ms": T0, "before": None, "after": {"id": id_, "activity_type": "ran_script"}}


def host_row(activity_id: Any = 101, host_id: Any = 7) -> dict[str, Any]:
    return {"op": "c", "ts_ms": T0, "before": None, "after": {"host_id": host_id, "activity_id": activity_id}}


def act(record: str, id_: Any = 101, partition: int = 0) -> Incoming[str]:
    return Incoming("activity", record, partition, activity(id_))


def host(record: str, activity_id: Any = 101, host_id: Any = 7, partition: int = 0) -> Incoming[str]:
    return Incoming("host", record, partition, host_row(activity_id, host_id))


class Table(dict[str, JoinState]):
    """The join table as the step sees it: a read function; writes come back in `store`."""

    def read(self, key: str) -> JoinState | None:
        return self.get(key)


def host_of(value: dict[str, Any]) -> Any:
    return value["after"].get("hostId")


def test_an_activity_without_its_host_is_held_not_acked_and_not_emitted() -> None:
    out = join_batch([act("a1")], Table().read, {}, T0)
    assert out.emit == [] and out.ack == []
    assert set(out.held) == {"101"} and out.held["101"].record == "a1" and out.held["101"].since_ms == T0
    assert out.store["101"]["emitted"] is False and out.store["101"]["partition"] == 0


def test_host_then_activity_in_one_batch_emits_once_with_the_host_and_acks_both() -> None:
    out = join_batch([host("h1"), act("a1")], Table().read, {}, T0)
    assert [(r, host_of(v)) for r, v in out.emit] == [("a1", 7)]
    assert out.ack == ["h1", "a1"] and out.held == {}


def test_a_host_arriving_later_releases_the_held_activity_and_acks_it_with_the_host_row() -> None:
    table = Table()
    first = join_batch([act("a1")], table.read, {}, T0)
    table.update(first.store)
    second = join_batch([host("h1")], table.read, first.held, T0 + 1000)
    assert [(r, host_of(v)) for r, v in second.emit] == [("a1", 7)]  # emitted under the activity's record
    assert sorted(second.ack) == ["a1", "h1"] and second.held == {}


def test_the_input_held_mapping_is_not_mutated() -> None:
    held = {"101": Held("a0", T0, 0, activity())}
    join_batch([host("h1")], Table().read, held, T0)
    assert set(held) == {"101"}


def test_an_update_while_waiting_keeps_the_newest_and_acks_the_replaced_record() -> None:
    out = join_batch([act("a1"), act("a2")], Table().read, {}, T0)
    assert out.held["101"].record == "a2" and out.ack == ["a1"]


def test_deletes_and_non_json_pass_through_acked() -> None:
    items = [Incoming("activity", "del", 0, activity(op="d")), Incoming("activity", "junk", 0, None)]
    out = join_batch(items, Table().read, {}, T0)
    assert out.passthrough == ["del", "junk"] and out.ack == ["del", "junk"] and out.store == {}


def test_a_host_row_without_both_ids_is_acked_and_counted_as_skipped() -> None:
    out = join_batch([Incoming("host", "h", 0, {"op": "c", "after": {"host_id": 7}})], Table().read, {}, T0)
    assert out.skipped == 1 and out.ack == ["h"] and out.store == {}


def test_the_wait_is_over_only_after_join_wait_seconds_on_the_injected_clock() -> None:
    table = Table()
    first = join_batch([act("a1")], table.read, {}, T0)
    table.update(first.store)
    early = join_due(table.read, first.held, T0 + 4_999, WAIT)
    assert early.emit == [] and early.ack == [] and set(early.held) == {"101"}
    due = join_due(table.read, first.held, T0 + 5_000, WAIT)
    assert [(r, host_of(v)) for r, v in due.emit] == [("a1", None)]
    assert due.ack == ["a1"] and due.held == {} and due.store["101"]["emitted"] is True


def test_a_late_host_after_the_wait_re_emits_the_activity_with_its_host() -> None:
    table = Table()
    first = join_batch([act("a1")], table.read, {}, T0)
    table.update(first.store)
    due = join_due(table.read, first.held, T0 + 5_000, WAIT)
    table.update(due.store)
    late = join_batch([host("h1")], table.read, due.held, T0 + 60_000)
    assert [(r, host_of(v)) for r, v in late.emit] == [("h1", 7)]  # a correction, under the host record
    assert late.ack == ["h1"]


def test_a_held_activity_whose_state_is_gone_is_still_emitted_as_it_came() -> None:
    held = {"101": Held("a1", T0, 0, activity())}
    due = join_due(Table().read, held, T0 + 10_000, WAIT)
    assert due.emit == [("a1", activity())] and due.ack == ["a1"]


steps = st.lists(
    st.one_of(
        st.tuples(st.just("activity"), st.integers(1, 4)),
        st.tuples(st.just("host"), st.integers(1, 4)),
        st.tuples(st.just("tick"), st.integers(0, 8_000)),
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(steps)
def test_property_every_activity_is_emitted_and_every_record_acked_exactly_once(
    script: list[tuple[str, int]],
) -> None:
    table, held, now = Table(), {}, T0
    acked: list[str] = []
    emitted_ids: set[Any] = set()
    activities: list[str] = []
    ids: set[Any] = set()
    for n, (kind, arg) in enumerate(script):
        if kind == "tick":
            now += arg
            out = join_due(table.read, held, now, WAIT)
        else:
            record = f"{kind[0]}{n}"
            if kind == "activity":
                activities.append(record)
                ids.add(arg)
            item = act(record, arg) if kind == "activity" else host(record, arg, host_id=n)
            out = join_batch([item], table.read, held, now)
        table.update(out.store)
        held = out.held
        emitted_ids.update(v["after"]["id"] for _, v in out.emit)
        acked.extend(out.ack)
    out = join_due(table.read, held, now + 10_000, WAIT)  # everything still held is released
    emitted_ids.update(v["after"]["id"] for _, v in out.emit)
    acked.extend(out.ack)
    assert out.held == {}
    assert len(acked) == len(set(acked)), "a record was acked twice"
    assert set(activities) <= set(acked), "an activity record was never acked"
    assert ids == emitted_ids, "an activity was never emitted"


def test_join_state_past_the_late_window_expires_unless_its_activity_is_held() -> None:
    window = FleetJoinSettings(late_window_minutes=1)
    old: JoinState = {"touchedAt": T0, "emitted": True}
    young: JoinState = {"touchedAt": T0 + 30_000, "emitted": True}
    held = {"3": Held("a3", T0, 0, activity(3))}
    states = [("1", old), ("2", young), ("3", dict(old)), ("4", None)]
    assert join_expired(states, held, T0 + 60_001, window) == ["1"]
    assert join_expired(states, held, T0 + 90_001, window) == ["1", "2"]
