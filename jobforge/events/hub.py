"""`LiveHub`: one bus subscription per process, fanned out to many live clients.

Each WebSocket client gets a `LiveFeed` with a small bounded queue of ready-to-send messages.
The hub never waits for a client: every `interval` it drains the coalescer and offers each
feed the message for its scope; a feed whose queue is full is dropped (its socket is closed
and the browser reconnects and refetches), so one slow client cannot slow anyone else or make
the hub buffer without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime

import structlog

from jobforge.domain.states import JobState
from jobforge.events import EventBus, JobEvent
from jobforge.events.coalesce import CoalescedBatch, EventCoalescer, ThroughputRing
from jobforge.events.history import RecentHistory

log = structlog.get_logger(__name__)

DEFAULT_INTERVAL = 0.25
DEFAULT_CLIENT_BUFFER = 16
RESUBSCRIBE_SECONDS = 1.0
DEDUPE_JOBS = 20_000


class LiveFeed:
    """One client's queue of messages; `None` from `next()` means the feed was dropped."""

    def __init__(self, tenant: str | None, buffer: int) -> None:
        self.tenant = tenant
        """The client's scope: a tenant name, or None for an admin (every tenant)."""
        self.dropped = False
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(buffer + 1)
        self._buffer = buffer

    def offer(self, message: str) -> None:
        """Queue a message, or drop the feed if the client has not kept up."""
        if self.dropped:
            return
        if self._queue.qsize() >= self._buffer:
            self.end()
            return
        self._queue.put_nowait(message)

    def end(self) -> None:
        """Drop the feed: pending messages are discarded and `next()` returns None."""
        if self.dropped:
            return
        self.dropped = True
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def next(self) -> str | None:
        """The next message, waiting for one; None once dropped."""
        return await self._queue.get()


class LiveHub:
    """Subscribes to the bus once, coalesces, and fans messages out to feeds."""

    def __init__(
        self,
        bus: EventBus,
        *,
        interval: float = DEFAULT_INTERVAL,
        client_buffer: int = DEFAULT_CLIENT_BUFFER,
        max_jobs: int = 200,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        if client_buffer < 1:
            raise ValueError(f"client_buffer must be at least 1, got {client_buffer}")
        self.bus = bus
        self.throughput = ThroughputRing()
        self.history = RecentHistory()
        self._interval = interval
        self._client_buffer = client_buffer
        self._coalescer = EventCoalescer(max_jobs=max_jobs)
        self._clock = clock
        self._feeds: set[LiveFeed] = set()
        self._last_state: OrderedDict[uuid.UUID, tuple[JobState, int, datetime]] = OrderedDict()
        self._tasks: list[asyncio.Task[None]] = []
        self._subscribed = asyncio.Event()

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    async def start(self) -> None:
        """Subscribe and start flushing; returns once subscribed (idempotent)."""
        if self._tasks:
            return
        loop = asyncio.get_running_loop()
        self._subscribed.clear()
        self._tasks = [loop.create_task(self._receive()), loop.create_task(self._flush())]
        await self._subscribed.wait()

    async def close(self) -> None:
        """Stop; every feed is dropped so its client reconnects elsewhere."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for feed in list(self._feeds):
            feed.end()
        self._feeds.clear()

    @property
    def clients(self) -> int:
        """How many live feeds are connected (a dropped one no longer counts)."""
        return len(self._feeds)

    def connect(self, tenant: str | None) -> LiveFeed:
        """A new feed for a client scoped to `tenant` (None: every tenant)."""
        feed = LiveFeed(tenant, self._client_buffer)
        self._feeds.add(feed)
        return feed

    def disconnect(self, feed: LiveFeed) -> None:
        self._feeds.discard(feed)

    def throughput_series(self, tenant: str | None) -> list[tuple[int, int, int]]:
        """Completed and failed per second over the last 15 minutes, for `tenant`."""
        return self.throughput.series(tenant, int(self._clock()))

    def ingest(self, events: Iterable[JobEvent]) -> int:
        """Take events from any source (the bus, a store poller); returns how many were new.

        An event announcing the state a job was last seen in is dropped: when a worker in
        this process publishes and the SQLite poller also notices the change, it counts once.
        So is one older than the last seen (a poll that read `running` just before the bus
        announced `completed`), or the job's next announcement would count it twice.
        """
        fresh = []
        for event in events:
            state = (event.status, event.attempt)
            last = self._last_state.get(event.job_id)
            if last is not None and (last[:2] == state or event.at < last[2]):
                if last[:2] == state:
                    self.history.annotate(event)
                continue
            self._last_state.pop(event.job_id, None)
            self._last_state[event.job_id] = (*state, event.at)
            if len(self._last_state) > DEDUPE_JOBS:
                self._last_state.popitem(last=False)
            fresh.append(event)
        if fresh:
            self._coalescer.add(fresh)
            self.throughput.add(fresh)
            self.history.add(fresh)
        return len(fresh)

    def fan_out(self, batch: CoalescedBatch) -> None:
        """Offer each feed the batch's message for its scope (one encoding per scope)."""
        if not batch:
            return
        encoded: dict[str | None, str | None] = {}
        for feed in list(self._feeds):
            if feed.tenant not in encoded:
                encoded[feed.tenant] = batch.message_for(feed.tenant)
            message = encoded[feed.tenant]
            if message is not None:
                feed.offer(message)
            if feed.dropped:
                self._feeds.discard(feed)
                log.info("live client dropped: too slow", tenant=feed.tenant)

    async def _receive(self) -> None:
        while True:
            try:
                async with self.bus.subscribe() as events:
                    self._subscribed.set()
                    async for event in events:
                        self.ingest((event,))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("live event subscription failed", exc_info=True)
            self._subscribed.set()  # never leave start() waiting on a broken bus
            await asyncio.sleep(RESUBSCRIBE_SECONDS)

    async def _flush(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            self.fan_out(self._coalescer.drain())
