"""The tool tables' DDL: the columns the mappers read, with the tools' names, in a creatable order."""

from __future__ import annotations

import re

import pytest

from infra.tooldb import mariadb, postgres


def _tables(ddl: tuple[str, ...]) -> dict[str, str]:
    return {re.search(r"EXISTS (\w+)", s).group(1): s for s in ddl}  # type: ignore[union-attr]


def _columns(statement: str) -> dict[str, str]:
    body = statement[statement.index("(") + 1 : statement.rindex(")")]
    columns = {}
    for line in body.splitlines():
        words = line.strip().rstrip(",").split()
        if len(words) >= 2 and words[0] not in ("PRIMARY", "KEY", "UNIQUE", "CONSTRAINT"):
            columns[words[0]] = " ".join(words[1:])
    return columns


@pytest.mark.parametrize(
    ("module", "table", "wanted"),
    [
        (postgres, "logs_auditlog", {"id": "serial", "agent_id": "varchar(50)", "entry_time": "timestamptz"}),
        (postgres, "logs_auditlog", {"username": "varchar", "agent": "varchar", "action": "varchar"}),
        (postgres, "logs_auditlog", {"object_type": "varchar", "before_value": "jsonb", "after_value": "jsonb"}),
        (postgres, "logs_auditlog", {"message": "varchar", "debug_info": "jsonb"}),
        (postgres, "agents_agenthistory", {"agent_id": "integer", "time": "timestamptz", "type": "varchar"}),
        (postgres, "agents_agenthistory", {"command": "text", "results": "text", "script_results": "jsonb"}),
        (postgres, "agents_agenthistory", {"script_id": "integer", "username": "varchar"}),
        (postgres, "autotasks_taskresult", {"agent_id": "integer", "task_id": "integer", "retcode": "bigint"}),
        (postgres, "autotasks_taskresult", {"stdout": "text", "stderr": "text", "execution_time": "varchar"}),
        (postgres, "autotasks_taskresult", {"last_run": "timestamptz", "status": "varchar", "sync_status": "varchar"}),
        (mariadb, "activities", {"id": "int unsigned", "created_at": "timestamp(6)", "details": "json"}),
        (mariadb, "activities", {"user_id": "int", "user_name": "varchar", "user_email": "varchar"}),
        (
            mariadb,
            "activities",
            {"activity_type": "varchar", "streamed": "tinyint(1)", "fleet_initiated": "tinyint(1)"},
        ),
        (mariadb, "host_activities", {"host_id": "int unsigned", "activity_id": "int unsigned"}),
        (mariadb, "query_results", {"id": "int", "query_id": "int", "host_id": "int", "osquery_version": "varchar"}),
        (mariadb, "query_results", {"error": "text", "last_fetched": "timestamp", "data": "json"}),
        (mariadb, "policy_membership", {"policy_id": "int", "host_id": "int", "passes": "tinyint(1)"}),
        (mariadb, "policy_membership", {"created_at": "timestamp", "updated_at": "timestamp"}),
        (mariadb, "policy_membership", {"automation_iteration": "int"}),
    ],
)
def test_columns_have_the_tools_names_and_types(module: object, table: str, wanted: dict[str, str]) -> None:
    columns = _columns(_tables(module.DDL)[table])  # type: ignore[attr-defined]
    for name, kind in wanted.items():
        assert name in columns, f"{table}.{name} missing"
        assert columns[name].startswith(kind), f"{table}.{name} is {columns[name]}, not {kind}"


@pytest.mark.parametrize("module", [postgres, mariadb])
def test_tables_are_created_after_the_tables_they_reference(module: object) -> None:
    ddl = module.DDL  # type: ignore[attr-defined]
    order = list(_tables(ddl))
    for position, statement in enumerate(ddl):
        for referenced in re.findall(r"REFERENCES (\w+)", statement):
            assert order.index(referenced) < position, f"{order[position]} references {referenced} before it exists"
    assert set(module.CAPTURED) <= set(order)  # type: ignore[attr-defined]


def test_host_activities_key_is_composite_so_the_connector_must_rekey_it() -> None:
    assert "PRIMARY KEY (host_id, activity_id)" in _tables(mariadb.DDL)["host_activities"]
