"""A small Kafka Connect REST client (requests) and the operations the CLI is made of."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from connectors.diff import ConfigChange, diff_configs
from connectors.specs import Connector
from infra.health import wait_until
from openframe_stream.errors import PlatformError, Terminal, Transient

# Connect answers 409 while its workers rebalance; the same request succeeds a moment later.
_REBALANCING = 409


class ConnectUnavailable(Transient):
    """Kafka Connect did not answer (down, restarting, or rebalancing for too long)."""


class ConnectRejected(PlatformError):
    """Kafka Connect answered with an error for this request."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"Kafka Connect answered {status}: {message}")
        self.status = status
        self.message = message


class ConnectorFailed(Terminal):
    """A connector or one of its tasks is FAILED; `detail` carries the trace's head."""


class ConnectClient:
    def __init__(self, url: str, timeout: float = 30.0, session: requests.Session | None = None) -> None:
        self._url = url.rstrip("/")
        self._timeout = timeout
        self._http = session or requests.Session()

    def _call(self, method: str, path: str, body: Any = None, missing_ok: bool = False) -> Any:
        def attempt() -> requests.Response:
            try:
                return self._http.request(method, self._url + path, json=body, timeout=self._timeout)
            except requests.RequestException as exc:
                raise ConnectUnavailable(f"{method} {path}: {exc}") from exc

        answer: list[requests.Response] = []

        def settled() -> bool:
            response = attempt()
            if response.status_code == _REBALANCING:
                return False
            answer.append(response)
            return True

        try:
            wait_until(settled, timeout=self._timeout, what=f"Kafka Connect {method} {path}")
        except TimeoutError as exc:
            raise ConnectUnavailable(f"{method} {path}: still rebalancing after {self._timeout:.0f}s") from exc
        response = answer[0]
        if response.status_code == 404 and missing_ok:
            return None
        if not response.ok:
            try:
                message = response.json().get("message", response.text)
            except ValueError:
                message = response.text
            raise ConnectRejected(response.status_code, str(message))
        if response.status_code == 204 or not response.content:
            return {}
        return response.json()

    def names(self) -> list[str]:
        return sorted(self._call("GET", "/connectors"))

    def config(self, name: str) -> dict[str, str] | None:
        found = self._call("GET", f"/connectors/{quote(name)}/config", missing_ok=True)
        return None if found is None else {str(k): str(v) for k, v in found.items()}

    def put_config(self, name: str, config: Mapping[str, str]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("PUT", f"/connectors/{quote(name)}/config", dict(config))
        return result

    def status(self, name: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._call("GET", f"/connectors/{quote(name)}/status", missing_ok=True)
        return found

    def validate(self, connector_class: str, config: Mapping[str, str]) -> dict[str, Any]:
        path = f"/connector-plugins/{quote(connector_class)}/config/validate"
        result: dict[str, Any] = self._call("PUT", path, dict(config))
        return result

    def restart_failed(self, name: str) -> dict[str, Any] | None:
        """KIP-745: restart only the FAILED connector instance and tasks."""
        path = f"/connectors/{quote(name)}/restart?includeTasks=true&onlyFailed=true"
        found: dict[str, Any] | None = self._call("POST", path, missing_ok=True)
        return found

    def restart_task(self, name: str, task: int) -> bool:
        """Restart one task, whatever its state (Connect stops it, then starts a new one)."""
        return self._call("POST", f"/connectors/{quote(name)}/tasks/{task}/restart", missing_ok=True) is not None

    def offsets(self, name: str) -> list[dict[str, Any]] | None:
        """KIP-875: the connector's committed source offsets, `[{"partition": {...}, "offset": {...}}]`."""
        found = self._call("GET", f"/connectors/{quote(name)}/offsets", missing_ok=True)
        return None if found is None else [dict(item) for item in found.get("offsets", [])]

    def delete(self, name: str) -> bool:
        return self._call("DELETE", f"/connectors/{quote(name)}", missing_ok=True) is not None


@dataclass(frozen=True)
class Applied:
    name: str
    changes: list[ConfigChange]
    created: bool
    written: bool  # False for a dry run or when nothing changed


def apply(client: ConnectClient, connector: Connector, dry_run: bool = False) -> Applied:
    """Idempotent: PUT the config only when it differs from what Connect has."""
    desired = dict(connector.config, name=connector.name)
    current = client.config(connector.name)
    changes = diff_configs(current, desired)
    write = bool(changes) and not dry_run
    if write:
        client.put_config(connector.name, desired)
    return Applied(connector.name, changes, current is None, write)


def validation_errors(body: Mapping[str, Any]) -> dict[str, list[str]]:
    """Field -> its errors, from a `config/validate` answer (empty when the config is valid)."""
    errors: dict[str, list[str]] = {}
    for item in body.get("configs", []):
        value = item.get("value", {})
        if value.get("errors"):
            errors[str(value.get("name"))] = [str(e) for e in value["errors"]]
    return errors


@dataclass(frozen=True)
class StateRow:
    connector: str
    unit: str  # "connector" or "task N"
    state: str
    worker: str
    trace: str


def state_rows(name: str, status: Mapping[str, Any] | None) -> list[StateRow]:
    """Table rows for one connector's status answer (None: not on Connect)."""
    if status is None:
        return [StateRow(name, "connector", "ABSENT", "", "")]
    top = status.get("connector", {})
    rows = [StateRow(name, "connector", str(top.get("state")), str(top.get("worker_id", "")), _head(top))]
    for task in sorted(status.get("tasks", []), key=lambda t: int(t.get("id", 0))):
        unit, state = f"task {task.get('id')}", str(task.get("state"))
        rows.append(StateRow(name, unit, state, str(task.get("worker_id", "")), _head(task)))
    if not status.get("tasks") and top.get("state") == "RUNNING":
        # A running connector with no task is silently dead CDC (the reference alerted on this).
        rows.append(StateRow(name, "tasks", "NONE", "", "connector RUNNING without tasks"))
    return rows


def _head(unit: Mapping[str, Any]) -> str:
    trace = str(unit.get("trace") or "")
    return trace.splitlines()[0][:200] if trace else ""


def running(client: ConnectClient, name: str) -> bool:
    """True once the connector and all its tasks run; raises ConnectorFailed on a FAILED one."""
    status = client.status(name)
    if status is None:
        return False
    units = [status.get("connector", {}), *status.get("tasks", [])]
    for unit in units:
        if unit.get("state") == "FAILED":
            raise ConnectorFailed("connector_failed", f"{name}: {str(unit.get('trace', ''))[:3000]}")
    return bool(status.get("tasks")) and all(unit.get("state") == "RUNNING" for unit in units)


def wait_running(client: ConnectClient, name: str, timeout: float) -> float:
    return wait_until(lambda: running(client, name), timeout=timeout, what=f"connector {name}")
