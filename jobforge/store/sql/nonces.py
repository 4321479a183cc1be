"""Statements on `jobforge_login_nonces`: each one-time login link works once, across
restarts and API processes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from jobforge.store.sql import dialect_insert
from jobforge.store.tables import login_nonces


async def use_login_nonce(
    conn: AsyncConnection, nonce: str, *, expires_at: datetime, now: datetime
) -> bool:
    """Record the nonce as used; False if it was already. Expired ones are forgotten first
    (their links are refused for their age anyway)."""
    await conn.execute(delete(login_nonces).where(login_nonces.c.expires_at < now))
    stmt = dialect_insert(conn, login_nonces).on_conflict_do_nothing()
    result = await conn.execute(stmt, {"nonce": nonce, "expires_at": expires_at})
    return bool(result.rowcount == 1)
