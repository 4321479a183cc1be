"""`LeaseHeartbeat`: one statement per interval extends every lease this worker holds.

The answer says which leases were still held. A job missing from it was taken from us (the
rescuer expired the lease while we were paused or partitioned, and another worker may run it
now), so its handler is stopped quietly: any write it made would be refused anyway. Jobs a
user asked to cancel are reported too, and their handlers are stopped with a `Cancelled`
outcome.

If the database cannot be reached, the leases run out on their own. Once the last lease we
know we extended is about to expire, the handlers are stopped as lost rather than left
running beside the attempt the rescuer will start elsewhere.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass

import structlog

from jobforge.domain.errors import ConfigError
from jobforge.store.params import HeartbeatParams
from jobforge.store.protocol import Store

log = structlog.get_logger(__name__)

Leases = dict[uuid.UUID, uuid.UUID]
"""Job id -> lease token."""


@dataclass(frozen=True, kw_only=True)
class HeartbeatOutcome:
    """What one beat did: leases `sent`, those `lost`, and jobs to `cancel`."""

    ok: bool
    sent: int
    lost: Leases
    cancel_requested: Leases


class LeaseHeartbeat:
    """Extends this worker's leases and refreshes its registry row, every `interval` s."""

    def __init__(
        self,
        store: Store,
        *,
        worker_id: str,
        leases: Callable[[], Leases],
        on_lost: Callable[[Leases], Collection[uuid.UUID]],
        on_cancel_requested: Callable[[Leases], object],
        interval: float,
        lease_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < interval < lease_seconds:
            raise ConfigError(
                f"heartbeat interval must be positive and shorter than the lease "
                f"({lease_seconds} s), got {interval}"
            )
        self._store = store
        self._worker_id = worker_id
        self._leases = leases
        self._on_lost = on_lost
        self._on_cancel_requested = on_cancel_requested
        self.interval = interval
        self._lease_seconds = lease_seconds
        self._clock = clock
        self._extended_at = clock()

    async def run_once(self) -> HeartbeatOutcome:
        """Send one heartbeat and act on its answer."""
        sent = self._leases()
        started = self._clock()
        try:
            result = await self._store.heartbeat(
                HeartbeatParams(
                    worker_id=self._worker_id,
                    lease_tokens=list(sent.values()),
                    lease_seconds=self._lease_seconds,
                )
            )
        except Exception:
            log.warning("heartbeat failed", leases=len(sent), exc_info=True)
            return self._unreachable(sent)
        self._extended_at = started
        lost = {j: t for j, t in sent.items() if j not in result.held}
        cancel = {j: t for j, t in sent.items() if j in result.cancel_requested}
        if lost:
            # Most of these are jobs whose outcome was written while the beat was in flight;
            # only a handler still running on a lost lease is worth a warning.
            stopped = self._on_lost(lost)
            if stopped:
                log.warning("leases lost; handlers stopped", job_ids=[str(j) for j in stopped])
        if cancel:
            self._on_cancel_requested(cancel)
        return HeartbeatOutcome(ok=True, sent=len(sent), lost=lost, cancel_requested=cancel)

    def _unreachable(self, sent: Leases) -> HeartbeatOutcome:
        # The lease extended by the last good beat (sent no earlier than `_extended_at`) ends
        # at least `lease_seconds` later; stop one interval before that, while it is ours.
        deadline = self._extended_at + self._lease_seconds - self.interval
        lost: Leases = {}
        if sent and self._clock() >= deadline:
            lost = sent
            log.error("database unreachable past our leases; stopping handlers", count=len(sent))
            self._on_lost(lost)
        return HeartbeatOutcome(ok=False, sent=len(sent), lost=lost, cancel_requested={})

    async def run(self, stop: asyncio.Event) -> None:
        """Beat every `interval` seconds until `stop` is set."""
        while not stop.is_set():
            try:
                async with asyncio.timeout(self.interval):
                    await stop.wait()
                return
            except TimeoutError:
                pass
            await self.run_once()
