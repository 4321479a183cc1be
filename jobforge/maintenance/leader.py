"""`LeaderElector`: one node at a time runs the maintenance services.

Leadership is a lease row in the store (`acquire_leadership` takes or renews it atomically),
renewed every third of its TTL. Locally we count it as held only until the TTL measured from
*before* the renewal call, so a node that stalls or loses the database stops acting as
leader no later than the store stops honouring it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from jobforge.domain.errors import ConfigError
from jobforge.store.protocol import Store

log = structlog.get_logger(__name__)

MAINTENANCE_LEADER = "maintenance"


@dataclass(frozen=True, kw_only=True)
class LeadershipResult:
    leading: bool
    changed: bool


class LeaderElector:
    """Holds (or waits for) the named leader lease for `holder`."""

    def __init__(
        self,
        store: Store,
        *,
        holder: str,
        ttl_seconds: float,
        name: str = MAINTENANCE_LEADER,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_seconds <= 0:
            raise ConfigError(f"leader ttl must be positive, got {ttl_seconds}")
        self._store = store
        self.holder = holder
        self.name = name
        self.ttl_seconds = ttl_seconds
        self._monotonic = monotonic
        self._valid_until = 0.0

    @property
    def renew_interval(self) -> float:
        return self.ttl_seconds / 3

    @property
    def is_leader(self) -> bool:
        return self._monotonic() < self._valid_until

    async def run_once(self) -> LeadershipResult:
        """Take or renew the lease; a store error counts as not leading."""
        was_leader = self.is_leader
        started = self._monotonic()
        try:
            held = await self._store.acquire_leadership(self.name, self.holder, self.ttl_seconds)
        except Exception:
            log.warning("leader election failed", exc_info=True)
            held = False
        self._valid_until = started + self.ttl_seconds if held else 0.0
        if held != was_leader:
            log.info("leadership changed", leader=held, holder=self.holder, lease=self.name)
        return LeadershipResult(leading=held, changed=held != was_leader)

    async def resign(self) -> None:
        """Give the lease up so another node takes over without waiting for the TTL."""
        if self._valid_until == 0.0:
            return
        self._valid_until = 0.0
        try:
            await self._store.release_leadership(self.name, self.holder)
        except Exception:
            log.warning("releasing leadership failed", exc_info=True)
