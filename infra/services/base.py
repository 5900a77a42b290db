"""What a managed service is: how to provision, prepare, launch and health-check it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openframe_stream.settings import Settings


@dataclass(frozen=True)
class Launch:
    argv: list[str]
    env: Mapping[str, str] = field(default_factory=dict)
    user: str | None = None  # run as this OS user when we are root (PostgreSQL refuses root)
    cwd: Path | None = None


@dataclass(frozen=True)
class Service:
    name: str
    deps: tuple[str, ...]
    port: Callable[[Settings], int]
    provision: Callable[[Settings], object]  # download/resolve (result unused): slow only the first time
    prepare: Callable[[Settings], Launch]  # configs and one-time init; returns how to start
    healthy: Callable[[Settings], bool]
    after_start: Callable[[Settings], None] | None = None  # idempotent set-up needing the live server
    stop_timeout: float = 60.0
    stop_signal: int = 15  # SIGTERM


def service_dir(settings: Settings, name: str) -> Path:
    path = settings.stack.run_dir / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def jvm_flags(settings: Settings, heap: str, service: str) -> list[str]:
    """Flags that make a JVM start fast and stay small on 2 cores."""
    flags = ["-Xms64m", f"-Xmx{heap}", "-Xss512k"]
    flags += ["-XX:+UseSerialGC", "-Djava.awt.headless=true", "-Djava.net.preferIPv4Stack=true"]
    if service in settings.stack.fast_jit:
        flags += ["-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1"]
    return flags


def classpath(*folders: Path) -> str:
    return ":".join(f"{folder}/*" for folder in folders)


def owned_dir(settings: Settings, name: str, user: str) -> Path:
    """A data folder that `user` owns and can reach.

    PostgreSQL and MariaDB run as their own users. If the checkout sits under a folder they cannot
    traverse (e.g. /root), their data goes to /var/tmp instead; a pointer file in the run folder
    records where, so `stack reset` wipes it too.
    """
    import hashlib
    import os
    import shutil
    import subprocess

    preferred = service_dir(settings, name)
    if os.geteuid() != 0:
        return preferred
    pointer = preferred / ".data-location"
    if pointer.exists():
        return Path(pointer.read_text().strip())
    shutil.chown(preferred, user, user)
    reachable = subprocess.run(["runuser", "-u", user, "--", "test", "-w", str(preferred)]).returncode == 0
    target = preferred / "own"
    if not reachable:
        digest = hashlib.sha256(str(settings.stack.run_dir).encode()).hexdigest()[:10]
        shared = Path("/var/tmp/openframe-stream")  # noqa: S108 - root-owned, per-checkout subfolder
        shared.mkdir(mode=0o755, parents=True, exist_ok=True)
        target = shared / digest / name
    target.mkdir(parents=True, exist_ok=True)
    shutil.chown(target, user, user)
    pointer.write_text(str(target))
    return target


def data_locations(run_dir: Path) -> list[Path]:
    """Every data folder recorded by `owned_dir` under this run folder."""
    return [Path(p.read_text().strip()) for p in run_dir.glob("*/.data-location")]
