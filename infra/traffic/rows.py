"""What one generated tool event looks like: rows, payloads and documents as the tools write them.
Pure functions of (rng, device, now); the catalogs below are the fixed scripts, tasks, policies
and queries the estate is provisioned with.
"""

from __future__ import annotations

import json
import random
from typing import Any, Final

import orjson

from infra.traffic.estate import Device

SCRIPTS: Final = ("Clear-TempFiles", "Restart-Spooler", "Collect-EventLogs", "Defrag-Disk", "Check-Updates")
TASKS: Final = ("Nightly backup check", "Disk cleanup", "AV definition update")
POLICIES: Final = (
    ("Disk encryption enabled", "SELECT 1 FROM bitlocker_info WHERE protection_status = 1;"),
    ("Firewall enabled", "SELECT 1 FROM windows_security_center WHERE firewall = 'Good';"),
    ("Screen lock under 10 minutes", "SELECT 1 FROM screenlock WHERE grace_period <= 600;"),
    ("OS up to date", "SELECT 1 FROM os_version WHERE major >= 14;"),
)
QUERIES: Final = (
    ("Installed browsers", "SELECT name, version FROM programs WHERE name LIKE '%Chrome%';"),
    ("Listening ports", "SELECT port, protocol FROM listening_ports;"),
    ("Local admins", "SELECT username FROM users WHERE gid = 0;"),
)
USERS: Final = (("tech1", "Ana Silva", "ana@msp.example"), ("tech2", "Ben Okafor", "ben@msp.example"))
COMMANDS: Final = ("ipconfig /flushdns", "gpupdate /force", "Get-Service spooler", "df -h", "uptime")
_AUDIT: Final = (
    ("user", "login", False),
    ("user", "failed_login", False),
    ("agent", "execute_script", True),
    ("agent", "execute_command", True),
    ("agent", "remote_session", True),
    ("agent", "modify", True),
    ("script", "modify", False),
    ("automatedtask", "task_run", True),
    ("check", "check_run", True),
    ("bulk", "bulk_action", False),
)
_MESH: Final = (
    ("user", "login", False, "Account login"),
    ("node", "changenode", True, "Changed device {host}"),
    ("relay", "relaylog", True, "Started desktop session to {host}"),
    ("node", "agentlog", True, "Uploaded file to {host}"),
    ("node", "sysinfohash", True, "System information changed on {host}"),
    ("mesh", "meshchange", False, "Changed device group settings"),
    ("servertimelinestats", "", False, "Server timeline stats"),
)


