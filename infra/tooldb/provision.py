"""`provision(settings)`: the tool tables in both databases, idempotently."""

from __future__ import annotations

from typing import TYPE_CHECKING

from infra.tooldb import mariadb, postgres

if TYPE_CHECKING:
    from openframe_stream.settings import Settings


def provision(settings: Settings) -> dict[str, list[str]]:
    """Create the Tactical RMM (PostgreSQL) and Fleet (MariaDB) tables that are missing.

    Returns what was done per database; both lists are empty when everything already exists.
    """
    return {"postgres": postgres.provision(settings), "mariadb": mariadb.provision(settings)}
