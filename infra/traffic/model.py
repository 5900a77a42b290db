"""The traffic model: which event comes next. Pure and seeded: the same estate, settings and seed
give the same sequence of actions for the same clock values, so it is unit-testable without any
server. The writer turns actions into I/O.

Rows a later action updates or deletes (a command run that finishes, an activity that is pruned)
are named by a `handle` the model hands out; the writer maps handles to database ids.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from infra.traffic import rows
from infra.traffic.estate import Device, Estate
from infra.traffic.settings import DEFAULT_MIX, TrafficSettings

_TOOL_ATTR: Final = {"fleet": "fleet_host_id", "tactical": "tactical_agent_id", "mesh": "mesh_node_id", "agent": None}
# Kinds that act on an earlier row: skipped (another kind is drawn) while none is open.
_NEEDS: Final = {
    "tactical.history.finish": "history",
    "tactical.audit.delete": "audit",
    "fleet.activity.delete": "activity",
}
_KEEP_FOR_DELETE: Final = 200  # how many recent audit/activity handles are candidates for a delete


@dataclass(frozen=True)
class Action:
    kind: str
    device: Device | None
    data: dict[str, Any]
    handle: int | None = None  # this action creates a row later actions refer to
    target: int | None = None  # the handle of the row this action updates or deletes


@dataclass
class _Open:
    history: deque[tuple[int, str]] = field(default_factory=deque)  # (handle, run type)
    audit: deque[int] = field(default_factory=lambda: deque(maxlen=_KEEP_FOR_DELETE))
    activity: deque[int] = field(default_factory=lambda: deque(maxlen=_KEEP_FOR_DELETE))


class TrafficModel:
    def __init__(self, estate: Estate, options: TrafficSettings, seed: int | None = None) -> None:
        unknown = sorted(set(options.mix) - set(DEFAULT_MIX))
        if unknown:
            raise ValueError(f"unknown traffic kinds {unknown}; known: {sorted(DEFAULT_MIX)}")
        self._estate = estate
        self._options = options
        self._rng = random.Random(seed)  # noqa: S311  # reproducible traffic, not secrets
        self._kinds = [k for k, w in options.mix.items() if w > 0]
        self._weights = [options.mix[k] for k in self._kinds]
        self._open = _Open()
        self._handles = 0
        self._passes: dict[tuple[int, int | None], bool] = {}
        self._builders: dict[str, Callable[[int], Action]] = {
            "tactical.audit": self._audit,
            "tactical.history.start": self._history_start,
            "tactical.history.finish": self._history_finish,
            "tactical.task": lambda now: self._simple("tactical.task", "tactical", rows.tactical_task, now),
            "tactical.audit.delete": lambda now: self._delete("tactical.audit.delete", self._open.audit),
            "fleet.activity": self._activity,
            "fleet.query_result": lambda now: self._simple("fleet.query_result", "fleet", rows.fleet_query_result, now),
            "fleet.policy": self._policy,
            "fleet.activity.delete": lambda now: self._delete("fleet.activity.delete", self._open.activity),
            "agent.command": lambda now: self._agent_result(now, script=False),
            "agent.script": lambda now: self._agent_result(now, script=True),
            "mesh.event": self._mesh,
        }

    def next(self, now_ms: int) -> Action:
        """The next action at time `now_ms` (epoch milliseconds)."""
        while True:
            kind = self._rng.choices(self._kinds, weights=self._weights)[0]
            need = _NEEDS.get(kind)
            if need is None or getattr(self._open, need):
                return self._builders[kind](now_ms)

    def device(self, tool: str) -> Device:
        """A device running `tool`; an orphan (no connection yet) with probability `orphan_share`."""
        attr = _TOOL_ATTR[tool]
        orphans = [d for d in self._estate.orphans if attr is None or getattr(d, attr) is not None]
        connected = [d for d in self._estate.connected if attr is None or getattr(d, attr) is not None]
        pool = orphans if orphans and (not connected or self._rng.random() < self._options.orphan_share) else connected
        return pool[self._rng.randrange(len(pool))]

    def _handle(self) -> int:
        self._handles += 1
        return self._handles

    def _simple(self, kind: str, tool: str, build: Callable[..., dict[str, Any]], now: int) -> Action:
        device = self.device(tool)
        return Action(kind, device, build(self._rng, device, now))

    def _audit(self, now: int) -> Action:
        device = self.device("tactical")
        handle = self._handle()
        self._open.audit.append(handle)
        return Action("tactical.audit", device, rows.tactical_audit(self._rng, device, now), handle=handle)

    def _history_start(self, now: int) -> Action:
        device = self.device("tactical")
        data = rows.tactical_history_start(self._rng, device, now)
        handle = self._handle()
        self._open.history.append((handle, data["type"]))
        return Action("tactical.history.start", device, data, handle=handle)

    def _history_finish(self, now: int) -> Action:
        handle, run_type = self._open.history.popleft()
        return Action("tactical.history.finish", None, rows.tactical_history_finish(self._rng, run_type), target=handle)

    def _delete(self, kind: str, candidates: deque[int]) -> Action:
        # The oldest row goes, as retention would prune it.
        return Action(kind, None, {}, target=candidates.popleft())

    def _activity(self, now: int) -> Action:
        # About a third of Fleet activities are global (a login, a live query): no host row.
        device = self.device("fleet") if self._rng.random() < 0.67 else None
        handle = self._handle()
        self._open.activity.append(handle)
        return Action("fleet.activity", device, rows.fleet_activity(self._rng, device, now), handle=handle)

    def _policy(self, now: int) -> Action:
        device = self.device("fleet")
        policy = self._rng.randrange(len(rows.POLICIES))
        previous = self._passes.get((policy, device.fleet_host_id))
        data = rows.fleet_policy(self._rng, device, now, previous) | {"policy": policy}
        self._passes[(policy, device.fleet_host_id)] = data["passes"]
        return Action("fleet.policy", device, data)

    def _agent_result(self, now: int, script: bool) -> Action:
        device = self.device("agent")
        payload = rows.agent_result(self._rng, device, now, script, self._estate.tenant_id)
        kind = "agent.script" if script else "agent.command"
        suffix = "script-execution.result" if script else "command-execution.result"
        return Action(kind, device, {"subject": f"machine.{device.machine_id}.{suffix}", "payload": payload})

    def _mesh(self, now: int) -> Action:
        device = self.device("mesh")
        return Action("mesh.event", device, rows.mesh_event(self._rng, device, now))
