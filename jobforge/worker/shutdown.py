"""Graceful shutdown in two stages, and the signals that drive it.

First SIGTERM or SIGINT: stop claiming and let running jobs finish within the grace period.
When it runs out, the remaining handlers are cancelled and their jobs released: back to
`pending` with the attempt refunded, so another worker picks them up at once instead of after
a lease expiry. A second signal skips what is left of the grace period.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from jobforge.worker.running import RunningJobs, StopReason

log = structlog.get_logger(__name__)

RELEASE_WAIT_SECONDS = 5.0
"""How long cancelled handlers get to unwind before the worker stops waiting for them."""


@dataclass(frozen=True, kw_only=True)
class DrainResult:
    """`clean`: every running job finished within the grace period. `released`: jobs given
    back unfinished. `forced`: a second signal cut the grace period short."""

    clean: bool
    released: int = 0
    forced: bool = False


async def drain(running: RunningJobs, *, grace: float, force: asyncio.Event) -> DrainResult:
    """Wait up to `grace` seconds (or until `force` is set) for running jobs to finish, then
    cancel the rest with `StopReason.SHUTDOWN`, which makes their tasks report `Released`."""
    waiter = asyncio.create_task(running.wait_empty(grace))
    forced = asyncio.create_task(force.wait())
    try:
        await asyncio.wait([waiter, forced], return_when=asyncio.FIRST_COMPLETED)
    finally:
        forced.cancel()
        waiter.cancel()
    if not running:
        return DrainResult(clean=True)
    stopped = running.stop_all(StopReason.SHUTDOWN)
    log.warning("grace period over; releasing unfinished jobs", count=len(stopped))
    if not await running.wait_empty(RELEASE_WAIT_SECONDS):
        log.error("handlers ignored cancellation", count=len(running))
    return DrainResult(clean=False, released=len(stopped), forced=force.is_set())


class ShutdownSignals:
    """Routes SIGTERM and SIGINT: the first to `on_stop`, any later one to `on_force`.

    `capture_early()` (before the event loop runs) records signals that arrive while the
    process is still starting, e.g. during migrations; `install` replays them, so a worker
    told to stop a moment after it was spawned still stops cleanly instead of dying on the
    default SIGTERM action.
    """

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.received = 0
        self._early: list[int] = []
        self._on_stop: Callable[[], None] = lambda: None
        self._on_force: Callable[[], None] = lambda: None

    def capture_early(self) -> None:
        for sig in self.SIGNALS:
            signal.signal(sig, self._record_early)

    def install(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        on_stop: Callable[[], None],
        on_force: Callable[[], None],
    ) -> None:
        self._on_stop, self._on_force = on_stop, on_force
        for sig in self.SIGNALS:
            loop.add_signal_handler(sig, self._handle, sig)
        for signum in self._early:
            loop.call_soon(self._handle, signal.Signals(signum))
        self._early.clear()

    def uninstall(self, loop: asyncio.AbstractEventLoop) -> None:
        for sig in self.SIGNALS:
            loop.remove_signal_handler(sig)

    def _record_early(self, signum: int, frame: object) -> None:
        self._early.append(signum)

    def _handle(self, sig: signal.Signals) -> None:
        self.received += 1
        if self.received == 1:
            log.info("shutting down gracefully", signal=sig.name)
            self._on_stop()
        else:
            log.warning("second signal: forcing shutdown", signal=sig.name)
            self._on_force()
