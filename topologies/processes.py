"""`run --processes N`: N worker processes in one consumer group, supervised.

Every stage is keyed and partitioned, so Faust's assignor spreads the partitions over the processes;
when one dies its partitions move to the others after `worker.session_timeout`, and the supervisor
starts it again. Each process serves its own /metrics on `web_port + index`; only the first one
measures consumer lag (the group's lag is one figure, not one per process).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openframe_stream.settings import Settings

log = logging.getLogger(__name__)

_RESTART_BACKOFF_MAX = 30.0


def child_env(settings: Settings, index: int, base: Mapping[str, str]) -> dict[str, str]:
    """The environment of worker process `index`: one process, its own web port and instance id."""
    w = settings.worker
    env = dict(base)
    env["OFS_WORKER__PROCESSES"] = "1"
    env["OFS_WORKER__WEB_PORT"] = str(w.web_port + index)
    env["OFS_WORKER__MEASURE_LAG"] = "true" if index == 0 and w.measure_lag else "false"
    if w.instance_id:
        env["OFS_WORKER__INSTANCE_ID"] = f"{w.instance_id}-{index}"
    return env


def supervise(settings: Settings, loglevel: str, settings_file: Path | None = None) -> int:
    """Run `settings.worker.processes` workers until SIGTERM/SIGINT; restart any that dies."""
    count = settings.worker.processes
    command = [sys.executable, "-m", "openframe_stream", "run", "--no-bridge", "--loglevel", loglevel]
    base = dict(os.environ)
    if settings_file is not None:  # the children read the same file the parent was given
        base["OFS_SETTINGS_FILE"] = str(settings_file)
    envs = [child_env(settings, i, base) for i in range(count)]
    children: list[subprocess.Popen[bytes] | None] = [None] * count
    backoff = [1.0] * count
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while not stopping:
            for i in range(count):
                child = children[i]
                if child is not None and child.poll() is None:
                    continue
                if child is not None:
                    log.warning("worker %d exited with %s; starting it again in %.0fs", i, child.returncode,
                                backoff[i])
                    time.sleep(backoff[i])
                    backoff[i] = min(backoff[i] * 2, _RESTART_BACKOFF_MAX)
                children[i] = subprocess.Popen(command, env=envs[i])  # noqa: S603
            time.sleep(0.5)
    finally:
        for child in children:
            if child is not None and child.poll() is None:
                child.terminate()
        for child in children:
            if child is not None:
                try:
                    child.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    child.kill()
    return 0
