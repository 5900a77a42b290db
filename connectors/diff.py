"""What `connectors apply` would change: a key-by-key diff of two configs, and its rendering."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

# Connect adds `name` to every stored config; it is the URL, not part of what we manage.
_IGNORED = frozenset({"name"})
MASK = "******"

Kind = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class ConfigChange:
    key: str
    kind: Kind
    old: str | None
    new: str | None


def diff_configs(current: Mapping[str, str] | None, desired: Mapping[str, str]) -> list[ConfigChange]:
    """Changes from `current` (None: the connector does not exist) to `desired`, sorted by key."""
    old = {k: v for k, v in (current or {}).items() if k not in _IGNORED}
    new = {k: v for k, v in desired.items() if k not in _IGNORED}
    changes = []
    for key in sorted(old.keys() | new.keys()):
        if key not in old:
            changes.append(ConfigChange(key, "added", None, new[key]))
        elif key not in new:
            changes.append(ConfigChange(key, "removed", old[key], None))
        elif old[key] != new[key]:
            changes.append(ConfigChange(key, "changed", old[key], new[key]))
    return changes


def render_diff(changes: list[ConfigChange], secret: Callable[[str], bool]) -> list[str]:
    """One line per change: `+ key = new`, `- key = old`, `~ key: old -> new`; secrets masked."""

    def shown(key: str, value: str | None) -> str:
        return MASK if secret(key) else repr(value)

    lines = []
    for change in changes:
        if change.kind == "added":
            lines.append(f"+ {change.key} = {shown(change.key, change.new)}")
        elif change.kind == "removed":
            lines.append(f"- {change.key} = {shown(change.key, change.old)}")
        else:
            lines.append(f"~ {change.key}: {shown(change.key, change.old)} -> {shown(change.key, change.new)}")
    return lines
