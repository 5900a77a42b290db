"""Orchestration logic of `stack up/down` over stand-in services (pure logic; the real servers are
covered by the integration tier)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from infra import stack
from infra.services.base import Launch, Service
from openframe_stream.settings import Settings


class FakeServer:
    """A service whose 'process' is a shell sleep and whose health is a flag we flip."""

    def __init__(self, name: str, deps: tuple[str, ...] = (), fail: bool = False, up: bool = False) -> None:
        self.name, self.deps, self.fail = name, deps, fail
        self.healthy = up
        self.started = 0
        self.lock = threading.Lock()

    def service(self, order: list[str]) -> Service:
        def prepare(settings: Settings) -> Launch:
            with self.lock:
                self.started += 1
                order.append(self.name)
            if self.fail:
                raise RuntimeError(f"{self.name} cannot start")
            self.healthy = True
            return Launch(argv=["sleep", "30"])

        return Service(
            name=self.name,
            deps=self.deps,
            port=lambda s: 1,
            provision=lambda s: None,
            prepare=prepare,
            healthy=lambda s: self.healthy,
            stop_timeout=5,
        )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.load(
        stack={
            "run_dir": tmp_path / "run",
            "cache_dir": tmp_path / "cache",
            "services": ("a", "b", "c"),
            "start_timeout": 5,
        }
    )


def _registry(servers: list[FakeServer], order: list[str]) -> dict[str, Service]:
    return {s.name: s.service(order) for s in servers}


def test_dependencies_start_first_and_each_service_once(settings: Settings) -> None:
    order: list[str] = []
    servers = [FakeServer("a"), FakeServer("b", deps=("a",)), FakeServer("c", deps=("b",))]
    try:
        outcomes = stack.up(settings, registry=_registry(servers, order))
        assert [o.ok for o in outcomes] == [True, True, True]
        assert order == ["a", "b", "c"]
    finally:
        for name in "abc":
            stack.process.stop(settings.stack.run_dir, name, 5)


def test_up_is_idempotent_and_leaves_healthy_services_alone(settings: Settings) -> None:
    order: list[str] = []
    servers = [FakeServer("a", up=True), FakeServer("b", deps=("a",))]
    outcomes = {o.name: o for o in stack.up(settings, ["b"], registry=_registry(servers, order))}
    assert outcomes["a"].ok and not outcomes["a"].started
    assert outcomes["b"].started
    again = stack.up(settings, ["b"], registry=_registry(servers, order))
    assert all(o.ok and not o.started for o in again)
    assert order == ["b"]
    stack.process.stop(settings.stack.run_dir, "b", 5)


def test_a_failed_dependency_fails_its_dependants_without_starting_them(settings: Settings) -> None:
    order: list[str] = []
    servers = [FakeServer("a", fail=True), FakeServer("b", deps=("a",)), FakeServer("c")]
    outcomes = {o.name: o for o in stack.up(settings, registry=_registry(servers, order))}
    assert not outcomes["a"].ok and "cannot start" in outcomes["a"].error
    assert not outcomes["b"].ok and "dependency a failed" in outcomes["b"].error
    assert outcomes["c"].ok
    assert "b" not in order
    stack.process.stop(settings.stack.run_dir, "c", 5)


def test_requesting_a_service_pulls_in_its_dependencies(settings: Settings) -> None:
    order: list[str] = []
    registry = _registry([FakeServer("a"), FakeServer("b", deps=("a",)), FakeServer("c")], order)
    assert [s.name for s in stack.managed(settings, ["b"], registry)] == ["a", "b"]
    with pytest.raises(ValueError, match="unknown service"):
        stack.managed(settings, ["nope"], registry)
