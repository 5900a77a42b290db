"""The generated MSP estate: organizations and devices with their tools' agent ids. Pure: the
same seed gives the same estate, so repeated runs reuse the same devices and reference data.

Ids look like the tools' own: Fleet host ids are integers, Tactical agent ids 40 letters,
MeshCentral node ids `node//` + 64 characters, OpenFrame machine ids `m-<hex>`.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from typing import Final

from infra.traffic.settings import TrafficSettings

_ORG_NAMES: Final = ("Acme Dental", "Northwind Legal", "Blue Harbor Logistics", "Cedar Clinic", "Summit Accounting")
_ROLES: Final = ("WS", "LT", "SRV", "POS")
_MESH_ALPHABET: Final = string.ascii_letters + string.digits + "@$"
PLATFORMS: Final = ("windows", "darwin", "ubuntu")


@dataclass(frozen=True)
class Organization:
    organization_id: str
    name: str


@dataclass(frozen=True)
class Device:
    machine_id: str
    hostname: str
    organization_id: str
    platform: str
    fleet_host_id: int | None
    tactical_agent_id: str | None
    mesh_node_id: str | None
    connected: bool  # False: an orphan, with no machine or tool-connection document yet


@dataclass(frozen=True)
class Estate:
    tenant_id: str
    organizations: tuple[Organization, ...]
    devices: tuple[Device, ...]

    @property
    def connected(self) -> tuple[Device, ...]:
        return tuple(d for d in self.devices if d.connected)

    @property
    def orphans(self) -> tuple[Device, ...]:
        return tuple(d for d in self.devices if not d.connected)


def build_estate(options: TrafficSettings, tenant_id: str) -> Estate:
    rng = random.Random(options.estate_seed)  # noqa: S311  # test data, not secrets
    organizations = tuple(
        Organization(f"org-{rng.getrandbits(32):08x}", _ORG_NAMES[i % len(_ORG_NAMES)] + ("" if i < 5 else f" {i}"))
        for i in range(options.organizations)
    )
    devices = []
    for i in range(options.devices + options.orphans):
        connected = i < options.devices
        organization = organizations[i % len(organizations)]
        # An orphan runs every tool, so each tool has unconnected agents to emit events for.
        has = [not connected or rng.random() < options.tool_coverage for _ in range(3)]
        devices.append(
            Device(
                machine_id=f"m-{rng.getrandbits(24):06x}",
                hostname=f"{_ROLES[i % len(_ROLES)]}-{organization.name.split()[0].upper()[:5]}-{i + 1:02d}",
                organization_id=organization.organization_id,
                platform=PLATFORMS[rng.randrange(len(PLATFORMS))],
                fleet_host_id=rng.randrange(1, 2**31) if has[0] else None,
                tactical_agent_id="".join(rng.choices(string.ascii_letters, k=40)) if has[1] else None,
                mesh_node_id="node//" + "".join(rng.choices(_MESH_ALPHABET, k=64)) if has[2] else None,
                connected=connected,
            )
        )
    return Estate(tenant_id, organizations, tuple(devices))
