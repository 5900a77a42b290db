"""The topic declaration and the co-partitioning check the worker runs at start."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from topologies.topics import PartitionsMismatch, Topics, TopicSettings, check_copartitioning, declare

DEFAULT = declare(TopicSettings())


def groups(topics: Topics) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for spec in topics.all():
        if spec.copartition_group:
            out.setdefault(spec.copartition_group, set()).add(spec.name)
    return out


def test_every_field_is_declared_once_with_a_unique_name() -> None:
    names = [spec.name for spec in DEFAULT.all()]
    assert len(names) == len(Topics.__dataclass_fields__) == len(set(names))


def test_copartition_groups_hold_the_join_sides() -> None:
    assert groups(DEFAULT) == {
        "fleet-join": {"fleet.activities.events", "fleet.host_activities.events"},
    }  # the enrich-pending table follows the unified topic: Faust checks its changelog itself


def test_roles_and_filters() -> None:
    assert {t.name for t in DEFAULT.reference()} == {
        "openframe.machines",
        "openframe.organizations",
        "openframe.tool_connections",
    }
    assert DEFAULT.enriched.role == "output" and DEFAULT.dead_letter.role == "dead_letter"
    assert DEFAULT.fleet_activities in DEFAULT.raw() and DEFAULT.unified not in DEFAULT.raw()
    assert len(DEFAULT.raw()) == 8
    assert all(t.role == "raw" for t in DEFAULT.raw())


def test_reference_topics_are_compacted_and_nothing_else_is() -> None:
    for spec in DEFAULT.all():
        compacted = spec.role == "reference"
        assert spec.compacted is compacted, spec.name
        assert (spec.config.get("cleanup.policy") == "compact") is compacted, spec.name


def test_partition_counts_follow_the_settings() -> None:
    topics = declare(TopicSettings(partitions=12, raw_partitions=3))
    assert {t.partitions for t in topics.raw()} == {3}
    assert topics.unified.partitions == topics.enriched.partitions == topics.dead_letter.partitions == 12


def test_prefix_is_applied_to_every_name() -> None:
    topics = declare(TopicSettings(prefix="eu1."))
    assert all(spec.name.startswith("eu1.") for spec in topics.all())
    assert [s.name.removeprefix("eu1.") for s in topics.all()] == [s.name for s in DEFAULT.all()]


def test_enriched_topic_is_keyed_by_tool_event_id() -> None:
    assert DEFAULT.enriched.key == "toolEventId"


def test_settings_reject_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        TopicSettings(partition=4)  # type: ignore[call-arg]


def test_matching_partition_counts_pass() -> None:
    check_copartitioning(DEFAULT, {spec.name: spec.partitions for spec in DEFAULT.all()})


def test_mismatch_in_a_group_refuses_to_start_and_names_the_topics() -> None:
    actual = {spec.name: 4 for spec in DEFAULT.all()}
    actual["fleet.host_activities.events"] = 6
    with pytest.raises(PartitionsMismatch) as caught:
        check_copartitioning(DEFAULT, actual)
    message = str(caught.value)
    assert "'fleet-join'" in message
    assert "fleet.host_activities.events=6" in message and "fleet.activities.events=4" in message
    assert "unified" not in message


def test_mismatch_between_different_groups_or_ungrouped_topics_is_fine() -> None:
    actual = {spec.name: 4 for spec in DEFAULT.all()}
    actual.update({"openframe.unified.events": 8, "openframe.dlq": 1})
    check_copartitioning(DEFAULT, actual)


def test_topics_absent_from_the_cluster_are_not_compared() -> None:
    check_copartitioning(DEFAULT, {"fleet.activities.events": 4, "openframe.unified.events": 2})
    check_copartitioning(DEFAULT, {})


def test_topics_of_another_prefix_are_not_compared() -> None:
    prefixed = declare(TopicSettings(prefix="x."))
    check_copartitioning(prefixed, {"fleet.activities.events": 1, "fleet.host_activities.events": 9})
    with pytest.raises(PartitionsMismatch):
        check_copartitioning(prefixed, {"x.fleet.activities.events": 1, "x.fleet.host_activities.events": 9})


@settings(max_examples=100, deadline=None)
@given(
    partitions=st.integers(1, 64),
    raw=st.integers(1, 64),
    prefix=st.sampled_from(["", "a.", "prod-"]),
    bump=st.data(),
)
def test_property_declared_groups_agree_and_any_single_change_is_caught(
    partitions: int, raw: int, prefix: str, bump: st.DataObject
) -> None:
    topics = declare(TopicSettings(partitions=partitions, raw_partitions=raw, prefix=prefix))
    declared = {spec.name: spec.partitions for spec in topics.all()}
    check_copartitioning(topics, declared)
    grouped = sorted(name for names in groups(topics).values() for name in names)
    victim = bump.draw(st.sampled_from(grouped))
    with pytest.raises(PartitionsMismatch):
        check_copartitioning(topics, {**declared, victim: declared[victim] + 1})
