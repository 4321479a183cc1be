"""`JobFetcher`: claims as many due jobs as there are free slots, in one query.

It never claims beyond free capacity (River's producer makes the same choice): prefetching
would hold leases on jobs no slot can start, and another idle worker could have run them.
Under load a claim waits a moment for several slots to free up, so one round trip starts a
batch of jobs rather than one.

When a claim comes back short, the queues are drained and the fetcher sleeps until a job
arrives. On PostgreSQL, arrivals come by LISTEN/NOTIFY from any process, and the poll is
only a fallback for jobs that become due by the clock (scheduled jobs, retries after a
backoff). On SQLite only this process's own enqueues are heard, so other processes' jobs are
found by a short poll of an indexed, mostly empty partial index: cheap enough to run often.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from jobforge.domain.job import Job
from jobforge.store.params import ClaimParams
from jobforge.store.protocol import Store
from jobforge.worker.running import RunningJobs

log = structlog.get_logger(__name__)

CLAIM_ERROR_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)
LISTEN_RETRY_SECONDS = 1.0


@dataclass(frozen=True, kw_only=True)
class FetchResult:
    requested: int
    claimed: int


@dataclass(frozen=True, kw_only=True)
class FetchConfig:
    """How the fetcher paces itself.

    `poll_seconds`: the wait between claims while idle when arrivals are not heard from
    every process (SQLite, or a broken LISTEN connection). `fallback_poll_seconds`: the wait
    while idle when they are (PostgreSQL), only to catch jobs that fall due by the clock.
    `batch_wait_seconds`: under load, how long a claim may wait for more slots to free.
    `max_backlog`: outcomes waiting to be written beyond which claiming pauses.
    """

    queues: Sequence[str]
    lease_seconds: float
    poll_seconds: float = 0.05
    fallback_poll_seconds: float = 1.0
    batch_wait_seconds: float = 0.002
    max_backlog: int = 10_000


class JobFetcher:
    """Claims jobs into free slots and hands them to `start`."""

    def __init__(
        self,
        store: Store,
        *,
        worker_id: str,
        config: FetchConfig,
        slots: RunningJobs,
        start: Callable[[list[Job]], None],
        backlog: Callable[[], int] = lambda: 0,
    ) -> None:
        self._store = store
        self._worker_id = worker_id
        self._config = config
        self._queues = frozenset(config.queues)
        self._slots = slots
        self._start = start
        self._backlog = backlog
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self._listening = False
        self._errors = 0

    def wake(self) -> None:
        """Claim now rather than at the next poll."""
        self._wakeup.set()

    def wake_at(self, when: datetime) -> None:
        """Claim again at `when`: a retry this worker scheduled falls due then, and nothing
        else would announce it before the fallback poll."""
        delay = (when - datetime.now(UTC)).total_seconds()
        asyncio.get_running_loop().call_later(max(delay, 0.0), self._wakeup.set)

    def stop(self) -> None:
        """Stop claiming; `run` returns after the claim in flight (its jobs are started)."""
        self._stopping.set()
        self._wakeup.set()

    async def run_once(self) -> FetchResult:
        """Claim up to the free slots and start what came back."""
        requested = self._slots.free
        if requested == 0:
            return FetchResult(requested=0, claimed=0)
        self._wakeup.clear()
        jobs = await self._store.claim_jobs(
            ClaimParams(
                worker_id=self._worker_id,
                queues=list(self._config.queues),
                limit=requested,
                lease_seconds=self._config.lease_seconds,
            )
        )
        if jobs:
            self._start(jobs)
        return FetchResult(requested=requested, claimed=len(jobs))

    async def run(self) -> None:
        """Claim until stopped, listening for arrivals meanwhile."""
        listener = asyncio.create_task(self._listen(), name="jobforge-arrivals")
        try:
            while not self._stopping.is_set():
                await self._step()
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)

    async def _step(self) -> None:
        await self._wait_for_capacity()
        if self._stopping.is_set():
            return
        try:
            result = await self.run_once()
        except Exception:
            delay = CLAIM_ERROR_DELAYS[min(self._errors, len(CLAIM_ERROR_DELAYS) - 1)]
            self._errors += 1
            log.warning("claiming jobs failed; retrying", delay=delay, exc_info=True)
            await self._sleep(delay)
            return
        self._errors = 0
        if result.claimed < result.requested:
            await self._sleep(self._idle_poll_seconds())

    async def _wait_for_capacity(self) -> None:
        while self._backlog() > self._config.max_backlog and not self._stopping.is_set():
            await self._slots.wait_changed(self._config.poll_seconds)
        # Wait for a full slot, then briefly for more, so that a busy worker claims in
        # batches instead of one round trip per finished job.
        want = max(1, self._slots.capacity // 4)
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        while not self._stopping.is_set():
            free = self._slots.free
            if free >= want:
                return
            if free >= 1:
                deadline = deadline or loop.time() + self._config.batch_wait_seconds
                if loop.time() >= deadline:
                    return
                await self._slots.wait_changed(deadline - loop.time())
            else:
                await self._slots.wait_changed(None)

    def _idle_poll_seconds(self) -> float:
        if self._listening and self._store.dialect == "postgresql":
            return self._config.fallback_poll_seconds
        return self._config.poll_seconds

    async def _sleep(self, seconds: float) -> None:
        """Sleep until woken by an arrival, a stop, or the timeout."""
        try:
            async with asyncio.timeout(seconds):
                await self._wakeup.wait()
        except TimeoutError:
            return

    async def _listen(self) -> None:
        while True:
            try:
                async with self._store.job_arrivals() as arrivals:
                    self._listening = True
                    self.wake()  # anything that arrived before we listened
                    async for queue in arrivals:
                        if queue in self._queues:
                            self._wakeup.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("listening for job arrivals failed; polling", exc_info=True)
            self._listening = False
            await asyncio.sleep(LISTEN_RETRY_SECONDS)
