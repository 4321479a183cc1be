"""`JobCompleter`: writes outcomes in batches and announces them once they are committed.

Outcomes are buffered and written by one loop as a group commit: whatever accumulated while
the previous write was in flight goes in the next one. Under load the batches grow by
themselves, and an idle worker writes a single outcome at once, so neither throughput nor
latency needs a tuning knob. Events are published only after the commit, so no subscriber
hears of a completion the store does not hold.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import structlog

from jobforge.control import event_from_change
from jobforge.domain.outcomes import Outcome
from jobforge.domain.states import JobState
from jobforge.events import EventBus
from jobforge.events.types import EventName, event_for_status
from jobforge.store.params import FinishResult
from jobforge.store.protocol import Store

log = structlog.get_logger(__name__)

MAX_BATCH = 1000
RETRY_DELAYS = (0.05, 0.2, 0.5, 1.0, 2.0)


@dataclass(kw_only=True)
class CompleterStats:
    applied: int = 0
    stale: int = 0
    batches: int = 0
    write_errors: int = 0


class JobCompleter:
    """Batches outcomes into `Store.finish_attempts` calls."""

    def __init__(self, store: Store, bus: EventBus | None = None, *, max_batch: int = MAX_BATCH):
        self._store = store
        self._bus = bus
        self._max_batch = max_batch
        self._buffer: list[Outcome] = []
        self._wakeup = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._closing = False
        self.stats = CompleterStats()

    @property
    def backlog(self) -> int:
        """Outcomes waiting to be written."""
        return len(self._buffer)

    def submit(self, outcome: Outcome) -> None:
        """Queue an outcome for the next batch."""
        self._buffer.append(outcome)
        self._drained.clear()
        self._wakeup.set()

    def leases(self) -> dict[uuid.UUID, uuid.UUID]:
        """Job id -> lease token of every outcome not yet written. The heartbeat keeps these
        leases alive too, so a slow write can never let the rescuer take a finished job."""
        return {o.job_id: o.lease_token for o in self._buffer}

    async def wait_drained(self) -> None:
        await self._drained.wait()

    async def run(self) -> None:
        """Write batches until closed and everything queued is written."""
        failures = 0
        while True:
            if not self._buffer:
                self._drained.set()
                if self._closing:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            if await self.flush_once() is None:
                # Keep the outcomes: a write fenced by lease tokens is safe to repeat, and
                # if our leases expire meanwhile the store will simply refuse them as stale.
                await asyncio.sleep(RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)])
                failures += 1
            else:
                failures = 0

    async def flush_once(self) -> FinishResult | None:
        """Write one batch; None (outcomes kept) if the store failed."""
        batch = self._buffer[: self._max_batch]
        try:
            result = await self._store.finish_attempts(batch)
        except Exception:
            self.stats.write_errors += 1
            log.warning("writing outcomes failed; will retry", count=len(batch), exc_info=True)
            return None
        del self._buffer[: len(batch)]
        self._record(result)
        await self._publish(result)
        return result

    def close(self) -> None:
        """Ask `run` to return once everything queued is written."""
        self._closing = True
        self._wakeup.set()

    def _record(self, result: FinishResult) -> None:
        self.stats.batches += 1
        self.stats.applied += len(result.applied)
        if result.stale:
            self.stats.stale += len(result.stale)
            # A zombie's late write: this worker lost the lease (paused or partitioned past
            # it) and another attempt owns the job now. Refused by the store, by design.
            log.warning(
                "late write refused: lease no longer held",
                job_ids=[str(j) for j in result.stale],
                count=len(result.stale),
            )

    async def _publish(self, result: FinishResult) -> None:
        if self._bus is None or not result.applied:
            return
        events = [event_from_change(c, _event_name(c.status)) for c in result.applied]
        try:
            await self._bus.publish(events)
        except Exception:
            # The store holds the truth; a lost notification only delays a dashboard.
            log.warning("event publish failed", count=len(events), exc_info=True)


def _event_name(status: JobState) -> EventName:
    # A released attempt goes back to pending: announce it as a retry, not a new submission.
    if status is JobState.PENDING:
        return EventName.RETRY
    return event_for_status(status)
