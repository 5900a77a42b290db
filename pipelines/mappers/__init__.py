"""Tool mappers. Every built-in mapper module is imported here by name (no directory scanning);
mappers shipped in other packages join through the `openframe_stream.mappers` entry-point group.

To add a built-in mapper: `openframe-stream mappers new NAME`, then add NAME to the import below.
"""

from __future__ import annotations

from pipelines.mappers import agent, fleet, meshcentral, tactical
from pipelines.mappers._registry import (
    BUILTIN_PACKAGE,
    ENTRY_POINT_GROUP,
    REGISTRY,
    DuplicateMapperError,
    MapperSpec,
    Registry,
    mapper,
)

BUILTIN_MODULES = (agent, fleet, meshcentral, tactical)

__all__ = [
    "BUILTIN_MODULES",
    "BUILTIN_PACKAGE",
    "ENTRY_POINT_GROUP",
    "REGISTRY",
    "DuplicateMapperError",
    "MapperSpec",
    "Registry",
    "load_mappers",
    "mapper",
]


def load_mappers() -> Registry:
    """The registry with third-party mappers loaded; call once at start to fail fast on a bad
    plugin or a clash (`ConfigError`). `normalize` also loads them lazily on an unknown source."""
    REGISTRY.load_entry_points()
    return REGISTRY
