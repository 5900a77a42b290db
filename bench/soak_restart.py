"""Kill -9 soak: restart an isolated worker mid-stream, again and again, and count the restarts that
did not end with every event stored exactly once and every offset committed.

A single kill -9 test passes or fails; a restart defect that bites one restart in four needs many.
Each run: a fresh isolated pipeline, `--events` agent results, kill -9 once `--kill-at` of them are
in Cassandra, produce `--while-dead` more, restart, then wait for all of them stored and for the
group's lag on its own topics to reach zero. The output is a failure count, not a speed target; the
restart times are printed to show where a restart waits.

    python -m bench.soak_restart --runs 6
    python -m bench.soak_restart --runs 8 --static     # with a static group instance id
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.integration.topologies.harness import Pipeline, days_ago, new_pipeline
from topologies.provision import ensure_topics


@dataclass
class Run:
    ok: bool
    first_s: float
    restart_s: float | None
    stored: int
    expected: int
    uncommitted: list[str]


def _poll(check: Callable[[], bool], timeout: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(0.25)
    return None


def _one(log_dir: Path, events: int, kill_at: float, while_dead: int, static: bool, timeout: float) -> Run:
    overrides = {"OFS_WORKER__INSTANCE_ID": "soak-worker"} if static else {}
    p: Pipeline = new_pipeline(log_dir, **overrides)
    s = p.settings
    ensure_topics(s.kafka.bootstrap_servers, p.topics, 1)
    day = days_ago(50)
    base, ingest_day = int(day.timestamp() * 1000), day.strftime("%Y-%m-%d")
    total = events + while_dead
    try:
        p.start()
        p.send_agent_results("soak", 0, events, base, machines=50)
        first = _poll(lambda: p.stored_on(ingest_day) >= int(events * kill_at), timeout)
        first_s = first if first is not None else timeout
        p.kill()
        p.send_agent_results("soak", events, total, base, machines=50)
        restarted = time.monotonic()
        p.start()
        done = _poll(lambda: p.stored_on(ingest_day) >= total and not p.uncommitted(), timeout)
        restart_s = None if done is None else time.monotonic() - restarted
        count, lag = p.stored_on(ingest_day), p.uncommitted()
        return Run(done is not None and count == total, first_s, restart_s, count, total, lag)
    finally:
        p.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--kill-at", type=float, default=0.2, help="Fraction stored when the worker is killed.")
    parser.add_argument("--while-dead", type=int, default=200, help="Events produced while the worker is dead.")
    parser.add_argument("--static", action="store_true", help="Give the worker a static group instance id.")
    parser.add_argument("--timeout", type=float, default=240.0)
    args = parser.parse_args()

    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="ofs-soak-") as tmp:
        for i in range(args.runs):
            run = _one(Path(tmp), args.events, args.kill_at, args.while_dead, args.static, args.timeout)
            runs.append(run)
            restart = f"{run.restart_s:6.1f} s" if run.restart_s is not None else "  stuck"
            print(f"run {i + 1}: {'ok  ' if run.ok else 'FAIL'}  killed {run.first_s:5.1f} s after start, "
                  f"restart to all stored and committed {restart}, stored {run.stored}/{run.expected} "
                  f"{' '.join(run.uncommitted)}", flush=True)
    failed = [r for r in runs if not r.ok]
    recovered = [r.restart_s for r in runs if r.restart_s is not None]
    print(f"\n{len(failed)} of {len(runs)} restarts failed ({'static' if args.static else 'dynamic'} membership)")
    if recovered:
        print(f"restart to all stored and committed: median {statistics.median(recovered):.1f} s "
              f"(max {max(recovered):.1f} s)")


if __name__ == "__main__":
    main()
