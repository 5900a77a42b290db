"""The loop's shell: it acts on what `decide` asks for, and on nothing else (sources faked)."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.settings import WatchdogSettings
from connectors.watchdog import probes
from connectors.watchdog.decide import DEBEZIUM_STREAMING, Backend, Observation, RestartTask, TerminateBackend
from connectors.watchdog.probes import Target
from connectors.watchdog.progress import Sample
from connectors.watchdog.watchdog import Watchdog

TARGET = Target("tactical", "postgres", "127.0.0.1", 5432, "debezium", "dbz", "tacticalrmm", "slot_a")
STALE = Backend(7, DEBEZIUM_STREAMING, "debezium", started_at=-5.0)


class FakeConnect:
    def __init__(self) -> None:
        self.restarted: list[tuple[str, int]] = []

    def restart_task(self, name: str, task: int) -> bool:
        self.restarted.append((name, task))
        return True


@pytest.mark.parametrize("terminate", [True, False])
def test_the_loop_restarts_and_ends_only_what_decide_names(monkeypatch: pytest.MonkeyPatch, terminate: bool) -> None:
    clock = [0.0]
    ended: list[int] = []

    def observe(target: Target, client: Any, now: float) -> Observation:
        sample = Sample(now, 1000 + int(now) * 100, 1000, int(now) * 100)
        holder = None if ended else STALE  # once ended, the slot is free (and the task stays stuck here)
        return Observation(target.name, "postgres", "RUNNING", ((0, "RUNNING"),), sample, target.slot,
                           target.user, holder)

    monkeypatch.setattr(probes, "observe", observe)
    monkeypatch.setattr(probes, "terminate", lambda target, backend: ended.append(backend.pid) or True)
    client = FakeConnect()
    policy = WatchdogSettings(stall_seconds=10, settle_seconds=5, retry_seconds=5, terminate_stale_backends=terminate)
    dog = Watchdog([TARGET], client, policy, clock=lambda: clock[0])  # type: ignore[arg-type]
    for second in range(0, 30):
        clock[0] = float(second)
        dog.tick()
    assert client.restarted[:2] == [("tactical", 0), ("tactical", 0)]
    assert ended == ([7] if terminate else [])
    kinds = [type(a) for a in dog.taken]
    assert (TerminateBackend in kinds) is terminate and RestartTask in kinds
