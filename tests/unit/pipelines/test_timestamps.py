from __future__ import annotations

import pytest

from pipelines.timestamps import to_epoch_ms, utc_day

MS = 1795166043118  # 2026-11-20T09:14:03.118Z


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-20T09:14:03.118Z", MS),
        ("2026-11-20T09:14:03.118000Z", MS),
        ("2026-11-20T11:14:03.118+02:00", MS),
        ("2026-11-20 09:14:03.118", MS),  # naive is UTC
        ("2026-11-20T09:14:03.118999999Z", MS + 0),  # beyond microseconds is truncated
        (1795166043, 1795166043000),  # seconds
        (1795166043.118, MS),
        (MS, MS),  # milliseconds
        (MS * 1000 + 123, MS),  # microseconds
        (MS * 1_000_000 + 123_456, MS),  # nanoseconds
        (str(MS), MS),
        ({"$date": MS}, MS),
        ({"$date": {"$numberLong": str(MS)}}, MS),
        ({"$date": "2026-11-20T09:14:03.118Z"}, MS),
        ({"$numberLong": str(MS)}, MS),
    ],
)
def test_accepted_forms(value: object, expected: int) -> None:
    assert to_epoch_ms(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        "",
        "  ",
        "yesterday",
        "2026-13-45T00:00:00Z",
        float("nan"),
        float("inf"),
        1e300,
        [],
        {},
        {"$date": None},
        {"$oid": "abc"},
        "10000-01-01T00:00:00Z",
        -1e20,
    ],
)
def test_not_a_time(value: object) -> None:
    assert to_epoch_ms(value) is None


def test_utc_day() -> None:
    assert utc_day(MS) == "2026-11-20"
    assert utc_day(0) == "1970-01-01"
    assert utc_day(-1) == "1969-12-31"
    assert utc_day(1795132799999) == "2026-11-19"  # last millisecond of the day before
