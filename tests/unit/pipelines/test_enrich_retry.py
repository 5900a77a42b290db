"""Re-enrichment of missed events: plain dicts for the tables, a fake clock, no broker."""

from __future__ import annotations

from typing import Any

import pytest

from pipelines.enrich import EnrichSettings, Lookups, by_agent, pending_key, retry_due

T0 = 1_763_630_151_456
TENANT = "tenant-oss"
SETTINGS = EnrichSettings(reenrich_window_minutes=1, max_pending_per_agent=3)


class Rows(dict[str, dict[str, Any]]):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.asked = 0

    def read(self, key: str) -> dict[str, Any] | None:
        self.asked += 1
        return self.get(key)


def tables(known: bool) -> tuple[Lookups, Rows]:
    connections = Rows({"FLEET:31": {"machineId": "m-1"}} if known else {})
    machines = Rows({"m-1": {"machineId": "m-1", "hostname": "WS-1", "organizationId": None}})
    return Lookups(connection=connections.read, machine=machines.read, organization=Rows().read), connections


def pending(event_id: str, since: int, agent: str = "31") -> tuple[str, dict[str, Any]]:
    event = {"tenantId": None, "toolEventId": event_id, "toolType": "FLEET", "agentId": agent, "details": None}
    return pending_key(f"FLEET:{agent}", event_id), {"since": since, "event": event}


def due(entries: list[tuple[str, dict[str, Any]]], lookups: Lookups, now: int, sweep: bool = True) -> Any:
    table = dict(entries)
    return retry_due(by_agent(table), table, lookups, SETTINGS, TENANT, now, sweep)


def test_nothing_is_emitted_or_removed_while_the_device_is_still_unknown() -> None:
    lookups, _ = tables(known=False)
    out = due([pending("e1", T0)], lookups, T0 + 1000)
    assert out.emit == [] and out.remove == []


def test_events_are_re_emitted_enriched_once_their_row_arrives_and_then_removed() -> None:
    lookups, _ = tables(known=True)
    entries = [pending("e1", T0), pending("e2", T0 + 1)]
    out = due(entries, lookups, T0 + 1000)
    assert [(key, event["hostname"], event["tenantId"]) for key, event in out.emit] == [
        (entries[0][0], "WS-1", TENANT),
        (entries[1][0], "WS-1", TENANT),
    ]
    assert sorted(out.remove) == sorted(key for key, _ in entries)


@pytest.mark.parametrize("sweep", [True, False])
def test_one_probe_per_agent_while_its_device_is_unknown(sweep: bool) -> None:
    lookups, connections = tables(known=False)
    entries = [pending(f"e{i}", T0 + i) for i in range(3)]
    due(entries, lookups, T0 + 1000, sweep)
    assert connections.asked == 1


class Counting(dict[str, Any]):
    """A pending table that counts the entries read."""

    reads = 0

    def get(self, key: str, default: Any = None) -> Any:
        self.reads += 1
        return super().get(key, default)


def test_between_sweeps_an_unknown_agent_costs_one_read_not_one_per_event() -> None:
    lookups, _ = tables(known=False)
    table = Counting(pending(f"e{i}", T0 + i) for i in range(3))
    out = retry_due(by_agent(table), table, lookups, SETTINGS, TENANT, T0 + 120_000, sweep=False)
    assert table.reads == 1
    assert out.remove == []  # expired, but expiry waits for the sweep


def test_between_sweeps_a_now_known_agent_is_re_emitted_in_full() -> None:
    lookups, _ = tables(known=True)
    entries = [pending(f"e{i}", T0 + i) for i in range(3)]
    out = due(entries, lookups, T0 + 1000, sweep=False)
    assert sorted(out.remove) == sorted(key for key, _ in entries) and len(out.emit) == 3


def test_expiry_follows_the_injected_clock() -> None:
    lookups, _ = tables(known=False)
    old, young = pending("old", T0), pending("young", T0 + 30_000)
    out = due([old, young], lookups, T0 + 60_001)
    assert out.remove == [old[0]] and out.emit == []


def test_the_oldest_past_the_per_agent_cap_are_dropped() -> None:
    lookups, _ = tables(known=False)
    entries = [pending(f"e{i}", T0 + i) for i in range(5)]
    out = due(list(reversed(entries)), lookups, T0 + 10, sweep=False)
    assert sorted(out.remove) == sorted([entries[0][0], entries[1][0]])


def test_agents_are_retried_independently() -> None:
    lookups, _ = tables(known=True)
    known, unknown = pending("e1", T0), pending("e2", T0, agent="99")
    out = due([known, unknown], lookups, T0 + 1000)
    assert [key for key, _ in out.emit] == [known[0]] and out.remove == [known[0]]


def test_an_entry_gone_from_the_table_is_skipped() -> None:
    lookups, _ = tables(known=True)
    kept = pending("e1", T0)
    out = retry_due({"FLEET:31": [kept[0], "FLEET:31\x00gone"]}, dict([kept]), lookups, SETTINGS, TENANT, T0, False)
    assert [key for key, _ in out.emit] == [kept[0]]


def test_by_agent_groups_keys_in_order() -> None:
    keys = [pending_key("A:1", "x"), pending_key("B:2", "y"), pending_key("A:1", "z")]
    assert {agent: list(group) for agent, group in by_agent(keys).items()} == {
        "A:1": [keys[0], keys[2]], "B:2": [keys[1]]}


def test_pending_keys_of_one_agent_share_its_stream_key_prefix() -> None:
    assert pending_key("FLEET:31", "e1").split("\x00", 1)[0] == "FLEET:31"
    assert pending_key("FLEET:31", "e1") != pending_key("FLEET:31", "e2")
