"""`StoreChangePoller`: live events on SQLite when a worker runs in another process.

On SQLite the event bus is in-process, so a `jobforge worker` in another process sharing
the database file cannot reach this API process's dashboards. This poller reads the newest
jobs every `interval` and turns every change of state it sees into an event for the hub
(which drops the ones a worker in this process already announced).

It sees only the `window` newest jobs, and not who acted: a store method listing the jobs
changed since a given time (`updated_at`) would let it see every change; until then it is a
best effort for the small installations SQLite is meant for.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import structlog

from jobforge.control import event_from_job
from jobforge.domain.states import JobState
from jobforge.events import JobEvent, event_for_status
from jobforge.events.hub import LiveHub
from jobforge.store.params import ListJobsParams
from jobforge.store.protocol import Store

log = structlog.get_logger(__name__)

DEFAULT_INTERVAL = 1.0
DEFAULT_WINDOW = 200


class StoreChangePoller:
    """Polls the newest jobs and feeds their state changes to the hub."""

    def __init__(
        self,
        store: Store,
        hub: LiveHub,
        *,
        interval: float = DEFAULT_INTERVAL,
        window: int = DEFAULT_WINDOW,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        if not 1 <= window <= 500:
            raise ValueError(f"window must be 1..500, got {window}")
        self._store = store
        self._hub = hub
        self._interval = interval
        self._window = window
        self._seen: dict[uuid.UUID, tuple[JobState, int]] = {}
        self._primed = False
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> list[JobEvent]:
        """One poll: the events for what changed since the last one (none on the first)."""
        page = await self._store.list_jobs(
            ListJobsParams(tenant=None, limit=self._window, with_total=False)
        )
        events = []
        seen: dict[uuid.UUID, tuple[JobState, int]] = {}
        for job in page.items:
            state = seen[job.id] = (job.status, job.attempts)
            if self._primed and self._seen.get(job.id) != state:
                events.append(event_from_job(job, event_for_status(job.status)))
        self._seen, self._primed = seen, True
        self._hub.ingest(events)
        return events

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
