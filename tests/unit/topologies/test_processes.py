"""`run --processes N`: each child is one process with its own web port and instance id; only the
first one measures the group's lag."""

from __future__ import annotations

from openframe_stream.settings import Settings
from topologies.processes import child_env


def settings(**worker: object) -> Settings:
    base = Settings()
    return base.model_copy(update={"worker": base.worker.model_copy(update=worker)})


def test_each_child_runs_one_process_on_its_own_port() -> None:
    s = settings(processes=3, web_port=7000)
    envs = [child_env(s, i, {"PATH": "/bin", "OFS_WORKER__PROCESSES": "3"}) for i in range(3)]
    assert [e["OFS_WORKER__PROCESSES"] for e in envs] == ["1", "1", "1"]
    assert [e["OFS_WORKER__WEB_PORT"] for e in envs] == ["7000", "7001", "7002"]
    assert all(e["PATH"] == "/bin" for e in envs)


def test_only_the_first_child_measures_lag_and_only_if_asked() -> None:
    envs = [child_env(settings(processes=2), i, {}) for i in range(2)]
    assert [e["OFS_WORKER__MEASURE_LAG"] for e in envs] == ["true", "false"]
    off = child_env(settings(processes=2, measure_lag=False), 0, {})
    assert off["OFS_WORKER__MEASURE_LAG"] == "false"


def test_static_instance_ids_stay_unique_per_child() -> None:
    s = settings(processes=2, instance_id="pod-a")
    assert [child_env(s, i, {})["OFS_WORKER__INSTANCE_ID"] for i in range(2)] == ["pod-a-0", "pod-a-1"]
    assert "OFS_WORKER__INSTANCE_ID" not in child_env(settings(processes=2), 0, {})
