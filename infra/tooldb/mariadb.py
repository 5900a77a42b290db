"""Fleet's tables on MariaDB, as in Fleet's `server/datastore/mysql/schema.sql`: `activities`,
`host_activities`, `query_results`, `policy_membership`, plus `hosts`, `policies` and `queries`
they point at. Binlog CDC needs no per-table set-up (the server runs ROW/FULL; the CDC user has
its grants from the stack).

`created_at` of activities is TIMESTAMP(6) as in current Fleet: Debezium emits TIMESTAMP columns
as ISO-8601 UTC strings (`...T09:14:03.118000Z`), whatever `time.precision.mode` says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from openframe_stream.settings import Settings

CAPTURED: Final = ("activities", "host_activities", "query_results", "policy_membership")
_TAIL: Final = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"

DDL: Final = (
    f"""CREATE TABLE IF NOT EXISTS hosts (
        id int unsigned NOT NULL AUTO_INCREMENT,
        osquery_host_id varchar(255) DEFAULT NULL,
        created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
        updated_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
        hostname varchar(255) NOT NULL DEFAULT '',
        uuid varchar(255) NOT NULL DEFAULT '',
        platform varchar(255) NOT NULL DEFAULT '',
        osquery_version varchar(255) NOT NULL DEFAULT '',
        team_id int unsigned DEFAULT NULL,
        PRIMARY KEY (id),
        UNIQUE KEY idx_osquery_host_id (osquery_host_id)
    ) {_TAIL}""",
    f"""CREATE TABLE IF NOT EXISTS policies (
        id int unsigned NOT NULL AUTO_INCREMENT,
        team_id int unsigned DEFAULT NULL,
        resolution text,
        name varchar(255) NOT NULL,
        query mediumtext NOT NULL,
        description mediumtext NOT NULL,
        author_id int unsigned DEFAULT NULL,
        platforms varchar(255) NOT NULL DEFAULT '',
        critical tinyint(1) NOT NULL DEFAULT 0,
        created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
        updated_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
        PRIMARY KEY (id),
        UNIQUE KEY idx_policies_unique_name (name)
    ) {_TAIL}""",
    f"""CREATE TABLE IF NOT EXISTS queries (
        id int unsigned NOT NULL AUTO_INCREMENT,
        saved tinyint(1) NOT NULL DEFAULT 0,
        name varchar(255) NOT NULL,
        description mediumtext NOT NULL,
        query mediumtext NOT NULL,
        author_id int unsigned DEFAULT NULL,
        team_id int unsigned DEFAULT NULL,
        platform varchar(255) NOT NULL DEFAULT '',
        logging_type varchar(255) NOT NULL DEFAULT 'snapshot',
        created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
        updated_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
        PRIMARY KEY (id),
        UNIQUE KEY idx_name_team (name, team_id)
    ) {_TAIL}""",
    f"""CREATE TABLE IF NOT EXISTS activities (
        id int unsigned NOT NULL AUTO_INCREMENT,
        created_at timestamp(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
        user_id int unsigned DEFAULT NULL,
        user_name varchar(255) DEFAULT NULL,
        activity_type varchar(255) NOT NULL,
        details json DEFAULT NULL,
        streamed tinyint(1) NOT NULL DEFAULT 0,
        user_email varchar(255) NOT NULL DEFAULT '',
        fleet_initiated tinyint(1) NOT NULL DEFAULT 0,
        host_only tinyint(1) NOT NULL DEFAULT 0,
        PRIMARY KEY (id),
        KEY fk_activities_user_id (user_id),
        KEY activities_streamed_idx (streamed),
        KEY activities_created_at_idx (created_at)
    ) {_TAIL}""",
    f"""CREATE TABLE IF NOT EXISTS host_activities (
        host_id int unsigned NOT NULL,
        activity_id int unsigned NOT NULL,
        PRIMARY KEY (host_id, activity_id),
        KEY fk_host_activities_activity_id (activity_id),
        CONSTRAINT host_activities_ibfk_1 FOREIGN KEY (activity_id) REFERENCES activities (id) ON DELETE CASCADE
    ) {_TAIL}""",
    f"""CREATE TABLE IF NOT EXISTS query_results (
        id int unsigned NOT NULL AUTO_INCREMENT,
        query_id int unsigned NOT NULL,
        host_id int unsigned NOT NULL,
        osquery_version varchar(50) DEFAULT NULL,
        error text,
        last_fetched timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
        data json DEFAULT NULL,
        PRIMARY KEY (id),
        KEY idx_query_id_host_id_last_fetched (query_id, host_id, last_fetched),
        CONSTRAINT query_results_ibfk_1 FOREIGN KEY (query_id) REFERENCES queries (id) ON DELETE CASCADE
    ) {_TAIL}""",
    f"""CREATE TABLE IF NOT EXISTS policy_membership (
        policy_id int unsigned NOT NULL,
        host_id int unsigned NOT NULL,
        passes tinyint(1) DEFAULT NULL,
        created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
        updated_at timestamp NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
        automation_iteration int DEFAULT NULL,
        PRIMARY KEY (policy_id, host_id),
        KEY idx_policy_membership_passes (passes),
        KEY idx_policy_membership_policy_id (policy_id),
        KEY idx_policy_membership_host_id_passes (host_id, passes),
        CONSTRAINT policy_membership_ibfk_1 FOREIGN KEY (policy_id) REFERENCES policies (id) ON DELETE CASCADE
    ) {_TAIL}""",
)


def connect(settings: Settings, database: bool = True) -> Any:
    import pymysql

    m = settings.mariadb
    return pymysql.connect(
        host=m.host,
        port=m.port,
        user=m.user,
        password=m.password,
        database=m.database if database else None,
        autocommit=True,
        # UTC sessions: TIMESTAMP values read and written by the generator mean the same instant as in the binlog.
        init_command="SET time_zone = '+00:00'",
    )


def provision(settings: Settings) -> list[str]:
    """Create what is missing; return what was done (empty on a second run)."""
    done: list[str] = []
    database = settings.mariadb.database
    server = connect(settings, database=False)
    try:
        with server.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{database}`")
            cursor.execute(f"USE `{database}`")
            cursor.execute("SHOW TABLES")
            existing = {row[0] for row in cursor.fetchall()}
            for statement in DDL:
                name = statement.split("EXISTS", 1)[1].split("(", 1)[0].strip()
                if name not in existing:
                    cursor.execute(statement)
                    done.append(f"created table {name}")
    finally:
        server.close()
    return done
