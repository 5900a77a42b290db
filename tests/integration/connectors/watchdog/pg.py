"""PostgreSQL helpers for the watchdog tests: the slot's state, and a connection that holds a slot."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from infra.health import wait_until
from infra.services.databases import PG_BIN
from openframe_stream.settings import Settings


def admin(settings: Settings) -> psycopg.Connection[tuple[Any, ...]]:
    pg = settings.postgres
    return psycopg.connect(host=pg.host, port=pg.port, user=pg.user, password=pg.password or None,
                           dbname=pg.database, autocommit=True)


def slot_row(settings: Settings, slot: str) -> tuple[Any, ...] | None:
    """(active, active_pid, confirmed_flush_lsn) of a slot, or None when it does not exist."""
    with admin(settings) as conn:
        return conn.execute("SELECT active, active_pid, confirmed_flush_lsn::text FROM pg_replication_slots "
                            "WHERE slot_name = %s", (slot,)).fetchone()


def backend_alive(settings: Settings, pid: int) -> bool:
    with admin(settings) as conn:
        return conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone() is not None


def drop_slot(settings: Settings, slot: str) -> None:
    """Drop a test's slot once nothing holds it (a deleted connector's task lets go within seconds)."""
    def idle() -> bool:
        row = slot_row(settings, slot)
        return row is None or not row[0]

    wait_until(idle, timeout=60, what=f"slot {slot} released", interval=0.5)
    with admin(settings) as conn:
        conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s",
                     (slot,))


@contextmanager
def slot_holder(settings: Settings, slot: str, publication: str, out: Path) -> Iterator[int]:
    """A replication connection that takes `slot` and holds it without confirming anything: what a
    Debezium task's connection left behind looks like to PostgreSQL (same user, same application
    name). `pg_recvlogical` replies to keepalives but reports a flush position only on fsync, and
    fsyncs once an hour, so the slot's confirmed_flush_lsn stays where it was. Yields the backend pid."""
    pg = settings.postgres
    env = dict(os.environ, PGPASSWORD=pg.cdc_password, PGAPPNAME="Debezium Streaming")
    argv = [str(PG_BIN / "pg_recvlogical"), "-h", pg.host, "-p", str(pg.port), "-U", pg.cdc_user,
            "-d", pg.database, "-S", slot, "--start", "--no-loop", "-f", str(out), "-F", "3600", "-s", "1",
            "-o", "proto_version=1", "-o", f"publication_names={publication}"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,  # noqa: S603
                            start_new_session=True)
    try:
        def holding() -> bool:
            row = slot_row(settings, slot)
            return row is not None and bool(row[0])

        wait_until(holding, timeout=30, what="pg_recvlogical holding the slot",
                   alive=lambda: proc.poll() is None)
        row = slot_row(settings, slot)
        assert row is not None
        yield int(row[1])
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
