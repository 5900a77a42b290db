"""Settings of the local tool databases' CDC objects."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from openframe_stream.settings import Settings


class ToolDbSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    publication: str = Field(
        "dbz_pub_trmm_combined",
        description="PostgreSQL publication of the Tactical RMM tables, created by `tooldb init` as superuser.",
    )


def tooldb_settings(settings: Settings) -> ToolDbSettings:
    return settings.tooldb
