"""The tools' databases from Debian: PostgreSQL (Tactical RMM) and MariaDB (Fleet), CDC-ready."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from infra import provision
from infra.health import tcp_open
from infra.services.base import Launch, Service, owned_dir

if TYPE_CHECKING:
    from openframe_stream.settings import Settings

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _as(user: str, argv: list[str]) -> list[str]:
    return ["runuser", "-u", user, "--", *argv] if os.geteuid() == 0 else argv


def _check(argv: list[str], what: str) -> str:
    result = subprocess.run(argv, capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed: {result.stdout}{result.stderr}")
    return result.stdout


# ---------------------------------------------------------------- PostgreSQL


def _pg_provision(settings: Settings) -> None:
    provision.debian_package("postgres")


def _pg_prepare(settings: Settings) -> Launch:
    user = settings.stack.pg_user
    root = owned_dir(settings, "postgres", user)
    data = root / "data"
    if not (data / "PG_VERSION").exists():
        shutil.rmtree(data, ignore_errors=True)
        _check(
            _as(
                user,
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    settings.postgres.user,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                ],
            ),
            "initdb",
        )
    pg = settings.postgres
    argv = [
        str(PG_BIN / "postgres"),
        "-D",
        str(data),
        "-c",
        f"listen_addresses={pg.host}",
        "-c",
        f"port={pg.port}",
        "-c",
        f"unix_socket_directories={root}",
        # Logical decoding for Debezium's pgoutput plugin.
        "-c",
        "wal_level=logical",
        "-c",
        "max_wal_senders=10",
        "-c",
        "max_replication_slots=10",
        # A replication client that stops answering (a Connect task stranded by a broker outage) is cut
        # after 20 s, not PostgreSQL's 60 s: a fast shutdown waits for every walsender, and `stack down`
        # gives up after 60 s. Debezium answers keepalives within its 10 s status interval.
        "-c",
        "wal_sender_timeout=20s",
        "-c",
        "shared_buffers=64MB",
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
    ]
    return Launch(argv=argv, user=user)


def _pg_healthy(settings: Settings) -> bool:
    pg = settings.postgres
    result = subprocess.run(  # noqa: S603
        [str(PG_BIN / "pg_isready"), "-h", pg.host, "-p", str(pg.port), "-U", pg.user, "-q"], capture_output=True
    )
    return result.returncode == 0


def _pg_after_start(settings: Settings) -> None:
    import psycopg

    pg = settings.postgres
    with psycopg.connect(host=pg.host, port=pg.port, user=pg.user, dbname="postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (pg.database,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{pg.database}"')
        role = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (pg.cdc_user,)).fetchone()
        verb = "ALTER" if role else "CREATE"
        conn.execute(
            f"{verb} ROLE \"{pg.cdc_user}\" WITH LOGIN REPLICATION PASSWORD '{pg.cdc_password}'"  # noqa: S608
        )


POSTGRES = Service(
    name="postgres",
    deps=(),
    port=lambda s: s.postgres.port,
    provision=_pg_provision,
    prepare=_pg_prepare,
    healthy=_pg_healthy,
    after_start=_pg_after_start,
    # SIGINT is PostgreSQL's "fast" shutdown: SIGTERM ("smart") waits for every client to leave, and
    # Debezium's replication connection never does.
    stop_signal=2,
)

# ---------------------------------------------------------------- MariaDB


def _maria_provision(settings: Settings) -> None:
    provision.debian_package("mariadb")


def _maria_socket(settings: Settings) -> Path:
    return owned_dir(settings, "mariadb", settings.stack.maria_user) / "mariadb.sock"


def _maria_prepare(settings: Settings) -> Launch:
    user = settings.stack.maria_user
    root = owned_dir(settings, "mariadb", user)
    data = root / "data"
    if not (data / "mysql").exists():
        shutil.rmtree(data, ignore_errors=True)
        argv = ["mariadb-install-db", f"--datadir={data}", "--auth-root-authentication-method=normal", "--skip-test-db"]
        if os.geteuid() == 0:
            argv.insert(1, f"--user={user}")
        _check(argv, "mariadb-install-db")
    m = settings.mariadb
    argv = [
        "mariadbd",
        "--no-defaults",
        f"--datadir={data}",
        f"--socket={_maria_socket(settings)}",
        f"--port={m.port}",
        f"--bind-address={m.host}",
        f"--pid-file={root / 'mariadb.pid'}",
        # Binlog in ROW/FULL with a server id: what Debezium's MariaDB connector reads.
        f"--server-id={m.server_id}",
        f"--log-bin={root / 'mariadb-bin'}",
        "--binlog-format=ROW",
        "--binlog-row-image=FULL",
        "--binlog-expire-logs-seconds=86400",
        "--innodb-buffer-pool-size=64M",
        "--innodb-flush-log-at-trx-commit=2",
        "--skip-name-resolve",
        "--performance-schema=OFF",
    ]
    if os.geteuid() == 0:
        argv.insert(2, f"--user={user}")
    return Launch(argv=argv)


def _maria_healthy(settings: Settings) -> bool:
    if not tcp_open(settings.mariadb.host, settings.mariadb.port):
        return False
    result = subprocess.run(  # noqa: S603
        ["mariadb-admin", f"--socket={_maria_socket(settings)}", "-uroot", "ping"], capture_output=True
    )
    return result.returncode == 0


def _maria_after_start(settings: Settings) -> None:
    m = settings.mariadb
    statements = [
        f"CREATE DATABASE IF NOT EXISTS `{m.database}`",
        # The admin user over loopback TCP (install-db only creates socket root).
        f"CREATE USER IF NOT EXISTS '{m.user}'@'127.0.0.1' IDENTIFIED BY '{m.password}'",
        f"GRANT ALL PRIVILEGES ON *.* TO '{m.user}'@'127.0.0.1' WITH GRANT OPTION",
        f"CREATE USER IF NOT EXISTS '{m.cdc_user}'@'%' IDENTIFIED BY '{m.cdc_password}'",
        f"GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, BINLOG MONITOR, LOCK TABLES ON *.* "
        f"TO '{m.cdc_user}'@'%'",
        "FLUSH PRIVILEGES",
    ]
    _check(
        ["mariadb", f"--socket={_maria_socket(settings)}", "-uroot", "-e", "; ".join(statements)],
        "MariaDB users and database",
    )


MARIADB = Service(
    name="mariadb",
    deps=(),
    port=lambda s: s.mariadb.port,
    provision=_maria_provision,
    prepare=_maria_prepare,
    healthy=_maria_healthy,
    after_start=_maria_after_start,
)
