from __future__ import annotations

from dataclasses import replace

from connectors.settings import WatchdogSettings
from connectors.watchdog.decide import (
    DEBEZIUM_STREAMING,
    Backend,
    Health,
    Observation,
    RestartTask,
    TerminateBackend,
    Verdict,
    decide,
)
from connectors.watchdog.progress import Sample

POLICY = WatchdogSettings(stall_seconds=30, settle_seconds=10, retry_seconds=10, backoff_max_seconds=40)
STALE = Backend(pid=4242, application_name=DEBEZIUM_STREAMING, user="debezium", started_at=-1000.0, state="active")


def _obs(at: float, source: int, task: int, holder: Backend | None = None, **over: object) -> Observation:
    base = Observation(
        connector="tactical",
        kind="postgres",
        connector_state="RUNNING",
        tasks=((0, "RUNNING"),),
        sample=Sample(at, source, task, source - task),
        slot="slot_a",
        user="debezium",
        holder=holder,
    )
    return replace(base, **over)  # type: ignore[arg-type]


def _timeline(points: list[Observation]) -> list[Verdict]:
    health, verdicts = Health(), []
    for obs in points:
        assert obs.sample is not None
        health, verdict = decide(health, obs, obs.sample.at, POLICY)
        verdicts.append(verdict)
    return verdicts


def _stuck(start: int, stop: int, holder: Backend | None = STALE) -> list[Observation]:
    """The source grows by 100 bytes a second; the slot's position stays at 1000."""
    return [_obs(t, 1000 + 100 * t, 1000, holder) for t in range(start, stop)]


def test_a_healthy_connector_gets_no_action() -> None:
    verdicts = _timeline([_obs(t, 1000 + 100 * t, 900 + 100 * t) for t in range(0, 120)])
    assert {v.state for v in verdicts} == {"ok"}
    assert not any(v.actions for v in verdicts)


def test_a_stall_restarts_the_task_then_ends_only_a_stale_holder() -> None:
    verdicts = _timeline([_obs(0, 1000, 1000, STALE), *_stuck(1, 80)])
    acted = [(i + 0, v.actions) for i, v in enumerate(verdicts) if v.actions]
    # t=1: the source moves on; t=31: stalled for 30 s -> restart the task.
    assert acted[0] == (31, (RestartTask("tactical", 0),))
    # 10 s later the holder is still there and predates that restart: end it (and only it). The live task
    # takes the slot on its own next try; a restart now would only start it over.
    assert acted[1] == (41, (TerminateBackend("tactical", "slot_a", STALE),))
    # Still stalled (the fake holder never goes away): restart after retry_seconds x 2, then nothing stale is left.
    assert acted[2] == (61, (RestartTask("tactical", 0),))
    assert verdicts[31].stalled and verdicts[31].stalled_seconds == 30
    assert verdicts[31].lag_bytes == 3100


def test_a_holder_started_after_the_restart_is_the_live_task_and_is_left_alone() -> None:
    health = Health()
    for obs in [_obs(0, 1000, 1000), *_stuck(1, 32, holder=None)]:
        assert obs.sample is not None
        health, verdict = decide(health, obs, obs.sample.at, POLICY)
    assert verdict.actions == (RestartTask("tactical", 0),)
    actions = []
    for t in range(32, 120):
        # The slot is held by the connection of the task started by the latest restart, itself stuck.
        live = replace(STALE, started_at=(health.acted_at or 0) + 2)
        health, verdict = decide(health, _obs(t, 1000 + 100 * t, 1000, live), t, POLICY)
        actions.extend(verdict.actions)
    assert not any(isinstance(a, TerminateBackend) for a in actions)
    # Restarts back off: 10 s, then 20 s, then 40 s (capped at backoff_max_seconds).
    assert len(actions) == 3


def test_only_a_debezium_connection_of_the_connectors_user_is_ever_ended() -> None:
    for holder in (replace(STALE, application_name="pg_recvlogical"), replace(STALE, user="someone_else")):
        verdicts = _timeline([_obs(0, 1000, 1000), *_stuck(1, 80, holder=holder)])
        assert not any(isinstance(a, TerminateBackend) for v in verdicts for a in v.actions)
    mariadb = [replace(o, kind="mariadb") for o in [_obs(0, 1000, 1000), *_stuck(1, 80)]]
    assert not any(isinstance(a, TerminateBackend) for v in _timeline(mariadb) for a in v.actions)


def test_progress_after_an_action_ends_the_episode() -> None:
    health = Health()
    for obs in [_obs(0, 1000, 1000), *_stuck(1, 32)]:
        assert obs.sample is not None
        health, _ = decide(health, obs, obs.sample.at, POLICY)
    assert health.actions == 1
    health, verdict = decide(health, _obs(33, 4300, 4200), 33, POLICY)  # the slot moved
    assert health.actions == 0 and health.acted_at is None
    assert verdict.state == "ok" and not verdict.stalled


def test_quiet_states_snapshots_and_unreadable_sources_are_never_acted_on() -> None:
    for over in ({"connector_state": "PAUSED"}, {"snapshot": True}, {"connector_state": "ABSENT", "tasks": ()}):
        verdicts = _timeline([replace(o, **over) for o in [_obs(0, 1000, 1000), *_stuck(1, 80)]])  # type: ignore[arg-type]
        assert not any(v.actions for v in verdicts)
    health, verdict = decide(Health(), replace(_obs(0, 1, 1), sample=None), 0, POLICY)
    assert verdict.state == "unreadable" and not verdict.actions


def test_failed_tasks_are_restarted_with_backoff() -> None:
    failed = [_obs(t, 1000, 1000, tasks=((0, "RUNNING"), (1, "FAILED"))) for t in range(0, 60)]
    verdicts = _timeline(failed)
    restarts = [(i, v.actions) for i, v in enumerate(verdicts) if v.actions]
    assert restarts == [(0, (RestartTask("tactical", 1),)), (10, (RestartTask("tactical", 1),)),
                        (30, (RestartTask("tactical", 1),))]
    assert {v.state for v in verdicts} == {"failed"}