def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def _uuid(rng: random.Random) -> str:
    h = _hex(rng, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def tactical_audit(rng: random.Random, device: Device, now_ms: int) -> dict[str, Any]:
    object_type, action, on_agent = _AUDIT[rng.randrange(len(_AUDIT))]
    username = USERS[rng.randrange(len(USERS))][0]
    after: Any = None
    if action == "execute_script":
        after = {"script": SCRIPTS[rng.randrange(len(SCRIPTS))], "timeout": 90}
    elif action == "execute_command":
        after = COMMANDS[rng.randrange(len(COMMANDS))]
    elif action == "modify":
        after = {"description": f"updated by {username}", "monitoring_type": "workstation"}
    message = f"{username} {action.replace('_', ' ')} {object_type}" + (f" on {device.hostname}" if on_agent else "")
    return {
        "username": username,
        "agent": device.hostname if on_agent else None,
        "agent_id": device.tactical_agent_id if on_agent else None,
        "entry_time": now_ms,
        "action": action,
        "object_type": object_type,
        "before_value": None,
        "after_value": after,
        "message": message[:255],
        "debug_info": {"ip": f"10.0.{rng.randrange(256)}.{rng.randrange(1, 255)}", "method": "POST"},
    }


def tactical_history_start(rng: random.Random, device: Device, now_ms: int) -> dict[str, Any]:
    script = rng.random() < 0.5
    return {
        "agent": device.tactical_agent_id,
        "time": now_ms,
        "type": "script_run" if script else "cmd_run",
        "command": "" if script else COMMANDS[rng.randrange(len(COMMANDS))],
        "script": SCRIPTS[rng.randrange(len(SCRIPTS))] if script else None,
        "username": USERS[rng.randrange(len(USERS))][0],
    }


def tactical_history_finish(rng: random.Random, run_type: str) -> dict[str, Any]:
    failed = rng.random() < 0.15
    if run_type == "cmd_run":
        return {"results": "Access is denied." if failed else "The operation completed successfully."}
    return {
        "script_results": {
            "id": rng.randrange(1, 10**6),
            "stdout": "" if failed else f"Removed {rng.randrange(1, 900)} files",
            "stderr": "Script exited with an error" if failed else "",
            "retcode": 1 if failed else 0,
            "execution_time": round(rng.uniform(0.2, 30.0), 4),
        }
    }


def tactical_task(rng: random.Random, device: Device, now_ms: int) -> dict[str, Any]:
    status = rng.choices(("passing", "failing", "pending"), weights=(7, 2, 1))[0]
    return {
        "agent": device.tactical_agent_id,
        "task": TASKS[rng.randrange(len(TASKS))],
        "status": status,
        "retcode": None if status == "pending" else (0 if status == "passing" else rng.choice((1, 2, 1603))),
        "stdout": None if status == "pending" else "Task completed",
        "stderr": "Exit code was non-zero" if status == "failing" else None,
        "execution_time": f"{rng.uniform(0.1, 120):.4f}",
        "last_run": now_ms,
        "sync_status": "synced",
    }


def fleet_activity(rng: random.Random, device: Device | None, now_ms: int) -> dict[str, Any]:
    """An `activities` row; `host_id` (not a column) is set when the activity is about a host."""
    user_id = rng.randrange(len(USERS))
    _, name, email = USERS[user_id]
    if device is None:
        kind = rng.choice(("user_logged_in", "live_query", "edited_policy"))
        global_details: dict[str, dict[str, Any]] = {
            "user_logged_in": {"public_ip": f"203.0.113.{rng.randrange(1, 255)}"},
            "live_query": {"targets_count": rng.randrange(1, 40), "query_sql": QUERIES[0][1], "query_name": None},
            "edited_policy": {"policy_id": 1, "policy_name": POLICIES[0][0], "team_id": None},
        }
        details = global_details[kind]
        host_id = None
    else:
        kind = rng.choice(("ran_script", "installed_software", "locked_host"))
        host_id = device.fleet_host_id
        details = {"host_id": host_id, "host_display_name": device.hostname}
        if kind == "ran_script":
            details |= {"script_name": SCRIPTS[rng.randrange(len(SCRIPTS))] + ".ps1", "async": True}
            details["script_execution_id"] = _uuid(rng)
        elif kind == "installed_software":
            details |= {"software_title": "Firefox", "software_package": "Firefox.pkg", "status": "installed"}
            details |= {"install_uuid": _uuid(rng), "policy_id": None, "self_service": False}
    return {
        "created_at": now_ms,
        "user_id": user_id + 1,
        "user_name": name,
        "user_email": email,
        "activity_type": kind,
        "details": details,
        "fleet_initiated": 0,
        "host_only": 0,
        "host_id": host_id,
    }


def fleet_query_result(rng: random.Random, device: Device, now_ms: int) -> dict[str, Any]:
    failed = rng.random() < 0.1
    data = [{"port": str(p), "protocol": "6"} for p in rng.sample((22, 80, 443, 3389, 5985), 2)]
    return {
        "query": rng.randrange(len(QUERIES)),
        "host_id": device.fleet_host_id,
        "osquery_version": "5.12.1",
        "error": "no such table: programs" if failed else None,
        "data": None if failed else data,
        "last_fetched": now_ms,
        "replace": rng.random() < 0.3,  # Fleet replaces a host's rows of a query on each report
    }


def fleet_policy(rng: random.Random, device: Device, now_ms: int, previous: bool | None) -> dict[str, Any]:
    passes = (rng.random() < 0.8) if previous is None else (previous if rng.random() < 0.7 else not previous)
    return {
        "policy": rng.randrange(len(POLICIES)),
        "host_id": device.fleet_host_id,
        "passes": passes,
        "updated_at": now_ms,
        "automation_iteration": rng.randrange(1, 5) if not passes else None,
    }


def agent_result(rng: random.Random, device: Device, now_ms: int, script: bool, tenant: str) -> dict[str, Any]:
    """A NATS payload as the OpenFrame agent publishes it (see the shared fixture)."""
    timed_out = rng.random() < 0.03
    exit_code = None if timed_out else rng.choices((0, 1, 2, 5), weights=(85, 8, 4, 3))[0]
    return {
        "tenantId": tenant,
        "machineId": device.machine_id,
        "executionId": f"x-{_uuid(rng)}",
        "scriptId": f"s-{SCRIPTS[rng.randrange(len(SCRIPTS))].lower()}" if script else None,
        "scheduleId": None,
        "stdout": "" if timed_out else "done",
        "stderr": "" if exit_code in (0, None) else f"exit status {exit_code}",
        "exitCode": exit_code,
        "executionTimeMs": 90_000 if timed_out else rng.randrange(50, 20_000),
        "timedOut": timed_out,
        "error": "execution timed out after 90s" if timed_out else None,
        "eventTimestamp": now_ms,
    }


def mesh_event(rng: random.Random, device: Device | None, now_ms: int) -> dict[str, Any]:
    """A MeshCentral `events` document; `_id` is the ObjectId hex, `time` epoch ms."""
    etype, action, on_node, text = _MESH[rng.randrange(len(_MESH))]
    if device is None:
        on_node = False
    doc: dict[str, Any] = {"_id": f"{now_ms // 1000:08x}{_hex(rng, 16)}", "etype": etype}
    if action:
        doc["action"] = action
    doc |= {"userid": "user//admin", "username": "admin", "domain": ""}
    if on_node and device is not None:
        doc["nodeid"] = device.mesh_node_id
    doc |= {"msg": text.format(host=device.hostname if device else ""), "msgid": rng.randrange(1, 200)}
    doc["ids"] = [doc.get("nodeid", "user//admin")]
    doc["time"] = now_ms
    return doc


def mesh_envelope(doc: dict[str, Any], ts_ms: int) -> tuple[bytes, bytes]:
    """(key, value) of a MeshCentral document as Debezium MongoDB records it (the shared fixture)."""
    fields = {k: v for k, v in doc.items() if k not in ("_id", "time")}
    extended = {"_id": {"$oid": doc["_id"]}, **fields, "time": {"$date": doc["time"]}}
    # Debezium's Java JSON writer spaces its output like Python's json module does.
    key = orjson.dumps({"id": json.dumps({"$oid": doc["_id"]})})
    source = {"version": "3.2.0.Final", "connector": "mongodb", "name": "meshcentral", "ts_ms": doc["time"]}
    source |= {"snapshot": "false", "db": "meshcentral", "collection": "events", "ord": 1}
    value = {"before": None, "after": json.dumps(extended), "source": source, "op": "c", "ts_ms": ts_ms}
    return key, orjson.dumps(value)
