"""The Cassandra sink's pure parts: events_by_id batches, months and timestamps as bound."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sinks.cassandra.config import CassandraSinkSettings
from sinks.cassandra.sink import _CELL_OVERHEAD, CassandraSink, _month, _time


def sink(**settings: Any) -> CassandraSink:
    s: Any = CassandraSink.__new__(CassandraSink)
    s._settings = CassandraSinkSettings(**settings)
    return s  # type: ignore[no-any-return]


def row(value_bytes: int, cells: int = 23) -> Any:
    per = value_bytes // cells
    return SimpleNamespace(values=[b"x" * per] * cells)


def test_batches_stay_under_the_byte_budget_as_the_server_sizes_them() -> None:
    rows = [row(690) for _ in range(20)]  # a typical event: ~690 bytes of values in 23 cells
    chunks = sink(batch_bytes=4608, batch_partitions=100)._across_partitions(rows)
    size = 690 + 23 * _CELL_OVERHEAD
    assert all(len(chunk) * size <= 4608 for chunk in chunks)
    assert [len(c) for c in chunks] == [3] * 6 + [2]
    assert sum(len(c) for c in chunks) == 20


def test_the_partition_cap_applies_to_small_rows() -> None:
    chunks = sink(batch_bytes=1_000_000, batch_partitions=10)._across_partitions([row(23) for _ in range(25)])
    assert [len(c) for c in chunks] == [10, 10, 5]


def test_a_row_larger_than_the_budget_goes_alone() -> None:
    rows = [row(100), row(50_000), row(100)]
    assert [len(c) for c in sink(batch_bytes=4608)._across_partitions(rows)] == [1, 1, 1]


def test_null_cells_count_their_overhead() -> None:
    nulls = SimpleNamespace(values=[None] * 23)
    chunks = sink(batch_bytes=23 * _CELL_OVERHEAD * 2, batch_partitions=100)._across_partitions([nulls] * 4)
    assert [len(c) for c in chunks] == [2, 2]


@given(st.integers(min_value=-10**12, max_value=10**13))
def test_the_cached_month_is_the_utc_month_of_the_instant(ms: int) -> None:
    assert _month(ms) == dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m")


def test_timestamps_are_bound_as_epoch_milliseconds() -> None:
    assert _time(1_764_547_200_123) == 1_764_547_200_123 and _time("17") == 17 and _time(None) is None
