"""Lifecycle event fan-out: the `EventBus` protocol and its implementations.

`memory.InProcessEventBus` (one process, and what tests use), `postgres.PostgresEventBus`
(LISTEN/NOTIFY) and `redis.RedisEventBus` (pub/sub); `open_event_bus` picks one from the
settings. Publishing never blocks the caller on a slow subscriber and never raises into the
job path: an event is a notification, the store is the truth. `coalesce` and `hub` turn the
stream into a few messages per second for live clients.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from jobforge.events.types import EventName, JobEvent, event_for_status


class EventBusSettings(Protocol):
    """What `open_event_bus` reads from the settings (`jobforge.config.Settings` fits)."""

    @property
    def redis_url(self) -> str | None: ...

    @property
    def database_url(self) -> str: ...


class EventBus(Protocol):
    """Publish lifecycle events; subscribe to every event published by any process."""

    async def start(self) -> None:
        """Connect (idempotent)."""

    async def close(self) -> None:
        """Disconnect and end every subscription."""

    async def publish(self, events: Sequence[JobEvent]) -> None:
        """Send events to every subscriber, in every process sharing the bus."""

    def subscribe(self) -> AbstractAsyncContextManager[AsyncIterator[JobEvent]]:
        """`async with bus.subscribe() as events: async for e in events: ...`"""


def open_event_bus(settings: EventBusSettings, store_dialect: str) -> EventBus:
    """The bus that reaches every process of this deployment.

    Redis pub/sub when `redis_url` is set (cheapest at high rates, spares the database);
    otherwise LISTEN/NOTIFY when the store is PostgreSQL; otherwise (SQLite) in-process, which
    reaches every subscriber when API and worker share one process (`jobforge up`). A worker
    in another process on the same SQLite file cannot notify this one; the dashboard covers
    that case by following the store's changes every second (`dashboard.changes`).
    """
    if settings.redis_url:
        from jobforge.events.redis import RedisEventBus

        return RedisEventBus(settings.redis_url)
    if store_dialect == "postgresql":
        from jobforge.events.postgres import PostgresEventBus

        return PostgresEventBus(settings.database_url)
    if store_dialect != "sqlite":
        raise ValueError(f"store_dialect must be 'sqlite' or 'postgresql', got {store_dialect!r}")
    from jobforge.events.memory import InProcessEventBus

    return InProcessEventBus()


__all__ = [
    "EventBus",
    "EventBusSettings",
    "EventName",
    "JobEvent",
    "event_for_status",
    "open_event_bus",
]
