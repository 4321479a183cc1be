"""`Maintainer`: runs the maintenance services on whichever node leads.

Every worker runs one, so a fleet of workers needs no extra process: they all try for the
leader lease and only its holder runs the services, each at its own interval. When the
leader dies its lease expires and another worker takes over within one TTL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from jobforge.maintenance.leader import LeaderElector
from jobforge.maintenance.service import PeriodicService

log = structlog.get_logger(__name__)


@dataclass(frozen=True, kw_only=True)
class MaintainerResult:
    leading: bool
    ran: dict[str, Any] = field(default_factory=dict)


class Maintainer:
    """Keeps or seeks leadership, and while leading runs each service when it is due."""

    def __init__(
        self,
        elector: LeaderElector,
        services: Sequence[PeriodicService[Any]],
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.elector = elector
        self.services = list(services)
        self._monotonic = monotonic
        self._next_run: dict[str, float] = {}
        self._elected_at = 0.0

    @property
    def tick_seconds(self) -> float:
        return min([self.elector.renew_interval, *(s.interval for s in self.services)])

    async def run_once(self) -> MaintainerResult:
        """Renew or seek leadership; while leading, run every service that is due."""
        election = await self.elector.run_once()
        if not election.leading:
            self._next_run.clear()
            return MaintainerResult(leading=False)
        ran: dict[str, Any] = {}
        now = self._monotonic()
        for service in self.services:
            if now < self._next_run.get(service.name, 0.0) or not self.elector.is_leader:
                continue
            ran[service.name] = await service.run_safely()
            self._next_run[service.name] = now + service.interval
        return MaintainerResult(leading=True, ran=ran)

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until `stop` is set, then resign so the next leader need not wait."""
        try:
            while not stop.is_set():
                try:
                    await self.run_once()
                except Exception:
                    log.warning("maintenance tick failed", exc_info=True)
                try:
                    async with asyncio.timeout(self.tick_seconds):
                        await stop.wait()
                except TimeoutError:
                    continue
        finally:
            await self.elector.resign()
