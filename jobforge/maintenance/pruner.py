"""`JobPruner`: deletes finished jobs (completed, dead, cancelled) past their retention.

It deletes in bounded batches, a few per pass, so a large backlog of old jobs never turns
into one long transaction that blocks the claims of running workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from jobforge.domain.errors import ConfigError
from jobforge.maintenance.service import Clock, PeriodicService, utc_now
from jobforge.store.protocol import Store


@dataclass(frozen=True, kw_only=True)
class PruneResult:
    deleted: int


class JobPruner(PeriodicService[PruneResult]):
    """Deletes finished jobs older than `retention_seconds`."""

    name = "pruner"

    def __init__(
        self,
        store: Store,
        *,
        retention_seconds: float,
        interval: float = 60.0,
        batch: int = 1000,
        max_batches: int = 10,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(interval=interval, clock=clock)
        if retention_seconds <= 0:
            raise ConfigError(f"retention must be positive, got {retention_seconds}")
        if batch < 1 or max_batches < 1:
            raise ConfigError(f"batch and max_batches must be positive, got {batch}, {max_batches}")
        self._store = store
        self.retention = timedelta(seconds=retention_seconds)
        self._batch = batch
        self._max_batches = max_batches

    async def run_once(self) -> PruneResult:
        cutoff = self.clock() - self.retention
        deleted = 0
        for _ in range(self._max_batches):
            n = await self._store.delete_finished_jobs(finished_before=cutoff, limit=self._batch)
            deleted += n
            if n < self._batch:
                break
        return PruneResult(deleted=deleted)
