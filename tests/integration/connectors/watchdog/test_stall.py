"""A Tactical task whose replication slot is held by another connection: Connect says RUNNING, the
task streams nothing. The watchdog must see it by progress, restart the task, end the stale
backend (and only it), and every row written meanwhile must then arrive."""

from __future__ import annotations

import time
from pathlib import Path

import requests

from connectors.connect import ConnectClient, apply, wait_running
from connectors.settings import ConnectorSettings, WatchdogSettings
from connectors.specs import load_templates, placeholder_values, render
from connectors.watchdog.decide import RestartTask, TerminateBackend, Verdict
from connectors.watchdog.probes import Target
from connectors.watchdog.watchdog import Watchdog
from infra.health import wait_until
from infra.tooldb.provision import provision
from infra.tooldb.settings import tooldb_settings
from openframe_stream.settings import Settings
from tests.integration.connectors.conftest import Record, TopicReader, create_topics
from tests.integration.connectors.watchdog.pg import admin, backend_alive, drop_slot, slot_holder, slot_row
from topologies.topics import declare

ROWS = 25


def _audit(settings: Settings, username: str) -> int:
    with admin(settings) as conn:
        row = conn.execute("INSERT INTO logs_auditlog (username, action, object_type) VALUES (%s, 'login', 'user') "
                           "RETURNING id", (username,)).fetchone()
    assert row is not None
    return int(row[0])


def _audit_id(record: Record) -> int | None:
    after = (record.json() or {}).get("after") or {}
    return after.get("id")


def test_a_task_whose_slot_is_held_by_a_stale_connection_is_detected_and_healed(
    isolated: Settings, unique: str, tmp_path: Path
) -> None:
    provision(isolated)
    topic = declare(isolated.topics).tactical.name
    create_topics(isolated, [topic], isolated.topics.raw_partitions)
    slot, name = f"it_wd_{unique}", f"it-wd-{unique}"
    options = ConnectorSettings(snapshot_mode="no_data", tactical_topic_prefix=f"it_wd_{unique}", tactical_slot=slot,
                                heartbeat_interval_ms=1000)
    (template,) = [t for t in load_templates() if t.name == "tactical-rmm-postgres"]
    connector = render(template, placeholder_values(isolated, options), name=name)
    client = ConnectClient(isolated.connect.url)
    url = f"{isolated.connect.url}/connectors/{name}"
    reader = TopicReader(isolated, [topic])
    try:
        assert apply(client, connector).written
        wait_running(client, name, timeout=120)
        canary = [_audit(isolated, f"canary-{unique}")]
        reader.until(lambda rs: any(_audit_id(r) == canary[0] for r in rs), 90, "connector streaming")

        # Stop the connector: its task closes the replication connection, the slot goes idle.
        requests.put(f"{url}/stop", timeout=30).raise_for_status()
        wait_until(lambda: (row := slot_row(isolated, slot)) is not None and not row[0], timeout=60,
                   what="slot released")
        with slot_holder(isolated, slot, tooldb_settings(isolated).publication, tmp_path / "held.bin") as stale_pid:
            requests.put(f"{url}/resume", timeout=30).raise_for_status()
            wait_running(client, name, timeout=120)
            flushed_before = (slot_row(isolated, slot) or (None, None, None))[2]
            written = [_audit(isolated, f"held-{unique}-{i}") for i in range(ROWS)]

            # Connect reports the task RUNNING all along; nothing but progress shows the stall.
            status = client.status(name) or {}
            assert [t["state"] for t in status.get("tasks", [])] == ["RUNNING"]
            policy = WatchdogSettings(interval_seconds=1, stall_seconds=5, settle_seconds=5)
            dog = Watchdog([t for t in [Target.of(connector)] if t is not None], client, policy)
            verdicts: list[tuple[float, Verdict]] = []
            began = time.monotonic()

            def healed() -> bool:
                verdicts.extend((time.monotonic() - began, v) for v in dog.tick())
                reader.poll(0.5)
                seen = {_audit_id(r) for r in reader.records}
                return all(i in seen for i in written)

            wait_until(healed, timeout=180, what="every row written while the slot was held", interval=1.0)
            healed_after = time.monotonic() - began
            assert not backend_alive(isolated, stale_pid), "the stale backend still runs"
        first_stall = next(t for t, v in verdicts if v.stalled)
        terminated = [a for a in dog.taken if isinstance(a, TerminateBackend)]
        assert [a.backend.pid for a in terminated] == [stale_pid], dog.taken
        assert any(isinstance(a, RestartTask) for a in dog.taken)
        # The slot's position moves again too (Debezium confirms after Connect commits the offsets).
        wait_until(lambda: (slot_row(isolated, slot) or (None, None, flushed_before))[2] != flushed_before,
                   timeout=60, what="confirmed_flush_lsn moving again", interval=0.5)
        # Once healed, the next looks say the task progresses again.
        wait_until(lambda: dog.tick()[0].state == "ok", timeout=60, what="verdict back to ok", interval=1.0)
        print(f"stall seen after {first_stall:.1f}s, every row delivered after {healed_after:.1f}s; "  # noqa: T201
              f"actions: {dog.taken}")
    finally:
        reader.close()
        client.delete(name)
        drop_slot(isolated, slot)
