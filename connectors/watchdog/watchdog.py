"""The watchdog loop: observe every watched connector, decide, act, export. A thin shell over
`decide`; every judgement lives there."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from connectors.connect import ConnectClient
from connectors.settings import WatchdogSettings
from connectors.specs import Connector
from connectors.watchdog import probes
from connectors.watchdog.decide import Action, Health, RestartTask, TerminateBackend, Verdict, decide
from connectors.watchdog.metrics import WatchdogMetrics
from connectors.watchdog.probes import Target
from openframe_stream.errors import PlatformError

log = logging.getLogger("openframe.watchdog")


def targets_of(connectors: Iterable[Connector]) -> list[Target]:
    """The connectors the watchdog can judge (PostgreSQL and MariaDB), as probe targets."""
    return [t for t in (Target.of(c) for c in connectors) if t is not None]


class Watchdog:
    def __init__(
        self,
        targets: list[Target],
        client: ConnectClient,
        policy: WatchdogSettings,
        metrics: WatchdogMetrics | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.targets = targets
        self.policy = policy
        self.metrics = metrics or WatchdogMetrics()
        self.health = {t.name: Health() for t in targets}
        self.taken: list[Action] = []  # every action taken, in order (for reports and tests)
        self._client = client
        self._clock = clock

    def tick(self) -> list[Verdict]:
        """One look at every target; acts on what `decide` asks for. Returns the verdicts."""
        verdicts = []
        for target in self.targets:
            now = self._clock()
            try:
                observation = probes.observe(target, self._client, now)
            except PlatformError as exc:  # Connect itself unreachable: nothing to judge this round
                log.warning("%s: cannot observe: %s", target.name, exc)
                continue
            health, verdict = decide(self.health[target.name], observation, now, self.policy)
            self.health[target.name] = health
            for action in verdict.actions:
                self._act(target, action, verdict)
            self.metrics.record(verdict)
            verdicts.append(verdict)
        return verdicts

    def _act(self, target: Target, action: Action, verdict: Verdict) -> None:
        if isinstance(action, TerminateBackend):
            if not self.policy.terminate_stale_backends:
                log.warning("%s: %s (terminate_stale_backends is off: left alone)", target.name, verdict.why)
                return
            try:
                ended = probes.terminate(target, action.backend)
            except Exception as exc:  # noqa: BLE001 - a failed heal is logged; the next round tries again
                log.error("%s: could not end backend %d: %s", target.name, action.backend.pid, exc)
                return
            log.warning("%s: %s: %s", target.name, verdict.why, "ended" if ended else "already gone")
        elif isinstance(action, RestartTask):
            try:
                found = self._client.restart_task(action.connector, action.task)
            except PlatformError as exc:
                log.error("%s: could not restart task %d: %s", target.name, action.task, exc)
                return
            log.warning(
                "%s: %s (lag %d bytes, %.0fs): task %d %s",
                target.name, verdict.why, verdict.lag_bytes, verdict.stalled_seconds, action.task,
                "restarted" if found else "not found",
            )
        self.taken.append(action)
        self.metrics.acted(action)

    def run(self, stop: threading.Event) -> None:
        """Tick every `interval_seconds` until `stop` is set."""
        while True:
            began = self._clock()
            self.tick()
            if stop.wait(max(self.policy.interval_seconds - (self._clock() - began), 0.0)):
                return
