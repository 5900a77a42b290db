"""Bring the local stack up in dependency order, report on it, and take it down."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from infra import process
from infra.health import wait_until
from infra.services import SERVICES, Service
from infra.services.base import data_locations

if TYPE_CHECKING:
    from openframe_stream.settings import Settings

JVM_SERVICES = frozenset({"kafka", "connect", "cassandra", "pinot-zk", "pinot"})
# JVMs JIT-compile hard while starting; more than two at once on two cores slows every one of them.
_JVM_STARTS_AT_ONCE = 2


@dataclass(frozen=True)
class Outcome:
    name: str
    ok: bool
    seconds: float
    started: bool  # False: it was already healthy and left alone
    error: str = ""


@dataclass(frozen=True)
class Status:
    name: str
    state: str  # running | stopped | external
    port: int
    pid: int | None
    healthy: bool
    uptime: float | None
    rss_bytes: int | None


Progress = Callable[[str, str], None]  # (service, phase) -> None


def managed(
    settings: Settings, names: Iterable[str] | None = None, registry: Mapping[str, Service] = SERVICES
) -> list[Service]:
    """The services to act on, dependencies first, each once."""
    wanted = list(names) if names else list(settings.stack.services)
    unknown = [n for n in wanted if n not in registry]
    if unknown:
        raise ValueError(f"unknown service(s): {', '.join(unknown)}; known: {', '.join(registry)}")
    # A requested service pulls in its dependencies.
    closed: list[str] = []

    def add(name: str) -> None:
        for dep in registry[name].deps:
            add(dep)
        if name not in closed:
            closed.append(name)

    for name in wanted:
        add(name)
    return [registry[n] for n in registry if n in closed]


def _start_one(settings: Settings, service: Service, progress: Progress, jvm_gate: threading.Semaphore) -> Outcome:
    run_dir = settings.stack.run_dir
    begin = time.monotonic()
    pid = process.read_pid(run_dir, service.name)
    if service.healthy(settings):
        progress(service.name, "up")
        return Outcome(service.name, True, time.monotonic() - begin, started=False)
    progress(service.name, "provisioning")
    service.provision(settings)
    gate = jvm_gate if service.name in JVM_SERVICES else None
    if gate:
        progress(service.name, "queued")
        gate.acquire()
    try:
        if pid is None:
            progress(service.name, "starting")
            launch = service.prepare(settings)
            pid = process.spawn(run_dir, service.name, launch.argv, launch.env, launch.cwd, launch.user)
        else:
            progress(service.name, "waiting")
        started_pid = pid
        wait_until(
            lambda: service.healthy(settings),
            timeout=settings.stack.start_timeout,
            what=service.name,
            alive=lambda: process.read_pid(run_dir, service.name) == started_pid,
        )
    finally:
        if gate:
            gate.release()
    if service.after_start is not None:
        progress(service.name, "configuring")
        service.after_start(settings)
    progress(service.name, "up")
    return Outcome(service.name, True, time.monotonic() - begin, started=True)


def up(
    settings: Settings,
    names: Iterable[str] | None = None,
    progress: Progress | None = None,
    registry: Mapping[str, Service] = SERVICES,
) -> list[Outcome]:
    """Start what is down, each service once its dependencies are healthy. Idempotent."""
    services = managed(settings, names, registry)
    report = progress or (lambda name, phase: None)
    done = {s.name: threading.Event() for s in services}
    outcomes: dict[str, Outcome] = {}
    gate = threading.Semaphore(_JVM_STARTS_AT_ONCE)

    def run(service: Service) -> None:
        begin = time.monotonic()
        try:
            for dep in service.deps:
                if dep in done:
                    done[dep].wait()
                    if not outcomes[dep].ok:
                        raise RuntimeError(f"dependency {dep} failed")
            outcomes[service.name] = _start_one(settings, service, report, gate)
        except Exception as exc:  # noqa: BLE001 - reported per service, never swallowed
            outcomes[service.name] = Outcome(service.name, False, time.monotonic() - begin, True, str(exc))
            report(service.name, "failed")
        finally:
            done[service.name].set()

    threads = [threading.Thread(target=run, args=(s,), name=f"up-{s.name}", daemon=True) for s in services]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [outcomes[s.name] for s in services]


def status(settings: Settings) -> list[Status]:
    rows = []
    run_dir = settings.stack.run_dir
    for name, service in SERVICES.items():
        is_managed = name in settings.stack.services
        pid = process.read_pid(run_dir, name) if is_managed else None
        healthy = service.healthy(settings)
        info = process.info(pid) if pid else None
        state = "external" if not is_managed else ("running" if pid else "stopped")
        rows.append(
            Status(
                name=name,
                state=state,
                port=service.port(settings),
                pid=pid,
                healthy=healthy,
                uptime=(time.time() - info.started_at) if info else None,
                rss_bytes=process.tree_rss(pid) if pid else None,
            )
        )
    return rows


def down(settings: Settings, names: Iterable[str] | None = None, progress: Progress | None = None) -> list[str]:
    """Stop services in reverse dependency order; data is kept."""
    stopped = []
    report = progress or (lambda name, phase: None)
    for service in reversed(managed(settings, names) if names else list(SERVICES.values())):
        report(service.name, "stopping")
        if process.stop(settings.stack.run_dir, service.name, timeout=service.stop_timeout, sig=service.stop_signal):
            stopped.append(service.name)
        report(service.name, "stopped")
    return stopped


def reset(settings: Settings) -> None:
    """Stop everything and wipe the data (the jar and binary cache stays)."""
    down(settings)
    for location in data_locations(settings.stack.run_dir):
        shutil.rmtree(location, ignore_errors=True)
    shutil.rmtree(settings.stack.run_dir, ignore_errors=True)


def log_tail(settings: Settings, name: str, lines: int = 40) -> str:
    path = process.log_file(settings.stack.run_dir, name)
    if not path.exists():
        return f"(no log yet at {path})"
    with path.open("rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - 256 * 1024))
        text = handle.read().decode(errors="replace")
    return "\n".join(text.splitlines()[-lines:])
