from __future__ import annotations

from pathlib import Path

import pytest

from infra import process
from infra.health import wait_until


def test_spawn_records_pid_and_stop_kills_the_group(tmp_path: Path) -> None:
    pid = process.spawn(tmp_path, "sleeper", ["sh", "-c", "echo hello; sleep 60"])
    assert process.read_pid(tmp_path, "sleeper") == pid
    wait_until(lambda: "hello" in process.log_file(tmp_path, "sleeper").read_text(), 5, "log line")
    info = process.info(pid)
    assert info is not None and info.rss_bytes > 0
    assert process.stop(tmp_path, "sleeper", timeout=5) is True
    assert process.read_pid(tmp_path, "sleeper") is None
    assert process.stop(tmp_path, "sleeper", timeout=5) is False


def test_wait_until_returns_times_out_and_notices_death() -> None:
    calls = iter([False, False, True])
    assert wait_until(lambda: next(calls), timeout=5, what="x", interval=0.01) >= 0
    with pytest.raises(TimeoutError, match="not healthy after"):
        wait_until(lambda: False, timeout=0.2, what="never", interval=0.01)
    with pytest.raises(RuntimeError, match="exited before"):
        wait_until(lambda: False, timeout=5, what="dead", alive=lambda: False)
