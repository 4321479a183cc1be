"""Dialect-neutral SQL statements, one module per table, as plain async functions.

Every function takes an open `AsyncConnection` inside a transaction the backend chose (a
write transaction for anything that writes) and, where time matters, `now`: the backend's
clock for this transaction. Passing the clock in keeps the statements identical on both
dialects and lets a whole transaction agree on one instant.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from jobforge.domain.states import JobState

JsonOrNull = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
"""For writing Python `None` as SQL NULL (the tables' JSON type writes JSON `null`)."""


def values_of(states: frozenset[JobState] | set[JobState]) -> list[str]:
    """State names for an `IN (...)` clause, sorted so statements cache and read the same."""
    return sorted(s.value for s in states)


def dialect_insert(conn: AsyncConnection, table: Table) -> Any:
    """The dialect's INSERT construct, which knows `ON CONFLICT` on both SQLite and PG."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
