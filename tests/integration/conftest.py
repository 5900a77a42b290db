"""The integration tier: the real local stack, brought up once per test session.

`stack up` is idempotent, so a developer with the stack already running pays nothing; CI pays the
start-up once. Everything polls health checks; nothing sleeps a fixed time.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from infra import stack
from openframe_stream.settings import Settings


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings.load()


@pytest.fixture(scope="session")
def live_stack(settings: Settings) -> Iterator[Settings]:
    outcomes = stack.up(settings)
    failed = [o for o in outcomes if not o.ok]
    if failed:
        details = "\n".join(f"{o.name}: {o.error}\n{stack.log_tail(settings, o.name, 30)}" for o in failed)
        pytest.fail(f"local stack did not come up:\n{details}", pytrace=False)
    yield settings
    if os.environ.get("OFS_TEST_STACK_DOWN") == "1":
        stack.down(settings)


@pytest.fixture
def unique() -> str:
    """A short unique suffix, so reruns against a kept stack never collide with old topics or rows."""
    return uuid.uuid4().hex[:8]
