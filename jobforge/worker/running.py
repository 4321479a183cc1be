"""`RunningJobs`: the worker's slots, the jobs in them and why a job was told to stop.

The fetcher asks it how many slots are free, the heartbeat asks it which leases to extend,
and the shutdown drain waits on it. A job stopped from outside (a user's cancel, a lost
lease, a shutdown past its grace) carries the reason, so the task that ran it can report the
right outcome when its `CancelledError` arrives.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from enum import StrEnum

from jobforge.domain.errors import ConfigError
from jobforge.domain.job import Job


class StopReason(StrEnum):
    """Why a running job's task was cancelled."""

    CANCEL_REQUESTED = "cancel_requested"
    """A user cancelled the job: report `Cancelled`."""
    LEASE_LOST = "lease_lost"
    """Another worker may own the job now: report nothing, the write would be refused."""
    SHUTDOWN = "shutdown"
    """The grace period ran out: report `Released`, so the job runs again elsewhere at once."""


@dataclass(kw_only=True)
class RunningJob:
    job: Job
    task: asyncio.Task[None] | None = None
    stop_reason: StopReason | None = None

    @property
    def lease_token(self) -> uuid.UUID:
        assert self.job.lease_token is not None, "a claimed job always carries its lease token"
        return self.job.lease_token


class RunningJobs:
    """At most `capacity` jobs, by id."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ConfigError(f"concurrency must be at least 1, got {capacity}")
        self.capacity = capacity
        self._jobs: dict[uuid.UUID, RunningJob] = {}
        self._changed = asyncio.Event()

    def __len__(self) -> int:
        return len(self._jobs)

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._jobs

    @property
    def free(self) -> int:
        return max(self.capacity - len(self._jobs), 0)

    def add(self, job: Job, task: asyncio.Task[None] | None = None) -> RunningJob:
        entry = RunningJob(job=job, task=task)
        self._jobs[job.id] = entry
        return entry

    def get(self, job_id: uuid.UUID) -> RunningJob | None:
        return self._jobs.get(job_id)

    def remove(self, job_id: uuid.UUID) -> None:
        if self._jobs.pop(job_id, None) is not None:
            self._changed.set()

    def leases(self) -> dict[uuid.UUID, uuid.UUID]:
        """Job id -> lease token of every running job."""
        return {job_id: entry.lease_token for job_id, entry in self._jobs.items()}

    def tasks(self) -> list[asyncio.Task[None]]:
        return [e.task for e in self._jobs.values() if e.task is not None]

    def stop(self, leases: dict[uuid.UUID, uuid.UUID], reason: StopReason) -> list[uuid.UUID]:
        """Cancel the tasks of the given jobs, if each still runs the attempt of that token.

        Matching the token matters: a job may have finished and been claimed again by this
        same worker between a heartbeat's snapshot and its answer."""
        stopped = []
        for job_id, token in leases.items():
            entry = self._jobs.get(job_id)
            if entry is None or entry.lease_token != token or entry.stop_reason is not None:
                continue
            entry.stop_reason = reason
            if entry.task is not None:
                entry.task.cancel()
            stopped.append(job_id)
        return stopped

    def stop_all(self, reason: StopReason) -> list[uuid.UUID]:
        return self.stop(self.leases(), reason)

    async def wait_changed(self, timeout: float | None) -> None:
        """Return when a job leaves, or after `timeout` seconds."""
        self._changed.clear()
        try:
            async with asyncio.timeout(timeout):
                await self._changed.wait()
        except TimeoutError:
            return

    async def wait_empty(self, timeout: float | None) -> bool:
        """Wait until no job runs; False if `timeout` passed first."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._jobs:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            await self.wait_changed(remaining)
        return True
