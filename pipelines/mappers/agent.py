"""OpenFrame agent results (tool type RMM): command and script executions, as the agent publishes
them on NATS (`machine.<id>.{command,script}-execution.result`). The Kafka value is that payload
bare, or wrapped in the synthetic Debezium envelope the reference's RmmResultService writes.

Better than the reference: a script that timed out, exited non-zero or reported an error is
`script_run.failed` -> SCRIPT_FAILED (ERROR), not SCRIPT_EXECUTED (INFO).
"""

from __future__ import annotations

from typing import Final

from pipelines.mappers._fields import compact, int_or_text, text, truthy
from pipelines.mappers._registry import mapper
from pipelines.records import MESSAGE_TYPE_HEADER, Change, ToolEvent

_COMMAND: Final = "COMMAND_EXECUTED"
_SCRIPT: Final = "SCRIPT_EXECUTED"


def is_script(change: Change) -> bool:
    """Script or command: the `message-type` header says so; without it, a `scriptId` does."""
    kind = change.headers.get(MESSAGE_TYPE_HEADER)
    if isinstance(kind, str):
        kind = kind.upper()
        if kind == _SCRIPT:
            return True
        if kind == _COMMAND:
            return False
    return text(change.row.get("scriptId")) is not None


def _int_field(value: object) -> tuple[str | None, int | str | None]:
    """(text, value) of a numeric field: 2 -> ("2", 2); "x" -> ("x", "x"); null -> (None, None)."""
    if type(value) is int:
        return str(value), value
    as_text = text(value)
    return as_text, int_or_text(as_text) if as_text is not None else None


@mapper("agent.results", tool="RMM", table="events")
def results(change: Change) -> ToolEvent:
    """PK `<executionId>:<machineId>`; `machineId` is already an OpenFrame device id."""
    row = change.row
    execution_id, machine_id = text(row.get("executionId")), text(row.get("machineId"))
    exit_text, exit_code = _int_field(row.get("exitCode"))
    duration = _int_field(row.get("executionTimeMs"))[1]
    non_zero = type(exit_code) is int and exit_code != 0
    raw_timed_out = row.get("timedOut")
    timed_out = raw_timed_out is True or (
        raw_timed_out is not None and raw_timed_out is not False and truthy(raw_timed_out)
    )
    stdout, stderr, error = text(row.get("stdout")), text(row.get("stderr")), text(row.get("error"))

    if not is_script(change):
        source_type = "cmd_run.finished"
        if timed_out:
            message = "Command timed out"
        elif exit_text is not None:
            message = f"Command finished (exit code {exit_text})"
        else:
            message = "Command finished"
    elif timed_out or non_zero or error is not None:
        source_type = "script_run.failed"
        if timed_out:
            message = "Script timed out"
        elif non_zero:
            message = f"Script failed (exit code {exit_text})"
        else:
            message = "Script failed"
    else:
        source_type, message = "script_run.finished", "Script executed"

    failure = None
    if timed_out or non_zero or stderr is not None or error is not None:
        failure = compact(
            {"output": stderr, "error": error, "exit_code": exit_code, "timed_out": True if timed_out else None}
        )
    timed_out_flag = timed_out if raw_timed_out is not None and raw_timed_out != "" else None
    return ToolEvent(  # positional, in field order: this mapper is on the hot path
        source_type,
        None if execution_id is None and machine_id is None else f"{execution_id or ''}:{machine_id or ''}",  # pk
        row.get("eventTimestamp"),  # time
        machine_id,  # agent_id
        message,
        text(row.get("tenantId")),  # discriminator
        failure,  # error
        compact({"output": stdout, "exit_code": exit_code, "execution_time_ms": duration}),  # result
        compact(
            {"exit_code": exit_code, "execution_time_ms": duration, "timed_out": timed_out_flag}
        ),  # additional_info
    )
