"""One observation of a connector in, a verdict and the healing actions out (pure).

Healing goes in steps, each only when the one before did not bring progress back:
1. the stall is seen: restart the connector's tasks (Connect stops the old task, starts a new one);
2. after `settle_seconds`, on PostgreSQL, if the slot is still held by a replication backend of this
   connector (Debezium's application name, the connector's user) that started *before* that restart,
   it belongs to no live task: terminate that one backend. The live task takes the slot on its own next
   try (Debezium retries it every `slot.retry.delay.ms`); restarting it here would only start it over;
3. still stalled `retry_seconds` later: restart again, the wait doubling up to `backoff_max_seconds`.
Progress after an action ends the episode. FAILED tasks are restarted too, with the same backoff.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal

from connectors.settings import WatchdogSettings
from connectors.watchdog.progress import Sample, Tracker, is_stalled, observe, stalled_for

# The application name Debezium's PostgreSQL connector gives its replication connection (3.x).
DEBEZIUM_STREAMING = "Debezium Streaming"

Kind = Literal["postgres", "mariadb"]
_QUIET_STATES = frozenset({"ABSENT", "PAUSED", "STOPPED"})


@dataclass(frozen=True)
class Backend:
    """A PostgreSQL backend, as `pg_stat_activity` shows it."""

    pid: int
    application_name: str
    user: str
    started_at: float  # backend_start, epoch seconds
    state: str = ""


@dataclass(frozen=True)
class Observation:
    connector: str
    kind: Kind
    connector_state: str  # Connect's state, or ABSENT
    tasks: tuple[tuple[int, str], ...]  # (task id, Connect's state)
    sample: Sample | None  # None: the source could not be read
    slot: str = ""  # PostgreSQL: the connector's replication slot
    user: str = ""  # the user the connector's task connects as
    holder: Backend | None = None  # PostgreSQL: the backend holding the slot, if any
    snapshot: bool = False  # the connector's offset says it is taking a snapshot
    error: str = ""  # why the source could not be read


@dataclass(frozen=True)
class RestartTask:
    connector: str
    task: int


@dataclass(frozen=True)
class TerminateBackend:
    """End one replication backend; the probe re-checks slot, pid, user and name when it acts."""

    connector: str
    slot: str
    backend: Backend


Action = RestartTask | TerminateBackend


@dataclass(frozen=True)
class Health:
    """What the watchdog remembers of one connector."""

    tracker: Tracker = field(default_factory=Tracker)
    acted_at: float | None = None  # when the current episode's last action (restart or terminate) was taken
    actions: int = 0  # actions in the current episode
    terminated: bool = False  # the last action ended a backend (the next one is a restart)


@dataclass(frozen=True)
class Verdict:
    connector: str
    state: str  # ok | stalled | failed | <Connect state> | unreadable | snapshot
    stalled: bool
    stalled_seconds: float
    lag_bytes: int
    position_age: float  # seconds since the task's position last moved
    actions: tuple[Action, ...] = ()
    why: str = ""


def decide(health: Health, obs: Observation, now: float, policy: WatchdogSettings) -> tuple[Health, Verdict]:
    tracker = observe(health.tracker, obs.sample) if obs.sample is not None else health.tracker
    if health.acted_at is not None and tracker.moved_at is not None and tracker.moved_at > health.acted_at:
        health = Health(tracker=tracker)  # progress since our last action: the episode is over
    else:
        health = replace(health, tracker=tracker)
    age = now - tracker.moved_at if tracker.moved_at is not None else 0.0

    def verdict(state: str, stalled: bool = False, actions: tuple[Action, ...] = (), why: str = "") -> Verdict:
        seconds = stalled_for(tracker, now) if stalled else 0.0
        return Verdict(obs.connector, state, stalled, seconds, tracker.lag_bytes, age, actions, why)

    if obs.connector_state in _QUIET_STATES:
        return health, verdict(obs.connector_state, why="not expected to move")
    task_ids = tuple(task for task, _ in obs.tasks) or (0,)
    failed = tuple(task for task, state in obs.tasks if state == "FAILED")
    if failed:
        if _due(health, now, policy):
            restarts = tuple(RestartTask(obs.connector, t) for t in failed)
            return _acted(health, now), verdict("failed", actions=restarts, why="task FAILED")
        return health, verdict("failed", why="task FAILED; waiting before the next restart")
    if obs.sample is None:
        return health, verdict("unreadable", why=f"source unreadable: {obs.error}"[:300])
    if obs.snapshot:
        return health, verdict("snapshot", why="snapshot in progress")
    if not is_stalled(tracker, now, policy.stall_seconds, policy.min_lag_bytes):
        return health, verdict("ok")
    restart_all = tuple(RestartTask(obs.connector, t) for t in task_ids)
    if health.actions == 0:
        return _acted(health, now), verdict("stalled", True, restart_all, "stalled: restart tasks")
    holder = obs.holder
    since = now - health.acted_at if health.acted_at is not None else math.inf
    if holder is not None and since >= policy.settle_seconds and _stale(holder, obs, health):
        why = f"slot {obs.slot} held by backend {holder.pid}, older than the last task restart"
        ended = (TerminateBackend(obs.connector, obs.slot, holder),)
        return _acted(health, now, terminated=True), verdict("stalled", True, ended, why)
    if _due(health, now, policy):
        return _acted(health, now), verdict("stalled", True, restart_all, "still stalled: restart")
    return health, verdict("stalled", True, why="stalled; waiting for the last action to take effect")


def _stale(holder: Backend, obs: Observation, health: Health) -> bool:
    """The holder is this connector's kind of connection, and no live task's: it predates our last action."""
    started_before = health.acted_at is not None and holder.started_at < health.acted_at
    return not health.terminated and is_connector_backend(holder, obs) and started_before


def is_connector_backend(holder: Backend, obs: Observation) -> bool:
    """A Debezium replication connection as this connector's user (the probe matched it by slot)."""
    return obs.kind == "postgres" and holder.application_name == DEBEZIUM_STREAMING and holder.user == obs.user


def _due(health: Health, now: float, policy: WatchdogSettings) -> bool:
    if health.acted_at is None:
        return True
    wait = min(policy.retry_seconds * (1 << max(health.actions - 1, 0)), policy.backoff_max_seconds)
    return now - health.acted_at >= wait


def _acted(health: Health, now: float, terminated: bool = False) -> Health:
    return replace(health, acted_at=now, actions=health.actions + 1, terminated=terminated)
