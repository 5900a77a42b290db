"""Issue 16 end to end: kill -9 the Kafka broker under CDC traffic, start it again, and every Tactical
and Fleet row change reaches Cassandra and Pinot within a bound, with the watchdog running.

Copies of both versioned connectors (own names, slot, server id, topics) feed an isolated pipeline
(own topics, group, keyspace, Pinot table). Writers insert Tactical audit rows and Fleet activities
before, during and after the outage. Only the broker of this stack's own run folder is killed.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pymysql
import pytest

from connectors.connect import ConnectClient, apply, wait_running
from connectors.settings import ConnectorSettings, WatchdogSettings
from connectors.specs import Connector, load_templates, placeholder_values, render
from connectors.watchdog.watchdog import Watchdog, targets_of
from infra import process, stack
from infra.health import wait_until
from infra.tooldb.provision import provision
from openframe_stream.settings import Settings
from pipelines.ids import tool_event_id
from tests.integration.connectors.watchdog.pg import drop_slot
from tests.integration.topologies.harness import Pipeline, new_pipeline, running
from topologies.provision import ensure_topics

OUTAGE_S = 25  # as in the reproduction
RATE_PER_S = 4  # rows per second per tool
BOUND_S = 240  # every change stored in both stores within this long after the broker is back


class Writers:
    """Insert Tactical audit rows and Fleet activities at a steady rate; remember each id and when."""

    def __init__(self, settings: Settings, tag: str) -> None:
        self._settings, self._tag = settings, tag
        self.tactical: list[tuple[float, int]] = []
        self.fleet: list[tuple[float, int]] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="writers", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        pg, m = self._settings.postgres, self._settings.mariadb
        with psycopg.connect(host=pg.host, port=pg.port, user=pg.user, password=pg.password or None,
                             dbname=pg.database, autocommit=True) as tactical:
            maria = pymysql.connect(host=m.host, port=m.port, user=m.user, password=m.password,
                                    database=m.database, autocommit=True)
            try:
                i = 0
                while not self._stop.wait(1 / RATE_PER_S):
                    i += 1
                    try:
                        row = tactical.execute(
                            "INSERT INTO logs_auditlog (username, action, object_type, message) "
                            "VALUES (%s, 'login', 'user', 'restart test') RETURNING id", (f"br-{self._tag}-{i}",),
                        ).fetchone()
                        assert row is not None
                        self.tactical.append((time.monotonic(), int(row[0])))
                        with maria.cursor() as cursor:
                            cursor.execute("INSERT INTO activities (user_name, activity_type, details) "
                                           "VALUES (%s, 'ran_script', '{}')", (f"br-{self._tag}-{i}",))
                            self.fleet.append((time.monotonic(), int(cursor.lastrowid)))
                    except (psycopg.Error, pymysql.Error) as exc:
                        self.errors.append(str(exc))
            finally:
                maria.close()


def _copies(settings: Settings, unique: str) -> list[Connector]:
    options = ConnectorSettings(
        snapshot_mode="no_data",
        tactical_topic_prefix=f"it_br_{unique}",
        tactical_slot=f"it_br_{unique}",
        fleet_topic_prefix=f"it_br_fleet_{unique}",
        fleet_server_id=9000 + int(unique[:4], 16) % 900,
        fleet_schema_history_topic=f"{settings.topics.prefix}schema_history",
    )
    values = placeholder_values(settings, options)
    names = {"tactical-rmm-postgres": f"it-br-tactical-{unique}", "fleet-mariadb": f"it-br-fleet-{unique}"}
    return [render(t, values, name=names[t.name]) for t in load_templates() if t.name in names]


@pytest.fixture
def pipeline(isolated: Settings, tmp_path: Path) -> Iterator[Pipeline]:
    p = new_pipeline(tmp_path, OFS_TOPICS__PREFIX=isolated.topics.prefix, OFS_FLEET_JOIN__JOIN_WAIT_SECONDS="1")
    ensure_topics(isolated.kafka.bootstrap_servers, p.topics, 1)
    with running(p):
        yield p


def _missing_in_cassandra(p: Pipeline, ids: list[str]) -> list[str]:
    return [i for i in ids if p.row(i) is None]


def _in_pinot(p: Pipeline, ids: list[str]) -> int:
    table, total = p.settings.pinot_sink.table, 0
    for start in range(0, len(ids), 200):
        chunk = ", ".join(f"'{i}'" for i in ids[start:start + 200])
        rows = p.pinot(f"SELECT COUNT(*) FROM {table} WHERE toolEventId IN ({chunk})")
        total += int(rows[0][0]) if rows else 0
    return total


def test_cdc_recovers_on_its_own_after_the_broker_is_killed_and_restarted(
    isolated: Settings, unique: str, pipeline: Pipeline
) -> None:
    provision(isolated)
    client = ConnectClient(isolated.connect.url)
    copies = _copies(isolated, unique)
    writers = Writers(isolated, unique)
    stop_watch = threading.Event()
    watchdog = Watchdog(targets_of(copies), client, WatchdogSettings(interval_seconds=2, stall_seconds=20,
                                                                     settle_seconds=15))
    watcher = threading.Thread(target=watchdog.run, args=(stop_watch,), name="watchdog", daemon=True)
    try:
        for connector in copies:
            assert apply(client, connector).written
            wait_running(client, connector.name, timeout=120)
        writers.start()
        wait_until(lambda: len(writers.tactical) > 0 and pipeline.row(
            tool_event_id("tactical", "logs_auditlog", str(writers.tactical[0][1]))) is not None,
            timeout=120, what="first Tactical row stored", interval=1.0)
        watcher.start()
        time.sleep(10)  # traffic flowing through every stage before the outage

        kafka_pid = process.read_pid(isolated.stack.run_dir, "kafka")
        assert kafka_pid is not None, "this test kills the broker of its own stack only"
        os.kill(kafka_pid, signal.SIGKILL)
        killed = time.monotonic()
        time.sleep(OUTAGE_S)
        outcomes = stack.up(isolated, ["kafka"])
        assert all(o.ok for o in outcomes), outcomes
        back = time.monotonic()
        # The last row written while the broker was down: the task had been stopped by then (the worker revokes
        # its tasks 3 s into the outage), so it is stored only once CDC runs again.
        during = max(i for t, i in writers.tactical if t < back)
        flowing = wait_until(
            lambda: pipeline.row(tool_event_id("tactical", "logs_auditlog", str(during))) is not None,
            timeout=BOUND_S, what="a Tactical row written during the outage stored", interval=0.5,
        )
        time.sleep(max(20 - flowing, 0))  # traffic after the restart too
        writers.stop()

        tactical = [tool_event_id("tactical", "logs_auditlog", str(i)) for _, i in writers.tactical]
        fleet = [tool_event_id("fleet", "activities", str(i)) for _, i in writers.fleet]
        wait_until(lambda: not _missing_in_cassandra(pipeline, tactical + fleet), timeout=BOUND_S,
                   what="every change in Cassandra", interval=2.0)
        in_cassandra = time.monotonic() - back
        wait_until(lambda: _in_pinot(pipeline, tactical + fleet) == len(tactical + fleet), timeout=BOUND_S,
                   what="every change in Pinot", interval=2.0)
        in_pinot = time.monotonic() - back
        report = (f"broker back after {back - killed:.1f}s; the last Tactical row of the outage stored {flowing:.1f}s "
                  f"after that; all {len(tactical)} Tactical + {len(fleet)} Fleet rows in Cassandra "
                  f"{in_cassandra:.1f}s and in Pinot {in_pinot:.1f}s after the broker was back; "
                  f"watchdog actions: {watchdog.taken}; writer errors: {len(writers.errors)}")
        print(report)  # noqa: T201
        assert in_cassandra < BOUND_S and in_pinot < BOUND_S, report
        assert _in_pinot(pipeline, tactical + fleet) == len(tactical) + len(fleet)
    finally:
        stop_watch.set()
        writers.stop()
        for connector in copies:
            client.delete(connector.name)
        drop_slot(isolated, next(c.config["slot.name"] for c in copies if "slot.name" in c.config))
