"""`RedisEventBus`: lifecycle events through Redis pub/sub.

Chosen whenever Redis is configured: pub/sub fans out to every API process without touching
the database, which matters at thousands of completions per second. One reader task holds the
subscription for the whole process and hands events to local subscribers (an
`InProcessEventBus`), so a hundred open dashboards cost Redis one subscription, not a hundred.

If the connection drops, the reader resubscribes with backoff; events published meanwhile are
lost to this process (pub/sub keeps no history), which the dashboard covers by refetching.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager

import redis.asyncio as aioredis
import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from jobforge.events.memory import InProcessEventBus
from jobforge.events.types import JobEvent
from jobforge.events.wire import decode_chunk, encode_chunks

log = structlog.get_logger(__name__)

DEFAULT_CHANNEL = "jobforge:events"
CHUNK_BYTES = 64 * 1024
RECONNECT_MAX_SECONDS = 5.0


class RedisEventBus:
    """Publish with PUBLISH, receive with one SUBSCRIBE per process."""

    def __init__(self, url: str, *, channel: str = DEFAULT_CHANNEL) -> None:
        self._url = url
        self._channel = channel
        self._local = InProcessEventBus()
        self._client: aioredis.Redis | None = None
        self._reader: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self) -> None:
        """Connect and subscribe; returns once the subscription is live (idempotent)."""
        if self._reader is not None:
            return
        self._client = aioredis.from_url(self._url)
        self._subscribed.clear()
        self._reader = asyncio.get_running_loop().create_task(self._read_forever())
        waiter = asyncio.ensure_future(self._subscribed.wait())
        done, _ = await asyncio.wait({waiter, self._reader}, return_when=asyncio.FIRST_COMPLETED)
        if self._reader in done:  # the first subscription failed: surface why
            waiter.cancel()
            reader, self._reader = self._reader, None
            reader.result()

    async def close(self) -> None:
        """Unsubscribe, disconnect and end every local subscription."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        await self._local.close()

    async def publish(self, events: Sequence[JobEvent]) -> None:
        """PUBLISH the events in as few messages as fit the chunk size."""
        chunks = list(encode_chunks(events, max_bytes=CHUNK_BYTES))
        if not chunks:
            return
        if self._client is None:
            self._client = aioredis.from_url(self._url)
        async with self._client.pipeline(transaction=False) as pipe:
            for chunk in chunks:
                pipe.publish(self._channel, chunk)
            await pipe.execute()

    def subscribe(self) -> AbstractAsyncContextManager[AsyncIterator[JobEvent]]:
        """Every event any process publishes from now on."""
        return self._local.subscribe()

    async def _read_forever(self) -> None:
        delay = 0.1
        while True:
            try:
                await self._read_once()
            except (RedisConnectionError, RedisTimeoutError, OSError):
                if not self._subscribed.is_set():
                    raise  # never subscribed: misconfiguration, not a blip
                log.warning("event subscription lost; resubscribing", retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_SECONDS)

    async def _read_once(self) -> None:
        assert self._client is not None
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self._channel)
            self._subscribed.set()
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is not None and message.get("type") == "message":
                    events = decode_chunk(message["data"])
                    if events:
                        self._local.deliver_local(events)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]
