"""Deterministic event ids, identical to the reference platform's.

`toolEventId` is the MD5 name-based UUID (version 3) of `"<tool>_<table>_id_<pk>"` with **no
namespace**, i.e. Java's `UUID.nameUUIDFromBytes`; in Python that is
`uuid.UUID(bytes=md5(name).digest(), version=3)`, *not* `uuid.uuid3(namespace, name)`.

A record without a primary key gets `"<tool>_<table>_hash_<h>"` instead, where `h` is the first
16 hex digits of the SHA-256 of the row's canonical JSON (keys sorted, no whitespace). The
reference hashed with the JVM's `Objects.hash`, which cannot be reproduced; ours is stable across
processes and versions, so a redelivered key-less row still gets the same id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

try:  # CPython's own MD5 is about twice as fast as OpenSSL's for short names (no EVP set-up)
    from _md5 import md5 as _fast_md5
except ImportError:  # pragma: no cover - builds without it
    _fast_md5 = hashlib.md5

# The variant nibble (IETF, 10xx) for each hex digit of the MD5: done on the hex text, which is
# about twice as fast as going through bytes or a uuid.UUID object on the hot path.
_VARIANT = {f"{n:x}": f"{(n & 0x3) | 0x8:x}" for n in range(16)}


def name_uuid(name: str) -> str:
    """`UUID.nameUUIDFromBytes(name.getBytes(UTF_8)).toString()`, without building a UUID object."""
    h = _fast_md5(name.encode()).hexdigest()  # a name-based id, not security
    return f"{h[:8]}-{h[8:12]}-3{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


def tool_event_id(tool: str, table: str, pk: str) -> str:
    """Id of a row with a primary key; `tool` is lower case (fleet, meshcentral, tactical, rmm)."""
    return name_uuid(f"{tool}_{table}_id_{pk}")


def row_hash(row: Mapping[str, Any]) -> str:
    """First 16 hex digits of the SHA-256 of the row's canonical JSON."""
    canonical = orjson.dumps(row, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.sha256(canonical).hexdigest()[:16]


def hashed_event_id(tool: str, table: str, row: Mapping[str, Any]) -> str:
    """Id of a row without a primary key (see the module docstring)."""
    return name_uuid(f"{tool}_{table}_hash_{row_hash(row)}")
