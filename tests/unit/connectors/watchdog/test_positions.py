from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.watchdog.positions import (
    BadPosition,
    binlog_lag_bytes,
    binlog_ordinal,
    format_lsn,
    parse_lsn,
)


def test_lsn_text_is_the_wal_byte_position() -> None:
    assert parse_lsn("0/0") == 0
    assert parse_lsn("16/B374D848") == (0x16 << 32) + 0xB374D848
    assert parse_lsn("1/0") - parse_lsn("0/FFFFFFFF") == 1


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_lsn_round_trips(value: int) -> None:
    assert parse_lsn(format_lsn(value)) == value


@pytest.mark.parametrize("text", ["", "16", "16/", "x/1", "1/2/3", "123456789/0"])
def test_malformed_lsns_are_refused(text: str) -> None:
    with pytest.raises(BadPosition):
        parse_lsn(text)


def test_binlog_coordinates_order_across_files() -> None:
    assert binlog_ordinal("mariadb-bin.000002", 4) > binlog_ordinal("mariadb-bin.000001", 900_000_000)
    assert binlog_ordinal("mariadb-bin.000002", 5) > binlog_ordinal("mariadb-bin.000002", 4)
    with pytest.raises(BadPosition):
        binlog_ordinal("mariadb-bin", 4)


def test_binlog_lag_within_one_file_and_across_files() -> None:
    logs = [("b.000001", 1000), ("b.000002", 500), ("b.000003", 300)]
    assert binlog_lag_bytes(("b.000003", 100), ("b.000003", 300), logs) == 200
    assert binlog_lag_bytes(("b.000001", 900), ("b.000003", 120), logs) == 100 + 500 + 120
    assert binlog_lag_bytes(("b.000003", 300), ("b.000003", 300), logs) == 0
    assert binlog_lag_bytes(("b.000003", 310), ("b.000003", 300), logs) == 0  # never negative
