"""The end of a rebalance: stream partitions resume only after the seek to committed offsets and
after the stream buffers were emptied, so no record fetched from a stale position is delivered."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from openframe_stream.settings import Settings
from topologies.app import create_app
from topologies.faust_ext.recovery import SeekFirstRecovery

STREAM = ("t.openframe.enriched.events", 1)
CHANGELOG = ("app-enrich-pending-changelog", 1)


def _fake_recovery(calls: list[str], *, generation: int = 7) -> Any:
    """Just the attributes `_seek_then_resume` touches, each recording when it is called."""

    async def perform_seek() -> None:
        calls.append("seek:start")
        await asyncio.sleep(0)  # the window in which Faust's own order lets the fetcher deliver
        calls.append("seek:end")

    async def maybe_start() -> None:
        calls.append("fetcher")

    async def wait(coro: Any, timeout: float | None = None) -> None:
        await coro

    consumer = SimpleNamespace(
        assignment=lambda: {STREAM, CHANGELOG},
        perform_seek=perform_seek,
        resume_flow=lambda: calls.append("resume_flow"),
        resume_partitions=lambda tps: calls.append(f"resume_partitions:{sorted(tps)}"),
    )
    app = SimpleNamespace(
        consumer=consumer,
        consumer_generation_id=generation,
        conf=SimpleNamespace(broker_request_timeout=90.0),
        flow_control=SimpleNamespace(resume=lambda: calls.append("flow_control.resume")),
        _fetcher=SimpleNamespace(maybe_start=maybe_start),
    )
    return SimpleNamespace(
        app=app,
        log=SimpleNamespace(info=lambda *a: None, warning=lambda *a: calls.append("warning")),
        completed=SimpleNamespace(set=lambda: calls.append("completed")),
        _wait=wait,
        _is_changelog_tp=lambda tp: tp == CHANGELOG,
    )


def test_streams_resume_after_the_seek_and_after_the_buffers_are_emptied() -> None:
    calls: list[str] = []
    resumed = asyncio.run(SeekFirstRecovery._seek_then_resume(_fake_recovery(calls), 7))
    assert resumed is True
    assert calls == [
        "seek:start", "seek:end", "completed", "flow_control.resume", "resume_flow",
        f"resume_partitions:{[STREAM]}",  # changelogs stay paused: recovery owns them
        "fetcher",
    ]


def test_a_newer_generation_leaves_everything_paused() -> None:
    calls: list[str] = []
    resumed = asyncio.run(SeekFirstRecovery._seek_then_resume(_fake_recovery(calls, generation=8), 7))
    assert resumed is False
    assert calls == ["warning"]


def test_the_worker_app_uses_it_and_the_membership_settings() -> None:
    settings = Settings.load(worker={"session_timeout": 6.0, "instance_id": "pod-3"})
    app = create_app(settings)
    assert type(app.tables.recovery) is SeekFirstRecovery
    assert app.conf.broker_session_timeout == 6.0
    assert app.conf.broker_heartbeat_interval == 2.0  # a third of the session, at most 3 s
    assert app.conf.consumer_group_instance_id == "pod-3"
