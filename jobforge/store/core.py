"""`SqlCore`: what every store operation stands on: the engine, read and write
transactions, the backend hooks, and the lifecycle calls (migrate, ping, close, now).

A backend supplies its engine, its clock, how it turns a transaction into a write
transaction, how job arrivals are announced, and which driver errors mean "the database is
unreachable".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Collection, Iterator
from datetime import datetime

from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from jobforge.domain.errors import StoreUnavailable

ARRIVALS_BUFFER = 10_000

UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # connection refused or reset, timeouts
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
)
"""Driver errors that mean "cannot reach the database"; backends extend the tuple."""


class SqlCore:
    """Engine, transactions and lifecycle; subclasses provide the engine and dialect hooks."""

    dialect: str
    url: str
    unavailable_errors: tuple[type[BaseException], ...] = UNAVAILABLE_ERRORS

    def __init__(self, url: str, *, default_max_attempts: int = 3) -> None:
        self.url = url
        self.default_max_attempts = default_max_attempts
        self._engine = self._create_engine()
        # Connections from this engine open write transactions (BEGIN IMMEDIATE on SQLite).
        self._writer = self._engine.execution_options(jobforge_write=True)
        self._arrival_queues: set[asyncio.Queue[str]] = set()

    # -- backend hooks ---------------------------------------------------------------------
    def _create_engine(self) -> AsyncEngine:
        raise NotImplementedError

    async def _clock(self, conn: AsyncConnection) -> datetime:
        """The time of this transaction."""
        raise NotImplementedError

    async def _notify(self, conn: AsyncConnection, queues: Collection[str]) -> None:
        """Announce, inside the transaction, that jobs became runnable in `queues`."""

    def _announce(self, queues: Collection[str]) -> None:
        """After commit: wake this process's `job_arrivals` listeners."""
        for listener in list(self._arrival_queues):
            for name in queues:
                # A wake-up is a hint; a listener that is far behind will poll anyway.
                with contextlib.suppress(asyncio.QueueFull):
                    listener.put_nowait(name)

    # -- transactions ----------------------------------------------------------------------
    @contextlib.contextmanager
    def _unavailable_as_store_error(self) -> Iterator[None]:
        try:
            yield
        except self.unavailable_errors as exc:
            raise StoreUnavailable(f"{self.dialect} store unavailable: {exc}") from exc

    @contextlib.asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        """A read transaction: it never takes SQLite's write lock."""
        with self._unavailable_as_store_error():
            async with self._engine.connect() as conn, conn.begin():
                yield conn

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction, serialised against other writers where the dialect needs it."""
        with self._unavailable_as_store_error():
            async with self._writer.connect() as conn, conn.begin():
                yield conn

    # -- lifecycle -------------------------------------------------------------------------
    async def migrate(self) -> None:
        """Bring the schema to the latest revision (under a lock, safe to race)."""
        from jobforge.store.migrate import upgrade_to_head

        with self._unavailable_as_store_error():
            await upgrade_to_head(self._writer)

    async def ping(self) -> None:
        """Raise `StoreUnavailable` unless the database answers."""
        async with self._read() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        """Release every connection."""
        await self._engine.dispose()

    async def now(self) -> datetime:
        """The database clock (UTC)."""
        async with self._read() as conn:
            return await self._clock(conn)
