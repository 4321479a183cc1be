"""`SqliteStore`: the embedded backend, safe for several processes sharing one file.

- WAL journal: readers never block the writer and the writer never blocks readers.
- Every write runs in `BEGIN IMMEDIATE`, which takes SQLite's write lock up front. A
  deferred transaction that reads and then writes can fail with "database is locked" at
  the upgrade, without waiting; an immediate one waits (up to `busy_timeout`) for its turn,
  so claims from several worker processes simply queue up. Reads use a deferred `BEGIN`
  and never take the write lock.
- Time is the process clock (UTC): SQLite has none worth trusting across processes anyway,
  and every process on one file shares the machine's clock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from jobforge.store.base import SqlStore
from jobforge.store.urls import sqlalchemy_url

BUSY_TIMEOUT_MS = 30_000
"""How long a writer waits for the write lock before giving up (StoreUnavailable)."""


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the driver: we emit BEGIN ourselves (below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # busy_timeout first, so switching to WAL also waits for a concurrent opener.
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _on_begin(conn: Any) -> None:
    write = conn.get_execution_options().get("jobforge_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class SqliteStore(SqlStore):
    """The `Store` on one SQLite file (`sqlite:///./jobforge.db`, `sqlite:////abs/path`)."""

    dialect = "sqlite"

    def _create_engine(self) -> AsyncEngine:
        url = sqlalchemy_url(self.url)
        options: dict[str, Any] = {"connect_args": {"timeout": BUSY_TIMEOUT_MS / 1000}}
        if url.database in (None, "", ":memory:"):
            # One shared connection, or every connection would see its own empty database.
            options["poolclass"] = StaticPool
        engine = create_async_engine(url, **options)
        event.listen(engine.sync_engine, "connect", _on_connect)
        event.listen(engine.sync_engine, "begin", _on_begin)
        return engine

    async def _clock(self, conn: AsyncConnection) -> datetime:
        return datetime.now(UTC)

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        # SQLite admits one writer at a time. Writers of this process (claims, completions,
        # heartbeats) queue on a lock here: left to contend through SQLite's busy handler,
        # each would sleep in steps of up to 100 ms, which cut throughput several times over.
        # Other processes still wait for the file lock through busy_timeout.
        async with self._process_write_lock(), super()._write() as conn:
            yield conn

    def _process_write_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock: asyncio.Lock | None = getattr(self, "_lock", None)
        if lock is None or getattr(self, "_lock_loop", None) is not loop:
            # A lock belongs to one event loop; a store reused from another loop gets a new one.
            lock = self._lock = asyncio.Lock()
            self._lock_loop = loop
        return lock
