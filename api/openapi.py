"""The OpenAPI document, generated from the app (checked in as api/openapi.json; a test compares)."""

from __future__ import annotations

import json
from pathlib import Path

from api.app import create_app
from api.readers.base import Readers
from api.readers.memory import MemoryReader, StaticLag
from api.settings import ApiSettings

SPEC_PATH = Path(__file__).with_name("openapi.json")


def render() -> str:
    memory = MemoryReader()
    app = create_app(ApiSettings(), Readers(logs=memory, events=memory, lag=StaticLag()))
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"


def write(path: Path = SPEC_PATH) -> bool:
    """Write the spec; True when it changed."""
    text = render()
    if path.exists() and path.read_text() == text:
        return False
    path.write_text(text)
    return True
