"""`InProcessEventBus`: events delivered to subscribers in this process only.

The SQLite default when everything runs in one process, and the bus tests use. Each
subscriber has a bounded queue; a subscriber that falls behind loses its oldest events
rather than slowing the publisher (the dashboard refetches on a gap).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from jobforge.events.types import JobEvent

SUBSCRIBER_BUFFER = 10_000


class InProcessEventBus:
    """Fan events out to every subscriber of this process."""

    def __init__(self, buffer: int = SUBSCRIBER_BUFFER) -> None:
        self._buffer = buffer
        self._subscribers: set[asyncio.Queue[JobEvent | None]] = set()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        for queue in list(self._subscribers):
            self._offer(queue, None)

    async def publish(self, events: Sequence[JobEvent]) -> None:
        for queue in list(self._subscribers):
            for event in events:
                self._offer(queue, event)

    def deliver_local(self, events: Sequence[JobEvent]) -> None:
        """Synchronous `publish`, for implementations that receive from elsewhere."""
        for queue in list(self._subscribers):
            for event in events:
                self._offer(queue, event)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[JobEvent]]:
        queue: asyncio.Queue[JobEvent | None] = asyncio.Queue(self._buffer)
        self._subscribers.add(queue)
        try:
            yield self._drain(queue)
        finally:
            self._subscribers.discard(queue)

    @staticmethod
    async def _drain(queue: asyncio.Queue[JobEvent | None]) -> AsyncIterator[JobEvent]:
        while True:
            event = await queue.get()
            if event is None:
                return
            yield event

    @staticmethod
    def _offer(queue: asyncio.Queue[JobEvent | None], event: JobEvent | None) -> None:
        if queue.full():
            queue.get_nowait()  # drop the oldest: a slow reader must not block publishers
        queue.put_nowait(event)
