from __future__ import annotations

from connectors.connect import state_rows, validation_errors
from connectors.diff import MASK, diff_configs, render_diff
from connectors.specs import is_secret


def test_diff_of_equal_configs_is_empty_and_ignores_connects_name_key() -> None:
    assert diff_configs({"a": "1", "name": "x"}, {"a": "1"}) == []


def test_diff_lists_added_removed_and_changed_keys_in_order() -> None:
    changes = diff_configs({"a": "1", "b": "2"}, {"b": "3", "c": "4"})
    assert [(c.key, c.kind, c.old, c.new) for c in changes] == [
        ("a", "removed", "1", None),
        ("b", "changed", "2", "3"),
        ("c", "added", None, "4"),
    ]


def test_a_missing_connector_diffs_as_all_added() -> None:
    assert [c.kind for c in diff_configs(None, {"a": "1", "b": "2"})] == ["added", "added"]


def test_rendered_diff_masks_secrets() -> None:
    changes = diff_configs({"database.password": "old-secret"}, {"database.password": "new-secret", "x": "1"})
    lines = render_diff(changes, is_secret)
    assert lines == [f"~ database.password: {MASK} -> {MASK}", "+ x = '1'"]
    assert not any("secret" in line for line in lines)


def test_validation_errors_are_grouped_by_field() -> None:
    body = {
        "error_count": 2,
        "configs": [
            {"value": {"name": "topic.prefix", "errors": ["must not be empty"]}},
            {"value": {"name": "tasks.max", "errors": []}},
            {"value": {"name": "database.port", "errors": ["not a number"]}},
        ],
    }
    assert validation_errors(body) == {"topic.prefix": ["must not be empty"], "database.port": ["not a number"]}


def test_state_rows_show_tasks_traces_and_silently_dead_connectors() -> None:
    status = {
        "connector": {"state": "RUNNING", "worker_id": "w:8083"},
        "tasks": [
            {"id": 1, "state": "FAILED", "worker_id": "w:8083", "trace": "boom\n at x"},
            {"id": 0, "state": "RUNNING"},
        ],
    }
    rows = state_rows("c", status)
    assert [(r.unit, r.state, r.trace) for r in rows] == [
        ("connector", "RUNNING", ""),
        ("task 0", "RUNNING", ""),
        ("task 1", "FAILED", "boom"),
    ]
    assert [r.state for r in state_rows("c", {"connector": {"state": "RUNNING"}, "tasks": []})] == ["RUNNING", "NONE"]
    assert [r.state for r in state_rows("c", None)] == ["ABSENT"]


class _FakeConnect:
    def __init__(self) -> None:
        self.stored: dict[str, dict[str, str]] = {}
        self.puts = 0

    def config(self, name: str) -> dict[str, str] | None:
        return self.stored.get(name)

    def put_config(self, name: str, config: dict[str, str]) -> dict[str, object]:
        self.puts += 1
        self.stored[name] = dict(config)
        return {}


def test_apply_writes_once_and_is_idempotent_and_dry_run_writes_nothing() -> None:
    from connectors.connect import apply
    from connectors.specs import connectors_for
    from openframe_stream.settings import Settings

    (fleet,) = connectors_for(Settings.load(), ["fleet-mariadb"])
    client = _FakeConnect()
    dry = apply(client, fleet, dry_run=True)  # type: ignore[arg-type]
    assert dry.created and dry.changes and not dry.written and client.puts == 0
    first = apply(client, fleet)  # type: ignore[arg-type]
    assert first.created and first.written and client.puts == 1
    second = apply(client, fleet)  # type: ignore[arg-type]
    assert second.changes == [] and not second.written and client.puts == 1
    client.stored["fleet-mariadb"]["snapshot.mode"] = "never"
    drifted = apply(client, fleet)  # type: ignore[arg-type]
    assert [(c.key, c.old, c.new) for c in drifted.changes] == [("snapshot.mode", "never", "initial")]
    assert client.puts == 2
