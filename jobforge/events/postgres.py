"""`PostgresEventBus`: lifecycle events through PostgreSQL LISTEN/NOTIFY.

The default fan-out when the store is PostgreSQL and no Redis is configured: every API and
worker process on every machine already talks to the database, so no other server is needed.

Two dedicated connections, not pooled: one holds LISTEN for the life of the bus (a pooled
connection would lose it when returned), the other sends NOTIFY so a publish never waits
behind a slow listener callback. A NOTIFY payload must stay under 8000 bytes, so a batch of
events is split into several notifications (`wire.encode_chunks`). Events published here
reach local subscribers through the same NOTIFY round trip as everyone else's, so a process
never sees its own events twice.

When the listening connection drops, it is re-established with backoff; events published
while it was down are lost to this process (the dashboard refetches on reconnect).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg
import structlog

from jobforge.events.memory import InProcessEventBus
from jobforge.events.types import JobEvent
from jobforge.events.wire import decode_chunk, encode_chunks

log = structlog.get_logger(__name__)

DEFAULT_CHANNEL = "jobforge_events"
NOTIFY_LIMIT_BYTES = 7900  # PostgreSQL refuses payloads of 8000 bytes or more
RECONNECT_MAX_SECONDS = 5.0


def asyncpg_dsn(url: str) -> str:
    """A libpq URL asyncpg accepts, from any spelling users or SQLAlchemy write."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {url.split('@')[-1]!r}")
    if scheme.split("+", 1)[0] not in {"postgres", "postgresql"}:
        raise ValueError(f"PostgresEventBus needs a postgresql:// URL, got scheme {scheme!r}")
    return f"postgresql://{rest}"


class PostgresEventBus:
    """Publish with NOTIFY, receive with LISTEN, fan out to this process's subscribers."""

    def __init__(self, url: str, *, channel: str = DEFAULT_CHANNEL) -> None:
        self._dsn = asyncpg_dsn(url)
        self._channel = channel
        self._local = InProcessEventBus()
        self._listen_conn: Any = None
        self._notify_conn: Any = None
        self._notify_lock = asyncio.Lock()
        self._reconnect_task: asyncio.Task[None] | None = None
        self._started = False
        self._closed = False

    async def start(self) -> None:
        """Open both connections and LISTEN (idempotent)."""
        if self._started:
            return
        self._closed = False
        await self._listen()
        self._started = True

    async def close(self) -> None:
        """Stop listening, close both connections and end every local subscription."""
        self._closed = True
        self._started = False
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconnect_task
            self._reconnect_task = None
        for conn in (self._listen_conn, self._notify_conn):
            if conn is not None and not conn.is_closed():
                with contextlib.suppress(Exception):
                    await conn.close(timeout=2)
        self._listen_conn = self._notify_conn = None
        await self._local.close()

    async def publish(self, events: Sequence[JobEvent]) -> None:
        """NOTIFY the events, several per notification, each payload under the limit."""
        chunks = list(encode_chunks(events, max_bytes=NOTIFY_LIMIT_BYTES))
        if not chunks:
            return
        async with self._notify_lock:
            try:
                await self._notify(chunks)
            except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError):
                # One retry on a fresh connection covers a database restart between
                # publishes; a second failure is the caller's to log.
                self._notify_conn = None
                await self._notify(chunks)

    def subscribe(self) -> AbstractAsyncContextManager[AsyncIterator[JobEvent]]:
        """Every event any process publishes from now on."""
        return self._local.subscribe()

    async def _notify(self, chunks: list[str]) -> None:
        if self._notify_conn is None or self._notify_conn.is_closed():
            self._notify_conn = await asyncpg.connect(self._dsn)
        await self._notify_conn.executemany(
            "SELECT pg_notify($1, $2)", [(self._channel, chunk) for chunk in chunks]
        )

    async def _listen(self) -> None:
        conn = await asyncpg.connect(self._dsn)
        conn.add_termination_listener(self._on_termination)
        await conn.add_listener(self._channel, self._on_notify)
        self._listen_conn = conn

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        events = decode_chunk(payload)
        if events:
            self._local.deliver_local(events)

    def _on_termination(self, _conn: Any) -> None:
        if self._closed or self._reconnect_task is not None:
            return
        log.warning("event listener connection lost; reconnecting")
        self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        delay = 0.1
        try:
            while not self._closed:
                try:
                    await self._listen()
                    log.info("event listener reconnected")
                    return
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RECONNECT_MAX_SECONDS)
        finally:
            self._reconnect_task = None
