"""Property: whatever arrives (any JSON, any bytes, truncated or mutated envelopes), `normalize`
returns mapped, skipped or dead_letter and never raises; every mapped event serializes and is a
valid `UnifiedEvent`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.event_model import UnifiedEvent
from pipelines.normalize import normalize
from pipelines.records import DeadLetter, Mapped, RawRecord, Skipped
from pipelines.settings import DEFAULT_MESSAGE_TYPES, DEFAULT_TOPIC_SOURCES, PipelineSettings

SETTINGS = PipelineSettings()
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mappers"
INPUTS = [json.loads(p.read_text()) for p in sorted(FIXTURES.glob("*/*.input.json"))]
PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=20,
)
topics = st.sampled_from([*DEFAULT_TOPIC_SOURCES, "random.topic"])
headers = st.one_of(
    st.just({}),
    st.builds(lambda v: {"message-type": v}, st.sampled_from([*DEFAULT_MESSAGE_TYPES, "fleet.activities", "bogus"])),
    st.dictionaries(st.text(max_size=12), st.text(max_size=12), max_size=3),
)


def check(record: RawRecord) -> None:
    out = normalize(record, SETTINGS)
    assert isinstance(out, Mapped | Skipped | DeadLetter)
    if isinstance(out, Mapped):
        orjson.dumps(out.event)
        UnifiedEvent.model_validate(out.event)


@PROFILE
@given(topics, headers, json_values)
def test_any_json(topic: str, hdrs: dict[str, str], value: Any) -> None:
    check(RawRecord(topic, hdrs, None, orjson.dumps(value)))
    if isinstance(value, dict):
        check(RawRecord(topic, hdrs, None, value))


@PROFILE
@given(topics, headers, st.binary(max_size=200))
def test_any_bytes(topic: str, hdrs: dict[str, str], value: bytes) -> None:
    check(RawRecord(topic, hdrs, None, value))


@PROFILE
@given(st.sampled_from(INPUTS), st.data())
def test_truncated_envelopes(case: dict[str, Any], data: st.DataObject) -> None:
    raw = orjson.dumps(case["value"])
    cut = data.draw(st.integers(min_value=0, max_value=len(raw)))
    check(RawRecord(case["topic"], case["headers"], None, raw[:cut]))


def _mutate(value: Any, path: list[int], replacement: Any) -> Any:
    """Replace one nested value (picked by `path`) with `replacement`."""
    if not path or not isinstance(value, dict | list) or not value:
        return replacement
    if isinstance(value, dict):
        key = list(value)[path[0] % len(value)]
        return {**value, key: _mutate(value[key], path[1:], replacement)}
    index = path[0] % len(value)
    return [*value[:index], _mutate(value[index], path[1:], replacement), *value[index + 1 :]]


@PROFILE
@given(st.sampled_from(INPUTS), st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=5), json_values)
def test_mutated_envelopes(case: dict[str, Any], path: list[int], replacement: Any) -> None:
    check(RawRecord(case["topic"], case["headers"], None, orjson.dumps(_mutate(case["value"], path, replacement))))
