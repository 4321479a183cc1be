"""Statements on `jobforge_leaders`: named leader leases with an expiry."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from jobforge.store.sql import dialect_insert
from jobforge.store.tables import leaders


async def acquire_leadership(
    conn: AsyncConnection, name: str, holder: str, ttl_seconds: float, *, now: datetime
) -> bool:
    """Take the lease if it is free or expired, renew it if `holder` has it; one statement.

    The upsert only overwrites an expired row or the holder's own, so of two candidates
    racing for an expired lease exactly one wins: the second sees the winner's fresh row.
    """
    stmt = dialect_insert(conn, leaders).values(
        name=name, holder=holder, expires_at=now + timedelta(seconds=ttl_seconds)
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["name"],
        set_={"holder": stmt.excluded.holder, "expires_at": stmt.excluded.expires_at},
        where=or_(leaders.c.expires_at < now, leaders.c.holder == holder),
    )
    await conn.execute(stmt)
    current = await conn.execute(select(leaders.c.holder).where(leaders.c.name == name))
    return current.scalar_one_or_none() == holder


async def release_leadership(conn: AsyncConnection, name: str, holder: str) -> None:
    await conn.execute(delete(leaders).where(leaders.c.name == name, leaders.c.holder == holder))
