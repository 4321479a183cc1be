"""`LeaseRescuer`: running jobs whose lease expired are failed attempts.

Their worker crashed, stalled or lost the database. The attempt was counted when the job was
claimed, so each rescue moves the job to `failed` with a backoff or, out of attempts, to
`dead`; a job whose handler kills its worker every time therefore ends in the dead-letter
queue instead of looping forever. Only the leader rescues, so two nodes never race on the
same rows (the store's statement is fenced on the expired lease as well).
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from jobforge.control import event_from_change
from jobforge.domain.backoff import Backoff
from jobforge.domain.errors import ConfigError
from jobforge.events import EventBus
from jobforge.events.types import EventName, JobEvent
from jobforge.maintenance.service import Clock, PeriodicService, utc_now
from jobforge.store.params import RescueParams
from jobforge.store.protocol import Store

log = structlog.get_logger(__name__)


@dataclass(frozen=True, kw_only=True)
class RescueRunResult:
    retried: int
    dead: int


class LeaseRescuer(PeriodicService[RescueRunResult]):
    """Expired leases -> `failed` (with backoff) or `dead`."""

    name = "rescuer"

    def __init__(
        self,
        store: Store,
        *,
        interval: float,
        backoff: Backoff,
        bus: EventBus | None = None,
        batch: int = 1000,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(interval=interval, clock=clock)
        if batch < 1:
            raise ConfigError(f"rescuer batch must be at least 1, got {batch}")
        self._store = store
        self._bus = bus
        self._params = RescueParams(limit=batch, backoff=backoff)

    async def run_once(self) -> RescueRunResult:
        result = await self._store.rescue_expired_leases(self._params)
        if result.retried or result.dead:
            log.warning(
                "rescued jobs with expired leases",
                retried=[str(c.id) for c in result.retried],
                dead=[str(c.id) for c in result.dead],
            )
            await self._publish(
                [event_from_change(c, EventName.FAILED) for c in result.retried]
                + [event_from_change(c, EventName.DLQ) for c in result.dead]
            )
        return RescueRunResult(retried=len(result.retried), dead=len(result.dead))

    async def _publish(self, events: list[JobEvent]) -> None:
        if self._bus is None:
            return
        try:
            await self._bus.publish(events)
        except Exception:
            log.warning("event publish failed", count=len(events), exc_info=True)
