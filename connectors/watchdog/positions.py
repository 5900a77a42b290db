"""Source positions as ordered integers: PostgreSQL LSNs and MariaDB binlog coordinates (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from openframe_stream.errors import PlatformError

_LSN = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")
_BINLOG = re.compile(r"^(.*)\.(\d+)$")
# Binlog files are capped at 1 GiB (max_binlog_size), so a file's sequence number times 2^32 plus the
# offset in it orders every coordinate of one server.
_FILE_SPAN = 1 << 32


class BadPosition(PlatformError):
    """A position string the source would never produce."""


def parse_lsn(text: str) -> int:
    """`16/B374D848` -> the byte position in the WAL."""
    match = _LSN.match(text.strip())
    if match is None:
        raise BadPosition(f"not a PostgreSQL LSN: {text!r}")
    return (int(match.group(1), 16) << 32) | int(match.group(2), 16)


def format_lsn(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


def binlog_sequence(name: str) -> int:
    """`mariadb-bin.000012` -> 12."""
    match = _BINLOG.match(name)
    if match is None:
        raise BadPosition(f"not a binlog file name: {name!r}")
    return int(match.group(2))


def binlog_ordinal(name: str, pos: int) -> int:
    """A binlog coordinate as one integer that orders like the binlog."""
    return binlog_sequence(name) * _FILE_SPAN + pos


def binlog_lag_bytes(offset: tuple[str, int], head: tuple[str, int], logs: Sequence[tuple[str, int]]) -> int:
    """Bytes of binlog between a connector's offset and the server's head.

    `logs` is `SHOW BINARY LOGS` (name, size). Files the server no longer lists count as empty:
    a connector that far behind has lost its position anyway, and Debezium fails on it.
    """
    (offset_file, offset_pos), (head_file, head_pos) = offset, head
    start, end = binlog_sequence(offset_file), binlog_sequence(head_file)
    if (start, offset_pos) >= (end, head_pos):
        return 0
    if start == end:
        return head_pos - offset_pos
    sizes = {binlog_sequence(name): size for name, size in logs}
    between = sum(sizes.get(seq, 0) for seq in range(start + 1, end))
    return max(sizes.get(start, offset_pos) - offset_pos, 0) + between + head_pos
