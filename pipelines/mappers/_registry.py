"""The mapper registry: a name -> mapper dict that refuses duplicates, filled by the `@mapper`
decorator at import time and, once, from the `openframe_stream.mappers` entry-point group.

A mapper is a pure function `(Change) -> ToolEvent | Skipped`. Example::

    from pipelines.mappers._registry import mapper
    from pipelines.records import Change, ToolEvent

    @mapper("acme.alerts", tool="ACME")
    def alerts(change: Change) -> ToolEvent:
        return ToolEvent(source_type=str(change.row.get("kind")), pk=str(change.row.get("id")))
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Final, Protocol

from openframe_stream.errors import ConfigError
from pipelines.records import Change, Skipped, ToolEvent
from pipelines.taxonomy import ToolTaxonomy, taxonomy_from_data, tool_taxonomy

ENTRY_POINT_GROUP: Final = "openframe_stream.mappers"
BUILTIN_PACKAGE: Final = "openframe-stream"
_TOOL = re.compile(r"^[A-Z][A-Z0-9_]*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")

MapperFn = Callable[[Change], ToolEvent | Skipped]


class DuplicateMapperError(ConfigError):
    """Two mappers claim the same name or the same source."""


@dataclass(frozen=True, slots=True)
class MapperSpec:
    """A registered mapper. `tool_id` (lower-case tool) and `table` (used when the record names no
    table) feed the event id; `package` is the distribution the mapper comes from."""

    name: str
    tool: str
    sources: tuple[str, ...]
    table: str
    fn: MapperFn
    taxonomy: ToolTaxonomy
    package: str
    tool_id: str = ""  # lower-case tool, filled in from `tool`

    def __post_init__(self) -> None:
        object.__setattr__(self, "tool_id", self.tool.lower())


class _EntryPoint(Protocol):
    name: str
    module: str

    @property
    def dist(self) -> Any: ...

    def load(self) -> Any: ...


class Registry:
    """Mappers by name and by source. Use the module-level `REGISTRY` through `mapper`."""

    def __init__(self) -> None:
        self._by_name: dict[str, MapperSpec] = {}
        self.by_source: dict[str, MapperSpec] = {}  # read-only outside: the hot path reads it directly
        self._loading_package: str | None = None
        self._plugins_loaded = False
        self._plugin_error: ConfigError | None = None

    def mapper(
        self,
        name: str,
        *,
        tool: str,
        sources: Iterable[str] = (),
        table: str | None = None,
        taxonomy: ToolTaxonomy | Mapping[str, Any] | None = None,
    ) -> Callable[[MapperFn], MapperFn]:
        """Register the decorated function as mapper `name` for `sources` (default: `name`).

        `table` defaults to the part of `name` after the first dot ("fleet.activities" ->
        "activities"). `taxonomy` defaults to the built-in `pipelines/taxonomy/<tool>.json`.
        """

        def register(fn: MapperFn) -> MapperFn:
            if not _NAME.match(name):
                raise ConfigError(f"mapper name {name!r}: use lower_snake parts separated by dots")
            if not _TOOL.match(tool):
                raise ConfigError(f"mapper {name}: tool {tool!r} must be UPPER_SNAKE")
            if isinstance(taxonomy, ToolTaxonomy):
                resolved = taxonomy
            elif taxonomy is not None:
                resolved = taxonomy_from_data(taxonomy)
            else:
                resolved = tool_taxonomy(tool)
            self.register(
                MapperSpec(
                    name=name,
                    tool=tool,
                    sources=tuple(sources) or (name,),
                    table=table or name.split(".", 1)[-1],
                    fn=fn,
                    taxonomy=resolved,
                    package=self._loading_package or _package_of(fn),
                )
            )
            return fn

        return register

    def register(self, spec: MapperSpec) -> None:
        """Add a mapper; a name or source that is already taken is a `DuplicateMapperError`."""
        if spec.name in self._by_name:
            other = self._by_name[spec.name]
            raise DuplicateMapperError(f"mapper {spec.name!r} from {spec.package} clashes with {other.package}")
        for source in spec.sources:
            if source in self.by_source:
                other = self.by_source[source]
                raise DuplicateMapperError(
                    f"source {source!r} of mapper {spec.name!r} ({spec.package}) is already handled by "
                    f"{other.name!r} ({other.package})"
                )
        self._by_name[spec.name] = spec
        for source in spec.sources:
            self.by_source[source] = spec

    def for_source(self, source: str) -> MapperSpec | None:
        """The mapper of `source`; on a miss, third-party mappers are loaded once and asked too."""
        spec = self.by_source.get(source)
        if spec is None:  # loads once; re-raises a plugin failure so callers see why
            self.load_entry_points()
            spec = self.by_source.get(source)
        return spec

    def get(self, name: str) -> MapperSpec | None:
        return self._by_name.get(name)

    def specs(self) -> tuple[MapperSpec, ...]:
        return tuple(self._by_name.values())

    def load_entry_points(self, eps: Iterable[_EntryPoint] | None = None) -> None:
        """Import every module of the entry-point group once; mappers registered while a module
        loads are recorded as coming from its distribution. A failure or a clash is a ConfigError,
        raised now and again on every later call."""
        if self._plugin_error is not None:
            raise self._plugin_error
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        found = entry_points(group=ENTRY_POINT_GROUP) if eps is None else eps
        for ep in found:
            package = ep.dist.name if ep.dist is not None else ep.module.split(".")[0]
            self._loading_package = package
            try:
                ep.load()
            except ConfigError as exc:
                self._plugin_error = exc
                raise
            except Exception as exc:  # a broken plugin must fail the start, with its name
                self._plugin_error = ConfigError(f"mapper plugin {ep.name!r} ({package}) failed to load: {exc}")
                raise self._plugin_error from exc
            finally:
                self._loading_package = None


def _package_of(fn: MapperFn) -> str:
    module = getattr(fn, "__module__", "") or ""
    return BUILTIN_PACKAGE if module.startswith("pipelines.") else module.split(".")[0] or "unknown"


REGISTRY: Final = Registry()
mapper: Final = REGISTRY.mapper
