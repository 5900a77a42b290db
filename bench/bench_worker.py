"""Worker benchmark on the real stack: each stage alone, the whole pipeline in one and in two
processes, and end-to-end latency at a steady rate, each against a baseline measured in the same run.

- Throughput baseline: a plain confluent-kafka consume -> produce pass-through of the same raw
  records (no parsing): the cost of just moving them through Kafka on this machine.
- Latency baseline: Kafka produce -> consume round trip, one record at a time.

Run: .venv/bin/python -m bench.bench_worker [--count 30000] [--rate 500] [--seconds 20] [--parts ...] [--json]
(the stack must be up: `openframe-stream stack up`). With --json the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from bench import worker_runs as runs
from bench.bench_normalize import generate
from pipelines.enrich import stream_key
from tests.integration.topologies.harness import Pipeline, new_pipeline
from topologies.provision import ensure_topics


def _pipeline(log_dir: Path, connections: list[dict[str, Any]], **env: str) -> Pipeline:
    """A fresh isolated pipeline whose reference data knows every agent of the records (the steady
    state: a miss is the exception, kept and retried until its row comes)."""
    p = new_pipeline(log_dir, OFS_FLEET_JOIN__JOIN_WAIT_SECONDS="0.2", **env)
    ensure_topics(p.settings.kafka.bootstrap_servers, p.topics, 1)
    p.seed_reference(organizations=[runs.ORG], machines=[runs.MACHINE], connections=connections)
    return p


def _run(log_dir: Path, connections: list[dict[str, Any]], env: dict[str, str], feed: Callable[[Pipeline], int],
         counted: Callable[[Pipeline], float]) -> tuple[float, float, dict[str, float]]:
    """A fresh isolated pipeline: feed it, start the worker, time the drain.
    Returns the rate, the worker's RSS in MiB (children included) and the cores each process used."""
    p = _pipeline(log_dir, connections, **env)
    try:
        expected = feed(p)
        p.start()
        assert p.proc is not None
        cpu = runs.CpuShares(p, p.proc.pid)
        rate = runs.drain_rate(p, lambda: counted(p), expected, cpu=cpu)
        return rate, runs.rss_mib(p.proc.pid), cpu.stop()
    finally:
        p.cleanup()


PARTS = ("pipeline", "2proc", "normalize", "enrich", "sink")


def _note(what: str, value: float, unit: str) -> None:
    print(f"  {what}: {value:,.1f} {unit}", file=sys.stderr, flush=True)  # progress while the run goes on


def measure(args: argparse.Namespace) -> dict[str, Any]:
    log_dir = Path(tempfile.mkdtemp(prefix="bench-worker-"))
    print(f"worker logs in {log_dir}", file=sys.stderr)
    records = generate(args.count, seed=7)
    out: dict[str, Any] = {"records": len(records)}
    parts = set(args.parts)
    connections = runs.connections_for(records)

    def feed_raw(p: Pipeline) -> int:
        runs.produce(p, runs.raw_rows(p, records))
        return len(runs.unified_events(p, records))

    # The baseline first, then the whole pipeline on the same raw records.
    p = _pipeline(log_dir, connections)
    try:
        mapped = feed_raw(p)
        raw_topics = sorted({p.settings.topics.prefix + r.topic for r in records})
        out["passthrough_records_per_s"] = runs.passthrough_rate(p, raw_topics, len(records))
        _note("baseline pass-through", out["passthrough_records_per_s"], "records/s")
        out["mapped_events"] = mapped
        if "pipeline" in parts:
            p.start()
            assert p.proc is not None
            cpu = runs.CpuShares(p, p.proc.pid)
            out["pipeline_events_per_s"] = runs.drain_rate(
                p, lambda: p.metric("openframe_records_out_total", stage="sink"), mapped, cpu=cpu)
            out["pipeline_cpu_cores"] = cpu.stop()
            _note("pipeline, 1 process", out["pipeline_events_per_s"], "events/s")
            assert p.proc is not None
            out["worker_rss_mib"] = runs.rss_mib(p.proc.pid)
            rtt = runs.kafka_round_trip(p, args.rtt_samples)
            cassandra, pinot = runs.steady_latency(p, args.rate, args.seconds, args.samples)
            out["latency_ms"] = {
                name: {"p50": pct(values, 0.5) * 1000, "p99": pct(values, 0.99) * 1000, "n": len(values)}
                for name, values in (("cassandra", cassandra), ("pinot", pinot), ("kafka_roundtrip", rtt))}
            out["latency_rate_per_s"] = args.rate
            _note("latency Cassandra p99", out["latency_ms"]["cassandra"]["p99"], "ms")
    finally:
        p.cleanup()

    if "2proc" in parts:
        out["pipeline_2proc_events_per_s"], out["worker_2proc_rss_mib"], out["pipeline_2proc_cpu_cores"] = _run(
            log_dir, connections, {"OFS_WORKER__PROCESSES": "2"}, feed_raw,
            lambda p: p.metric("openframe_records_out_total", stage="sink"))
        _note("pipeline, 2 processes", out["pipeline_2proc_events_per_s"], "events/s")

    def feed_unified(p: Pipeline) -> int:
        events = runs.unified_events(p, records)
        runs.produce(p, [(p.topics.unified.name, stream_key(e).encode(), orjson.dumps(e), {}) for e in events])
        return len(events)

    def feed_enriched(p: Pipeline) -> int:
        events = runs.enriched_events(runs.unified_events(p, records))
        runs.produce(p, [(p.topics.enriched.name, str(e["toolEventId"]).encode(), orjson.dumps(e), {})
                         for e in events])
        return len(events)

    alone: list[tuple[str, str, str, Callable[[Pipeline], int]]] = [  # part, stage, output key, input
        ("normalize", "normalize", "normalize", lambda p: _feed_normalize(p, records)),
        ("enrich", "enrich", "enrich", feed_unified),
        ("sink", "sink", "cassandra_sink", feed_enriched),
    ]
    for part, stage, key, feed in alone:
        if part not in parts:
            continue
        out[f"{key}_events_per_s"], _, out[f"{key}_cpu_cores"] = _run(
            log_dir, connections, {"OFS_WORKER__STAGES": f'["{stage}"]'}, feed,
            lambda p, stage=stage: p.metric("openframe_records_in_total", stage=stage))
        _note(f"{stage} alone", out[f"{key}_events_per_s"], "events/s")
    base = out["passthrough_records_per_s"]
    out["ratios_to_passthrough"] = {k.removesuffix("_per_s"): out[k] / base for k in (
        "normalize_events_per_s", "enrich_events_per_s", "cassandra_sink_events_per_s", "pipeline_events_per_s",
        "pipeline_2proc_events_per_s") if k in out}
    if "pipeline_events_per_s" in out and "pipeline_2proc_events_per_s" in out:
        out["scale_2proc"] = out["pipeline_2proc_events_per_s"] / out["pipeline_events_per_s"]
    return out


