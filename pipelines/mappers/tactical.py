"""Tactical RMM (PostgreSQL): `logs_auditlog`, `agents_agenthistory`, `autotasks_taskresult`.

The reference resolved the integer `agent_id` of history and task rows to the agent's string id,
and script/task names, through the Tactical REST API. We do no I/O: `agentId` is that integer as
text, and messages use the reference's own fallbacks for unknown names.
"""

from __future__ import annotations

from typing import Any, Final

from pipelines.mappers._fields import compact, dotted, float_or_text, int_or_text, json_object, present, text
from pipelines.mappers._registry import mapper
from pipelines.records import Change, ToolEvent

_TASK_STATUS: Final = {
    "passing": "task_result.completed",
    "failing": "task_result.failing",
    "pending": "task_result.pending",
}


@mapper("tactical.logs_auditlog", tool="TACTICAL")
def audit_log(change: Change) -> ToolEvent:
    """An audit entry: source type `<object_type>.<action>`; `after_value` becomes additional info.
    `agent.execute_script`/`agent.execute_command` are invisible (see `taxonomy/tactical.json`)."""
    row = change.row
    return ToolEvent(  # positional, in field order: this mapper is on the hot path
        dotted(text(row.get("object_type")), text(row.get("action"))),  # source_type
        text(row.get("id")),  # pk
        row.get("entry_time"),  # time
        # Tactical's column is `agent_id` (a string here); older captures and the reference say `agentid`.
        text(row.get("agent_id") or row.get("agentid")),  # agent_id
        text(row.get("message")),  # message
        None,  # discriminator
        None,  # error
        None,  # result
        json_object(row.get("after_value")),  # additional_info
    )


@mapper("tactical.agents_agenthistory", tool="TACTICAL")
def agent_history(change: Change) -> ToolEvent:
    """A command or script run: `<type>.started` until `results`/`script_results` arrive, then
    `<type>.finished` (type is `cmd_run` or `script_run`)."""
    row = change.row
    run_type = text(row.get("type"))
    results, script_results = row.get("results"), row.get("script_results")
    finished = present(results) or present(script_results)
    return ToolEvent(
        source_type=f"{run_type}.{'finished' if finished else 'started'}" if run_type else "unknown",
        pk=text(row.get("id")),
        time=row.get("time"),
        agent_id=text(row.get("agent_id")),
        message=_history_message(run_type, row),
        result=_history_result(results, script_results),
        error=_history_error(script_results),
    )


def _history_message(run_type: str | None, row: Any) -> str | None:
    if run_type == "cmd_run":
        command = text(row.get("command")) or "unknown command"
        return f"Command '{command}' {'completed' if present(row.get('results')) else 'started'}"
    if run_type == "script_run":
        script_id = text(row.get("script_id"))
        if script_id is None:
            return "Script execution event (script ID not found)"
        if not script_id.strip().lstrip("-").isdigit():
            return "Script execution event (invalid script ID format)"
        state = "completed" if present(row.get("script_results")) else "started"
        return f"Script 'Unknown Script (ID: {script_id.strip()})' {state}"
    return None


def _history_result(results: Any, script_results: Any) -> Any:
    if present(script_results):
        parsed = json_object(script_results)
        if parsed is None:
            return script_results  # not an object: kept as the reference did
        execution_time = text(parsed.get("execution_time"))
        return compact(
            {
                "output": _output(parsed["stdout"]) if "stdout" in parsed else None,
                "execution_time": float_or_text(execution_time) if execution_time is not None else None,
            }
        )
    if present(results):
        return {"output": text(results) if not isinstance(results, dict | list) else results}
    return None


def _output(value: Any) -> str | None:
    # Kept even when empty, as the reference did; only a missing or null stdout is left out.
    return value if isinstance(value, str) else text(value)


def _history_error(script_results: Any) -> Any:
    parsed = json_object(script_results)
    stderr = text(parsed.get("stderr")) if parsed is not None else None
    return {"output": stderr} if stderr is not None else None


@mapper("tactical.autotasks_taskresult", tool="TACTICAL")
def task_result(change: Change) -> ToolEvent:
    """An automated task's last result: status passing/failing/pending."""
    row = change.row
    status, task_id = text(row.get("status")), text(row.get("task_id"))
    stdout, stderr, retcode = text(row.get("stdout")), text(row.get("stderr")), text(row.get("retcode"))
    execution_time = text(row.get("execution_time"))
    result = None
    if stdout is not None:
        result = compact(
            {
                "output": stdout,
                "execution_time": float_or_text(execution_time) if execution_time is not None else None,
                "retcode": int_or_text(retcode) if retcode is not None else None,
                "task_id": task_id,
            }
        )
    if stderr is not None:
        error: dict[str, Any] | None = {"output": stderr}
    elif status == "failing":
        error = {"output": stdout or "", "retcode": retcode or ""}
    else:
        error = None
    return ToolEvent(
        source_type=_TASK_STATUS.get(status, f"task_result.{status}") if status else "unknown",
        pk=text(row.get("id")),
        time=row.get("last_run"),
        agent_id=text(row.get("agent_id")),
        message=f"Task {task_id or 'unknown'} {status or 'unknown'}",
        result=result,
        error=error,
        additional_info=compact(
            {"sync_status": text(row.get("sync_status")), "run_status": text(row.get("run_status")), "task_id": task_id}
        ),
    )
