"""`PeriodicService`: the one shape of every maintenance service.

Config is validated at construction, `run_once()` does one pass and returns a small result
(tests call it directly and never sleep through an interval), `run()` loops, logging and
carrying on after an error, and the clock is injected (River's maintenance services,
oban-py's looper).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Generic, TypeVar

import structlog

from jobforge.domain.errors import ConfigError

log = structlog.get_logger(__name__)

R = TypeVar("R")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class PeriodicService(ABC, Generic[R]):
    """Something the leader does every `interval` seconds."""

    name: str = "service"

    def __init__(self, *, interval: float, clock: Clock = utc_now) -> None:
        if interval <= 0:
            raise ConfigError(f"{self.name} interval must be positive, got {interval}")
        self.interval = interval
        self.clock = clock

    @abstractmethod
    async def run_once(self) -> R:
        """One pass; returns what it did."""

    async def run_safely(self) -> R | None:
        """`run_once`, with an error logged instead of raised (the loop must go on)."""
        try:
            return await self.run_once()
        except Exception:
            log.warning("maintenance pass failed", service=self.name, exc_info=True)
            return None

    async def run(self, stop: asyncio.Event) -> None:
        """Call `run_once` every `interval` seconds until `stop` is set."""
        while not stop.is_set():
            await self.run_safely()
            try:
                async with asyncio.timeout(self.interval):
                    await stop.wait()
            except TimeoutError:
                continue