def _feed_normalize(p: Pipeline, records: list[Any]) -> int:
    joined = ("fleet.activities.events", "fleet.host_activities.events")
    rows = [row for row, r in zip(runs.raw_rows(p, records), records, strict=True) if r.topic not in joined]
    runs.produce(p, rows)
    return len(rows)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def show(out: dict[str, Any]) -> None:
    base = out["passthrough_records_per_s"]
    print(f"records: {out['records']} ({out['mapped_events']} map to events)")
    print(f"{'baseline kafka pass-through':36}: {base:10,.0f} records/s")
    for key, label in (("normalize_events_per_s", "normalize stage alone"),
                       ("enrich_events_per_s", "enrich stage alone"),
                       ("cassandra_sink_events_per_s", "Cassandra sink stage alone"),
                       ("pipeline_events_per_s", "pipeline, 1 process (raw->Cassandra)"),
                       ("pipeline_2proc_events_per_s", "pipeline, 2 processes")):
        if key in out:
            print(f"{label:36}: {out[key]:10,.0f} events/s  ({out[key] / base:.3f} x pass-through)")
    if "scale_2proc" in out:
        print(f"{'2 processes / 1 process':36}: {out['scale_2proc']:.2f}x")
    for key, label in (("worker_rss_mib", "worker RSS, 1 process"),
                       ("worker_2proc_rss_mib", "worker RSS, 2 processes")):
        if key in out:
            print(f"{label:36}: {out[key]:10,.0f} MiB")
    for key, label in (("pipeline_cpu_cores", "cores used, pipeline 1 process"),
                       ("pipeline_2proc_cpu_cores", "cores used, pipeline 2 processes"),
                       ("normalize_cpu_cores", "cores used, normalize alone"),
                       ("enrich_cpu_cores", "cores used, enrich alone"),
                       ("cassandra_sink_cpu_cores", "cores used, Cassandra sink alone")):
        if key in out:
            shares = ", ".join(f"{name} {cores:.2f}" for name, cores in sorted(out[key].items(), key=lambda i: -i[1]))
            print(f"{label:36}: {shares}")
    if "latency_ms" in out:
        rtt = out["latency_ms"]["kafka_roundtrip"]
        for name in ("kafka_roundtrip", "cassandra", "pinot"):
            lat = out["latency_ms"][name]
            print(f"latency {name:16} at {out['latency_rate_per_s']:.0f}/s: p50 {lat['p50']:7.1f} ms  p99 "
                  f"{lat['p99']:7.1f} ms  (n={lat['n']}; p50 {lat['p50'] / rtt['p50']:.1f}x kafka)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=30_000,
                        help="generated raw records per throughput run (below ~20,000 a stage drains too fast to time)")
    parser.add_argument("--rate", type=float, default=500.0, help="events/s of the steady latency run")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the steady latency run")
    parser.add_argument("--samples", type=int, default=400, help="events timed in the latency run")
    parser.add_argument("--rtt-samples", type=int, default=200)
    parser.add_argument("--parts", type=lambda v: v.split(","), default=list(PARTS),
                        help=f"comma-separated subset of {','.join(PARTS)} (the baseline always runs)")
    parser.add_argument("--json", action="store_true", help="last line: one JSON object with every figure")
    args = parser.parse_args()
    out = measure(args)
    show(out)
    if args.json:
        print(orjson.dumps(out).decode())


if __name__ == "__main__":
    main()
