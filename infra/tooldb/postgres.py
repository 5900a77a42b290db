"""Tactical RMM's tables on PostgreSQL, with the column names and types of its Django models
(`logs.AuditLog`, `agents.AgentHistory`, `autotasks.TaskResult` and what they reference), made
CDC-ready: REPLICA IDENTITY FULL, SELECT for the CDC role, and the publication Debezium reads.

Tactical's own migrations are not reproduced: only the tables the stream reads, plus the ones
their foreign keys point at. Note `logs_auditlog.agent_id` is the agent's *string* id (a
CharField since migration 0020), while `agent_id` of history and task rows is the integer FK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from infra.tooldb.settings import tooldb_settings

if TYPE_CHECKING:
    import psycopg

    from openframe_stream.settings import Settings

CAPTURED: Final = ("logs_auditlog", "agents_agenthistory", "autotasks_taskresult")

DDL: Final = (
    """CREATE TABLE IF NOT EXISTS agents_agent (
        id serial PRIMARY KEY,
        version varchar(255) NOT NULL DEFAULT '2.9.1',
        operating_system varchar(255),
        plat varchar(255) NOT NULL DEFAULT 'windows',
        goarch varchar(255),
        hostname varchar(255) NOT NULL,
        agent_id varchar(200) NOT NULL UNIQUE,
        last_seen timestamptz,
        public_ip varchar(255),
        monitoring_type varchar(30) NOT NULL DEFAULT 'workstation',
        description varchar(255),
        mesh_node_id varchar(255),
        site_id integer
    )""",
    """CREATE TABLE IF NOT EXISTS scripts_script (
        id serial PRIMARY KEY,
        name varchar(255) NOT NULL,
        description text,
        shell varchar(100) NOT NULL DEFAULT 'powershell',
        script_type varchar(100) NOT NULL DEFAULT 'userdefined',
        category varchar(100),
        default_timeout integer NOT NULL DEFAULT 90
    )""",
    """CREATE TABLE IF NOT EXISTS autotasks_automatedtask (
        id serial PRIMARY KEY,
        agent_id integer REFERENCES agents_agent (id) ON DELETE CASCADE,
        policy_id integer,
        name varchar(255) NOT NULL,
        task_type varchar(100) NOT NULL DEFAULT 'daily',
        enabled boolean NOT NULL DEFAULT true,
        actions jsonb NOT NULL DEFAULT '[]',
        timeout integer NOT NULL DEFAULT 120
    )""",
    """CREATE TABLE IF NOT EXISTS logs_auditlog (
        id serial PRIMARY KEY,
        username varchar(255) NOT NULL,
        agent varchar(255),
        agent_id varchar(50),
        entry_time timestamptz NOT NULL DEFAULT now(),
        action varchar(100) NOT NULL,
        object_type varchar(100) NOT NULL,
        before_value jsonb,
        after_value jsonb,
        message varchar(255),
        debug_info jsonb
    )""",
    """CREATE TABLE IF NOT EXISTS agents_agenthistory (
        id bigserial PRIMARY KEY,
        agent_id integer NOT NULL REFERENCES agents_agent (id) ON DELETE CASCADE,
        time timestamptz NOT NULL DEFAULT now(),
        type varchar(50) NOT NULL DEFAULT 'cmd_run',
        command text DEFAULT '',
        username varchar(255) NOT NULL DEFAULT 'system',
        results text,
        script_id integer REFERENCES scripts_script (id) ON DELETE SET NULL,
        script_results jsonb,
        custom_field_id integer
    )""",
    """CREATE TABLE IF NOT EXISTS autotasks_taskresult (
        id bigserial PRIMARY KEY,
        agent_id integer NOT NULL REFERENCES agents_agent (id) ON DELETE CASCADE,
        task_id integer NOT NULL REFERENCES autotasks_automatedtask (id) ON DELETE CASCADE,
        retcode bigint,
        stdout text,
        stderr text,
        execution_time varchar(100) NOT NULL DEFAULT '0.0000',
        last_run timestamptz,
        status varchar(30) NOT NULL DEFAULT 'pending',
        sync_status varchar(100) NOT NULL DEFAULT 'initial',
        locked_at timestamptz,
        run_status varchar(30),
        UNIQUE (agent_id, task_id)
    )""",
)


def connect(settings: Settings) -> psycopg.Connection[tuple[object, ...]]:
    import psycopg

    pg = settings.postgres
    return psycopg.connect(
        host=pg.host, port=pg.port, user=pg.user, password=pg.password or None, dbname=pg.database, autocommit=True
    )


def provision(settings: Settings) -> list[str]:
    """Create what is missing; return what was done (empty on a second run)."""
    from psycopg import sql

    done: list[str] = []
    cdc_user = sql.Identifier(settings.postgres.cdc_user)
    publication = tooldb_settings(settings).publication
    with connect(settings) as conn:
        existing = {row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        for statement in DDL:
            name = statement.split("EXISTS", 1)[1].split("(", 1)[0].strip()
            if name not in existing:
                conn.execute(statement)
                done.append(f"created table {name}")
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(cdc_user))
        for table in CAPTURED:
            # FULL: updates and deletes carry the whole old row in `before`, not just the key.
            conn.execute(sql.SQL("ALTER TABLE {} REPLICA IDENTITY FULL").format(sql.Identifier(table)))
            conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(sql.Identifier(table), cdc_user))
        tables = sql.SQL(", ").join(sql.Identifier("public", t) for t in CAPTURED)
        published = {
            str(row[0])
            for row in conn.execute("SELECT tablename FROM pg_publication_tables WHERE pubname = %s", (publication,))
        }
        has_publication = conn.execute("SELECT 1 FROM pg_publication WHERE pubname = %s", (publication,)).fetchone()
        if has_publication is None:
            # Created here as superuser, so the CDC role needs no CREATE rights (autocreate is disabled).
            conn.execute(sql.SQL("CREATE PUBLICATION {} FOR TABLE {}").format(sql.Identifier(publication), tables))
            done.append(f"created publication {publication}")
        elif published != set(CAPTURED):
            conn.execute(sql.SQL("ALTER PUBLICATION {} SET TABLE {}").format(sql.Identifier(publication), tables))
            done.append(f"reset publication {publication} tables")
    return done
