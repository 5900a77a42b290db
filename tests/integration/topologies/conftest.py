from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from openframe_stream.settings import Settings
from tests.integration.topologies.harness import Pipeline, new_pipeline, running
from topologies.provision import ensure_topics


@pytest.fixture(scope="module")
def pipeline(live_stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    log_dir: Path = tmp_path_factory.mktemp("worker")
    p = new_pipeline(log_dir)
    # Topics first, as the worker would create them: producing first would auto-create them with the
    # broker's default of one partition.
    ensure_topics(live_stack.kafka.bootstrap_servers, p.topics, 1)
    p.seed_reference(
        organizations=[{"organizationId": "org-acme", "name": "Acme Accounting", "tenantId": "oss"}],
        machines=[
            {"machineId": "m-ws07", "hostname": "WS-ACCT-07", "organizationId": "org-acme", "tenantId": "oss"},
            {"machineId": "m-8f2c41", "hostname": "SRV-FILE-01", "organizationId": "org-acme", "tenantId": "oss"},
        ],
        connections=[
            {"machineId": "m-ws07", "toolType": "FLEET", "agentToolId": "31", "tenantId": "oss"},
            {"machineId": "m-ws07", "toolType": "TACTICAL", "agentToolId": "SbLpZqxWvNRSDhRwBbGkcVtgUmjQmaxdMKqyLrMW",
             "tenantId": "oss"},
            {"machineId": "m-8f2c41", "toolType": "MESHCENTRAL", "agentToolId": "node//mesh-1", "tenantId": "oss"},
        ],
    )
    with running(p):
        yield p
