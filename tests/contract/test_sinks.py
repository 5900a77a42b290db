"""The sink contract, run against every `Sink` implementation (see conftest `IMPLEMENTATIONS`).

Every sink is idempotent on `toolEventId`: a redelivered batch changes nothing, an update replaces
the event's rows wherever its time, day or device moved them, the last version in a batch wins, bad
events come back as rejects (index + reason) while the rest is stored, and an empty batch is a
no-op. Each case writes under a tenant of its own and reads the store back.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from sinks.base import Rejected, Sink
from tests.contract.conftest import SinkUnderTest, Views

T0 = 1_763_630_151_456  # 2025-11-20T09:15:51.456Z
HOUR, DAY = 3_600_000, 86_400_000


def utc_day(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d")


@dataclass
class Case:
    sut: SinkUnderTest
    runner: asyncio.Runner
    tenant: str

    def event(
        self,
        event_id: str,
        *,
        ms: int = T0,
        device: str | None = "dev-1",
        summary: str = "v1",
        op: str = "c",
        **fields: Any,
    ) -> dict[str, Any]:
        event: dict[str, Any] = {
            "tenantId": self.tenant,
            "toolEventId": event_id,
            "eventTimestamp": ms,
            "ingestDay": utc_day(ms),
            "deviceId": device,
            "hostname": "WS-ACCT-07" if device else None,
            "organizationId": "org-acme",
            "organizationName": "Acme Accounting",
            "toolType": "FLEET",
            "eventType": "SCRIPT_RUN",
            "severity": "INFO",
            "summary": summary,
            "agentId": "31",
            "sourceEventType": "ran_script",
            "sourceTable": "activities",
            "operation": op,
            "message": summary,
            "details": {"script": "cleanup.ps1"},
            "visible": True,
            "schemaVersion": 1,
            "discriminator": None,
        }
        event.update(fields)
        return event

    def write(self, events: Sequence[dict[str, Any]], sink: Sink | None = None) -> list[Rejected]:
        return self.runner.run((sink or self.sut.sink).write(events))

    def views(self) -> Views:
        views = self.sut.read(self.tenant)
        for name in self.sut.one_row_views:
            ids = [row["toolEventId"] for row in views[name]]
            assert len(ids) == len(set(ids)), f"{self.sut.name}.{name} holds an event twice: {views[name]}"
        return views

    def stored(self) -> dict[str, Any]:
        """The primary view, by id."""
        return {row["toolEventId"]: row for row in self.views()[self.sut.primary]}


@pytest.fixture
def case(sut: SinkUnderTest, runner: asyncio.Runner, request: pytest.FixtureRequest) -> Case:
    needs = request.node.get_closest_marker("needs")
    if needs is not None:
        missing = {k: v for k, v in needs.kwargs.items() if getattr(sut.sink.capabilities, k) != v}
        if missing:
            pytest.skip(f"{sut.name} lacks {missing}")
    return Case(sut, runner, f"t_{uuid.uuid4().hex[:12]}")


def placement(row: dict[str, Any]) -> tuple[Any, ...]:
    return row["eventTimestamp"], row["ingestDay"], row["deviceId"], row["summary"]


def expected_views(sut: SinkUnderTest, events: Sequence[dict[str, Any]]) -> Views:
    """What the store must hold for these (final) events, in the reader's shape and order."""
    rows = [
        {
            "toolEventId": e["toolEventId"],
            "eventTimestamp": e["eventTimestamp"],
            "ingestDay": e["ingestDay"],
            "deviceId": e["deviceId"],
            "summary": e["summary"],
            "operation": e["operation"],
        }
        for e in events
    ]

    def order(row: dict[str, Any]) -> tuple[Any, ...]:
        return row["toolEventId"], row["eventTimestamp"], str(row["deviceId"])

    views: Views = {name: sorted(rows, key=order) for name in sut.one_row_views}
    if "device_timeline" in views:  # only events with a device are on a timeline
        views["device_timeline"] = [r for r in views["device_timeline"] if r["deviceId"]]
    return views


# -- idempotent redelivery --------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["same", "restarted"], ids=["same-instance", "restarted-worker"])
def test_redelivered_batch_leaves_the_same_rows(case: Case, by: str) -> None:
    batch = [
        case.event("e1"),
        case.event("e2", ms=T0 - DAY, summary="yesterday"),
        case.event("e3", device=None, summary="no device"),
        case.event("e4", ms=T0 + HOUR, device="dev-2", op="u"),
        case.event("e5", ms=T0 - 40 * DAY, op="r"),
    ]
    assert case.write(batch) == []
    first = case.views()
    assert first == expected_views(case.sut, batch)

    assert case.write(batch, case.sut.restarted if by == "restarted" else None) == []
    assert case.views() == first


# -- updates replace --------------------------------------------------------------------------------

CHANGES: dict[str, dict[str, Any]] = {
    "summary-only": {},
    "time-same-day": {"ms": T0 + HOUR},
    "time-earlier-day": {"ms": T0 - 2 * DAY},
    "time-other-month": {"ms": T0 + 20 * DAY},
    "device": {"device": "dev-2"},
    "device-added": {"from_device": None},
    "device-removed": {"device": None},
    "day-only": {"ingestDay": "2025-11-21"},
    "time-day-device": {"ms": T0 + 3 * DAY, "device": "dev-9"},
}


