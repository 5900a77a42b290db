"""Detached server processes with pid files, so `stack` commands work across invocations."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    rss_bytes: int
    started_at: float  # epoch seconds


def _pid_file(run_dir: Path, name: str) -> Path:
    return run_dir / "pids" / f"{name}.pid"


def log_file(run_dir: Path, name: str) -> Path:
    return run_dir / "logs" / f"{name}.log"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as dead.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def read_pid(run_dir: Path, name: str) -> int | None:
    path = _pid_file(run_dir, name)
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def info(pid: int) -> ProcessInfo | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = float(
            next(line.split()[1] for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime"))
        )
    except (OSError, StopIteration, IndexError):
        return None
    rss_kb = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    started = boot + int(stat[19]) / os.sysconf("SC_CLK_TCK")
    return ProcessInfo(pid=pid, rss_bytes=rss_kb * 1024, started_at=started)


def tree_rss(pid: int) -> int:
    """RSS of a process and its children (PostgreSQL and MariaDB fork workers)."""
    total = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        proc = info(current)
        if proc is not None:
            total += proc.rss_bytes
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            children = []
        todo.extend(int(c) for c in children)
    return total


def spawn(
    run_dir: Path,
    name: str,
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
) -> int:
    """Start `argv` in its own session, output appended to the service log, pid recorded."""
    (run_dir / "pids").mkdir(parents=True, exist_ok=True)
    log = log_file(run_dir, name)
    log.parent.mkdir(parents=True, exist_ok=True)
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    command = list(argv)
    if user is not None and os.geteuid() == 0:
        command = ["runuser", "-u", user, "--", *command]
    with log.open("ab") as out:
        out.write(f"\n===== start {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(command)}\n".encode())
        out.flush()
        proc = subprocess.Popen(  # noqa: S603 - argv is built from settings, never from user text
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=str(cwd) if cwd else None,
            env=full_env,
            start_new_session=True,
        )
    # runuser forks the server as a child; record runuser's pid: signals to the session reach both.
    _pid_file(run_dir, name).write_text(str(proc.pid))
    return proc.pid


def stop(run_dir: Path, name: str, timeout: float = 60.0, sig: int = signal.SIGTERM) -> bool:
    """Signal the service's process group (`sig`), wait, then SIGKILL. True if it was running."""
    pid = read_pid(run_dir, name)
    if pid is None:
        _pid_file(run_dir, name).unlink(missing_ok=True)
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _group_alive(pid):
        time.sleep(0.1)
    if _group_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    _reap(pid)
    _pid_file(run_dir, name).unlink(missing_ok=True)
    return True


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _alive(pgid) or _any_in_group(pgid)


def _any_in_group(pgid: int) -> bool:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
