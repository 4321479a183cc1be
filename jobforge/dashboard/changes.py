"""`StoreChangePoller`: live events on SQLite when a worker runs in another process.

On SQLite the event bus is in-process, so a `jobforge worker` in another process sharing
the database file cannot reach this API process's dashboards. This poller asks the store
every `interval` for the jobs changed since its last look (`Store.recent_changes`, which
reads each kind of change through an index: new, started, failed, finished) and turns each
into an event for the hub, which drops the ones a worker in this process already announced.

It sees every job that changed, however old, but not who acted (people act through the
API, in a process whose own events carry that) nor states a job passed through between two
polls (a job submitted and finished within one interval is reported finished).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import OrderedDict
from datetime import datetime, timedelta

import structlog

from jobforge.control import event_from_change
from jobforge.domain.states import JobState
from jobforge.events import JobEvent, event_for_status
from jobforge.events.hub import LiveHub
from jobforge.store.protocol import Store

log = structlog.get_logger(__name__)

DEFAULT_INTERVAL = 1.0
DEFAULT_BATCH = 1000
MAX_PAGES = 20
"""Pages read per poll at most; a bigger backlog is read on the following polls."""
OVERLAP = timedelta(seconds=1)
"""Each poll looks again this far back, for a change stamped just before a commit that
landed after the previous poll (the store dedupes nothing; `_seen` does)."""
SEEN_JOBS = 50_000


class StoreChangePoller:
    """Polls the store for changed jobs and feeds their new states to the hub."""

    def __init__(
        self,
        store: Store,
        hub: LiveHub,
        *,
        interval: float = DEFAULT_INTERVAL,
        batch: int = DEFAULT_BATCH,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        if not 1 <= batch <= 10_000:
            raise ValueError(f"batch must be 1..10000, got {batch}")
        self._store = store
        self._hub = hub
        self._interval = interval
        self._batch = batch
        self._since: datetime | None = None
        self._seen: OrderedDict[uuid.UUID, tuple[JobState, int]] = OrderedDict()
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> list[JobEvent]:
        """One poll: the events for what changed since the last one (none on the first,
        which only notes where to start)."""
        if self._since is None:
            self._since = await self._store.now()
            return []
        events: list[JobEvent] = []
        since, after_id, newest = self._since, None, self._since
        for _ in range(MAX_PAGES):
            page = await self._store.recent_changes(
                since=since, after_id=after_id, limit=self._batch
            )
            for change in page:
                newest = max(newest, change.at)
                state = (change.status, change.attempts)
                if self._seen.get(change.id) == state:
                    continue
                self._remember(change.id, state)
                events.append(event_from_change(change, event_for_status(change.status)))
            if len(page) < self._batch:
                break
            since, after_id = page[-1].at, page[-1].id  # a full page: read on after it
        self._since = max(since, newest - OVERLAP)
        self._hub.ingest(events)
        return events

    def _remember(self, job_id: uuid.UUID, state: tuple[JobState, int]) -> None:
        self._seen.pop(job_id, None)
        self._seen[job_id] = state
        if len(self._seen) > SEEN_JOBS:
            self._seen.popitem(last=False)

    def start(self) -> None:
        """Poll in the background until `close()` (idempotent)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.warning("store change poll failed", exc_info=True)
            await asyncio.sleep(self._interval)