# Known bugs of an implementation, as (implementation, case) -> reason: the case runs as a strict xfail.
# Empty now: the restarted-worker lookup and the stale placement cache are fixed (the sink reads the
# old placement from Cassandra for every update and re-snapshot).
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def known_bug(request: pytest.FixtureRequest, sut: SinkUnderTest, case_id: str) -> None:
    reason = KNOWN_BUGS.get((sut.name, case_id))
    if reason is not None:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


@pytest.mark.needs(upsert=True)
@pytest.mark.parametrize("by", ["same", "restarted"], ids=["same-instance", "restarted-worker"])
@pytest.mark.parametrize("change", list(CHANGES))
def test_update_replaces_the_event_wherever_it_moved(
    case: Case, change: str, by: str, request: pytest.FixtureRequest
) -> None:
    known_bug(request, case.sut, f"update-{change}-{by}")
    spec = dict(CHANGES[change])
    original = case.event("e1", device=spec.pop("from_device", "dev-1"))
    other = case.event("e2", summary="bystander")
    assert case.write([original, other]) == []

    fields = {"ms": original["eventTimestamp"], "device": original["deviceId"], **spec}
    if "ms" in spec and "ingestDay" not in spec:
        fields["ingestDay"] = utc_day(spec["ms"])
    update = case.event("e1", summary="v2", op="u", **fields)
    assert case.write([update], case.sut.restarted if by == "restarted" else None) == []

    assert case.views() == expected_views(case.sut, [update, other])


@pytest.mark.needs(upsert=True)
def test_an_update_of_an_unknown_event_is_stored(case: Case) -> None:
    update = case.event("e1", op="u", summary="first seen as an update")
    assert case.write([update], case.sut.restarted) == []
    assert case.views() == expected_views(case.sut, [update])


@pytest.mark.needs(upsert=True)
def test_workers_taking_turns_on_one_event_keep_one_row(case: Case, request: pytest.FixtureRequest) -> None:
    """A writes v0; a rebalance gives the partition to B, which gets v0 redelivered, then the update v1
    (moved a day); the partition goes back to A, which gets v2 (moved again)."""
    known_bug(request, case.sut, "workers-taking-turns")
    a, b = case.sut.sink, case.sut.restarted
    v0 = case.event("e1", summary="v0")
    v1 = case.event("e1", ms=T0 + DAY, ingestDay=utc_day(T0 + DAY), device="dev-2", summary="v1", op="u")
    v2 = case.event("e1", ms=T0 + 2 * DAY, ingestDay=utc_day(T0 + 2 * DAY), device="dev-3", summary="v2", op="u")
    for version, sink in ((v0, a), (v0, b), (v1, b), (v2, a)):
        assert case.write([version], sink) == []
    assert case.views() == expected_views(case.sut, [v2])


# -- two versions in one batch ---------------------------------------------------------------------------


@pytest.mark.needs(upsert=True)
@pytest.mark.parametrize("stored_before", [False, True], ids=["new", "already-stored"])
def test_a_batch_with_two_versions_of_one_event_keeps_the_last(case: Case, stored_before: bool) -> None:
    if stored_before:
        assert case.write([case.event("e1", ms=T0 - 5 * DAY, device="dev-0", summary="v0")]) == []
    v1 = case.event("e1", summary="v1", op="u" if stored_before else "c")
    v2 = case.event("e1", ms=T0 + DAY, device="dev-2", summary="v2", op="u")
    other = case.event("e2", summary="bystander")
    assert case.write([v1, other, v2]) == []
    assert case.views() == expected_views(case.sut, [v2, other])


# -- rejects -----------------------------------------------------------------------------------------


def test_rejects_come_back_with_index_and_reason_and_the_rest_is_stored(case: Case) -> None:
    good = [case.event(f"ok{i}") for i in range(3)]
    no_tenant = {**case.event("bad-tenant"), "tenantId": None}
    no_id = {k: v for k, v in case.event("x").items() if k != "toolEventId"}
    no_time = {k: v for k, v in case.event("bad-time").items() if k != "eventTimestamp"}
    not_a_time = case.event("bad-time-2", eventTimestamp="yesterday-ish")
    batch = [good[0], no_tenant, good[1], no_id, no_time, not_a_time, good[2]]

    rejected = case.write(batch)

    assert sorted(r.index for r in rejected) == [1, 3, 4, 5]
    for reject in rejected:
        assert reject.reason and reject.reason.isidentifier(), reject
        assert reject.detail, reject
    assert set(case.stored()) == {"ok0", "ok1", "ok2"}
    assert case.views() == expected_views(case.sut, good)


def test_every_event_without_an_id_is_rejected(case: Case) -> None:
    no_id = {k: v for k, v in case.event("x").items() if k != "toolEventId"}
    batch = [dict(no_id, summary="first"), case.event("ok"), dict(no_id, summary="second")]
    rejected = case.write(batch)
    assert sorted(r.index for r in rejected) == [0, 2]
    assert set(case.stored()) == {"ok"}


# -- empty batch -----------------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["same", "restarted"], ids=["same-instance", "restarted-worker"])
def test_an_empty_batch_is_a_no_op(case: Case, by: str) -> None:
    stored = [case.event("e1"), case.event("e2", device=None)]
    assert case.write(stored) == []
    before = case.views()
    assert case.write([], case.sut.restarted if by == "restarted" else None) == []
    assert case.views() == before == expected_views(case.sut, stored)
