"""`Worker`: one process's runtime, composed of a fetcher, an executor, a completer, a lease
heartbeat and (on whichever worker leads) the maintenance services.

Embed it in any running event loop::

    worker = Worker(store, registry, WorkerConfig.from_settings(settings), bus=bus)
    await worker.start()
    ...
    await worker.stop()          # graceful: drains within the grace period

`jobforge worker` does the same, with signal handling (`run_until_signalled`).
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from jobforge.config import Settings
from jobforge.control import event_from_job
from jobforge.domain.backoff import Backoff
from jobforge.domain.errors import ConfigError
from jobforge.domain.job import Job
from jobforge.domain.outcomes import Cancelled, Failed, Outcome, Released
from jobforge.events import EventBus
from jobforge.events.types import EventName
from jobforge.maintenance.leader import LeaderElector
from jobforge.maintenance.maintainer import Maintainer
from jobforge.maintenance.pruner import JobPruner
from jobforge.maintenance.rescuer import LeaseRescuer
from jobforge.store.params import WorkerInfo
from jobforge.store.protocol import Store
from jobforge.worker.completer import JobCompleter
from jobforge.worker.executor import JobExecutor
from jobforge.worker.fetcher import FetchConfig, JobFetcher
from jobforge.worker.heartbeat import LeaseHeartbeat, Leases
from jobforge.worker.registry import HandlerInvoker, HandlerRegistry
from jobforge.worker.running import RunningJobs, StopReason
from jobforge.worker.shutdown import DrainResult, ShutdownSignals, drain

log = structlog.get_logger(__name__)

STOP_FLUSH_SECONDS = 10.0
"""How long a stopping worker keeps trying to write its last outcomes."""


@dataclass(frozen=True, kw_only=True)
class WorkerConfig:
    """What one worker process runs and how (see `Settings` for the meaning of each)."""

    queues: Sequence[str]
    concurrency: int = 10
    lease_seconds: float = 30.0
    heartbeat_seconds: float = 5.0
    shutdown_grace_seconds: float = 30.0
    poll_interval_seconds: float = 0.05
    fallback_poll_seconds: float = 1.0
    backoff: Backoff = field(default_factory=Backoff)
    maintenance: bool = True
    rescue_interval_seconds: float = 5.0
    retention_seconds: float = 7 * 24 * 3600.0

    def __post_init__(self) -> None:
        if not self.queues:
            raise ConfigError("a worker needs at least one queue")
        if self.concurrency < 1:
            raise ConfigError(f"concurrency must be at least 1, got {self.concurrency}")
        if not 0 < self.heartbeat_seconds < self.lease_seconds:
            raise ConfigError(
                f"heartbeat_seconds ({self.heartbeat_seconds}) must be positive and shorter "
                f"than lease_seconds ({self.lease_seconds})"
            )

    @classmethod
    def from_settings(
        cls, settings: Settings, *, queues: Sequence[str] | None = None, **overrides: Any
    ) -> WorkerConfig:
        values: dict[str, Any] = {
            "queues": tuple(queues or settings.queue_list),
            "concurrency": settings.concurrency,
            "lease_seconds": settings.lease_seconds,
            "heartbeat_seconds": settings.heartbeat_seconds,
            "shutdown_grace_seconds": settings.shutdown_grace_seconds,
            "poll_interval_seconds": settings.poll_interval_seconds,
            "backoff": settings.backoff,
            "rescue_interval_seconds": settings.rescue_interval_seconds,
            "retention_seconds": settings.retention_seconds,
        }
        values.update(overrides)
        return cls(**values)


@dataclass(kw_only=True)
class WorkerStats:
    claimed: int = 0
    lost: int = 0
    cancelled: int = 0
    released: int = 0


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    """Runs jobs from the store's queues until stopped."""

    def __init__(
        self,
        store: Store,
        registry: HandlerRegistry,
        config: WorkerConfig,
        *,
        bus: EventBus | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.id = worker_id or new_worker_id()
        self.stats = WorkerStats()
        self._bus = bus
        self.invoker = HandlerInvoker(threads=config.concurrency)
        self.executor = JobExecutor(registry, self.invoker, default_backoff=config.backoff)
        self.running = RunningJobs(config.concurrency)
        self.completer = JobCompleter(store, bus)
        self.fetcher = JobFetcher(
            store,
            worker_id=self.id,
            config=FetchConfig(
                queues=tuple(config.queues),
                lease_seconds=config.lease_seconds,
                poll_seconds=config.poll_interval_seconds,
                fallback_poll_seconds=config.fallback_poll_seconds,
            ),
            slots=self.running,
            start=self._start_jobs,
            backlog=lambda: self.completer.backlog,
        )
        self.heartbeat = LeaseHeartbeat(
            store,
            worker_id=self.id,
            leases=self._held_leases,
            on_lost=self._on_leases_lost,
            on_cancel_requested=self._on_cancel_requested,
            interval=config.heartbeat_seconds,
            lease_seconds=config.lease_seconds,
        )
        self.maintainer = self._build_maintainer() if config.maintenance else None
        self._force = asyncio.Event()
        self._stop_beating = asyncio.Event()
        self._stop_maintaining = asyncio.Event()
        self._loops: dict[str, asyncio.Task[None]] = {}
        self._started_at: datetime | None = None
        self._stopped: asyncio.Future[DrainResult] | None = None
        self._publishing: set[asyncio.Task[None]] = set()

    def _build_maintainer(self) -> Maintainer:
        cfg = self.config
        # The leader lease is as long as a job lease: if the leader dies with jobs, both
        # expire together and the next leader rescues them in one pass.
        elector = LeaderElector(self.store, holder=self.id, ttl_seconds=cfg.lease_seconds)
        rescuer = LeaseRescuer(
            self.store, interval=cfg.rescue_interval_seconds, backoff=cfg.backoff, bus=self._bus
        )
        pruner = JobPruner(self.store, retention_seconds=cfg.retention_seconds)
        return Maintainer(elector, [rescuer, pruner])

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Register this worker and start claiming. Returns at once; jobs run in the loop."""
        if self._loops:
            raise RuntimeError("worker already started")
        self._started_at = datetime.now(UTC)
        await self.store.register_worker(self._info())
        self._loops["completer"] = asyncio.create_task(self.completer.run())
        self._loops["heartbeat"] = asyncio.create_task(self.heartbeat.run(self._stop_beating))
        self._loops["fetcher"] = asyncio.create_task(self.fetcher.run())
        if self.maintainer is not None:
            self._loops["maintainer"] = asyncio.create_task(
                self.maintainer.run(self._stop_maintaining)
            )
        log.info(
            "worker started",
            worker_id=self.id,
            queues=list(self.config.queues),
            concurrency=self.config.concurrency,
        )

    async def stop(self, grace: float | None = None) -> DrainResult:
        """Stop claiming, drain within `grace` seconds (default: the configured grace),
        release what is left, write every outcome, and unregister. Safe to call twice."""
        if self._stopped is None:
            self._stopped = asyncio.get_running_loop().create_future()
            try:
                self._stopped.set_result(await self._shutdown(grace))
            except BaseException as exc:
                self._stopped.set_exception(exc)
                raise
        return await asyncio.shield(self._stopped)

    def force(self) -> None:
        """Cut the grace period of a stop in progress (or the next one) short."""
        self._force.set()

    async def _shutdown(self, grace: float | None) -> DrainResult:
        self.fetcher.stop()
        await self._join("fetcher")
        self._stop_maintaining.set()
        grace = self.config.shutdown_grace_seconds if grace is None else grace
        result = await drain(self.running, grace=grace, force=self._force)
        self.completer.close()
        await self._join("completer", timeout=STOP_FLUSH_SECONDS)
        self._stop_beating.set()
        await self._join("heartbeat")
        await self._join("maintainer", timeout=STOP_FLUSH_SECONDS)
        self.invoker.shutdown()
        await self._unregister()
        log.info("worker stopped", worker_id=self.id, clean=result.clean, released=result.released)
        return result

    async def _join(self, name: str, timeout: float | None = None) -> None:
        task = self._loops.get(name)
        if task is None:
            return
        try:
            async with asyncio.timeout(timeout):
                await asyncio.shield(task)
        except TimeoutError:
            log.error("worker loop did not stop in time", loop=name)
            task.cancel()
        except Exception:
            log.error("worker loop failed", loop=name, exc_info=True)

    async def _unregister(self) -> None:
        try:
            await self.store.unregister_worker(self.id)
        except Exception:
            log.warning("unregistering worker failed", exc_info=True)

    def _info(self) -> WorkerInfo:
        now = datetime.now(UTC)
        return WorkerInfo(
            id=self.id,
            host=socket.gethostname(),
            pid=os.getpid(),
            queues=tuple(self.config.queues),
            concurrency=self.config.concurrency,
            started_at=self._started_at or now,
            last_seen_at=now,
        )

    # -- jobs ------------------------------------------------------------------------------
    def _start_jobs(self, jobs: list[Job]) -> None:
        self.stats.claimed += len(jobs)
        for job in jobs:
            entry = self.running.add(job)
            entry.task = asyncio.create_task(self._execute(job))
        if self._bus is not None:
            events = [event_from_job(j, EventName.STARTED) for j in jobs]
            task = asyncio.create_task(self._publish_started(events))
            self._publishing.add(task)
            task.add_done_callback(self._publishing.discard)

    async def _execute(self, job: Job) -> None:
        outcome: Outcome | None
        try:
            outcome = await self.executor.run(job)
        except asyncio.CancelledError:
            outcome = self._outcome_of_stop(job)
            if outcome is None and self._stop_reason(job) is None:
                self.running.remove(job.id)
                raise
        except BaseException:
            # Never leave a slot taken: the lease expires and the rescuer retries the job.
            self.running.remove(job.id)
            raise
        # Hand the outcome over before freeing the slot, so that its lease is always in the
        # set the heartbeat extends until the write lands.
        if outcome is not None:
            self.completer.submit(outcome)
            if isinstance(outcome, Failed) and outcome.retry_at is not None:
                self.fetcher.wake_at(outcome.retry_at)
        self.running.remove(job.id)

    def _stop_reason(self, job: Job) -> StopReason | None:
        entry = self.running.get(job.id)
        return entry.stop_reason if entry is not None else None

    def _outcome_of_stop(self, job: Job) -> Outcome | None:
        reason = self._stop_reason(job)
        assert job.lease_token is not None
        if reason is StopReason.CANCEL_REQUESTED:
            self.stats.cancelled += 1
            return Cancelled(job_id=job.id, lease_token=job.lease_token)
        if reason is StopReason.SHUTDOWN:
            self.stats.released += 1
            return Released(job_id=job.id, lease_token=job.lease_token)
        if reason is StopReason.LEASE_LOST:
            self.stats.lost += 1
        return None

    def _held_leases(self) -> Leases:
        leases = self.completer.leases()
        leases.update(self.running.leases())
        return leases

    def _on_leases_lost(self, leases: Leases) -> list[uuid.UUID]:
        return self.running.stop(leases, StopReason.LEASE_LOST)

    def _on_cancel_requested(self, leases: Leases) -> None:
        stopped = self.running.stop(leases, StopReason.CANCEL_REQUESTED)
        if stopped:
            log.info("cancelling running jobs on request", job_ids=[str(j) for j in stopped])

    async def _publish_started(self, events: list[Any]) -> None:
        assert self._bus is not None
        try:
            await self._bus.publish(events)
        except Exception:
            log.warning("event publish failed", count=len(events), exc_info=True)


async def run_until_signalled(
    worker: Worker, signals: ShutdownSignals | None = None
) -> DrainResult:
    """Start `worker`, run until SIGTERM or SIGINT, then drain it (a second signal forces).
    Pass `signals` if it was already capturing signals during start-up."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = signals or ShutdownSignals()
    signals.install(loop, on_stop=stop.set, on_force=worker.force)
    try:
        await worker.start()
        await stop.wait()
        return await worker.stop()
    finally:
        signals.uninstall(loop)
