"""Connector templates (the versioned files in `connectors/debezium/`) and how they become configs.

A template's values may hold `${section.field}` placeholders, filled from the settings:
`postgres.*`, `mariadb.*`, `kafka.*`, `mongo.*`, `topics.*` (TopicSettings), `topic.<name>` (a
resolved topic name from `topologies.topics.declare`), `connectors.*` and `tooldb.*`. A `|re`
suffix regex-escapes the value, for names spliced into SMT patterns. Secrets live only in the
settings; the files hold placeholders, and `is_secret` keeps them out of printed diffs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel

from connectors.settings import ConnectorSettings, connector_settings
from infra.tooldb.settings import ToolDbSettings, tooldb_settings
from openframe_stream.errors import ConfigError
from topologies.topics import declare

if TYPE_CHECKING:
    from openframe_stream.settings import Settings

CONFIG_DIR = Path(__file__).resolve().parent / "debezium"
MONGO_CLASS = "io.debezium.connector.mongodb.MongoDbConnector"
_PLACEHOLDER = re.compile(r"\$\{([a-z_]+(?:\.[a-z0-9_]+)+)(\|re)?\}")
_SECRET_KEY = re.compile(r"password|secret|connection\.string|sasl\.jaas", re.IGNORECASE)


@dataclass(frozen=True)
class Template:
    """One connector file as written: name, what it is for, config with placeholders."""

    name: str
    description: str
    config: dict[str, str]
    path: Path

    @property
    def connector_class(self) -> str:
        return self.config["connector.class"]

    @property
    def needs_change_streams(self) -> bool:
        """MongoDB connectors need a real replica set, which the local stack does not have."""
        return self.connector_class == MONGO_CLASS


@dataclass(frozen=True)
class Connector:
    """A template with its placeholders filled: what is sent to Kafka Connect."""

    name: str
    config: dict[str, str]
    template: Template


def load_templates(directory: Path = CONFIG_DIR) -> list[Template]:
    """Every `*.json` template in `directory`, sorted by file name; malformed files fail fast."""
    templates = []
    for path in sorted(directory.glob("*.json")):
        try:
            raw = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise ConfigError(f"{path.name}: not JSON: {exc}") from exc
        templates.append(_template(raw, path))
    names = [t.name for t in templates]
    if len(set(names)) != len(names):
        raise ConfigError(f"duplicate connector names in {directory}: {names}")
    return templates


def _template(raw: Any, path: Path) -> Template:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not isinstance(raw.get("config"), dict):
        raise ConfigError(f"{path.name}: expected an object with `name` and `config`")
    config = raw["config"]
    bad = [k for k, v in config.items() if not isinstance(v, str)]
    if bad:
        # Connect takes strings only; a number in the file would come back as a string and show as drift.
        raise ConfigError(f"{path.name}: config values must be strings: {bad}")
    if "connector.class" not in config:
        raise ConfigError(f"{path.name}: config has no connector.class")
    return Template(raw["name"], str(raw.get("description", "")), dict(config), path)


def _flat(prefix: str, model: BaseModel) -> dict[str, str]:
    values = {}
    for field, value in model.model_dump().items():
        if isinstance(value, bool):
            text = "true" if value else "false"  # Connect's boolean syntax, not Python's
        elif isinstance(value, list | tuple):
            text = ",".join(str(v) for v in value)
        else:
            text = str(value)
        values[f"{prefix}.{field}"] = text
    return values


def placeholder_values(
    settings: Settings,
    connectors: ConnectorSettings | None = None,
    tooldb: ToolDbSettings | None = None,
) -> dict[str, str]:
    """Every value a template may name, from the settings (overridable per call, e.g. by tests)."""
    values: dict[str, str] = {}
    for section in ("postgres", "mariadb", "kafka", "mongo", "topics"):
        values.update(_flat(section, getattr(settings, section)))
    values.update(_flat("connectors", connectors or connector_settings(settings)))
    values.update(_flat("tooldb", tooldb or tooldb_settings(settings)))
    topics = declare(settings.topics)
    for attr in topics.__dataclass_fields__:
        values[f"topic.{attr}"] = getattr(topics, attr).name
    return values


def fill(text: str, values: Mapping[str, str], where: str = "") -> str:
    """`text` with every placeholder replaced; an unknown one is a ConfigError naming it."""

    def one(match: re.Match[str]) -> str:
        key, escape = match.group(1), match.group(2)
        if key not in values:
            raise ConfigError(f"{where}: unknown placeholder ${{{key}}}")
        value = values[key]
        return re.escape(value) if escape else value

    result = _PLACEHOLDER.sub(one, text)
    if "${" in result:
        raise ConfigError(f"{where}: malformed placeholder in {text!r}")
    return result


def render(template: Template, values: Mapping[str, str], name: str | None = None) -> Connector:
    """The template with its placeholders filled. `name` overrides the connector name (tests)."""
    config = {key: fill(value, values, f"{template.path.name}: {key}") for key, value in template.config.items()}
    return Connector(name or template.name, config, template)


def connectors_for(
    settings: Settings, names: tuple[str, ...] | list[str] = (), directory: Path = CONFIG_DIR
) -> list[Connector]:
    """The rendered connectors named (all when none), in file order; an unknown name fails."""
    templates = load_templates(directory)
    known = {t.name for t in templates}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"unknown connector(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    values = placeholder_values(settings)
    return [render(t, values) for t in templates if not names or t.name in names]


def is_secret(key: str) -> bool:
    """Config keys whose values must never be printed."""
    return bool(_SECRET_KEY.search(key))
