"""`JobExecutor`: runs one attempt of one job and returns its `Outcome`.

It never touches the store: the outcome is a value that `JobCompleter` writes in batches
(oban-py's ack, River's completer), which keeps this module a pure function of the handler's
behaviour and easy to test.
"""

from __future__ import annotations

import asyncio
import json
import random
import traceback
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from jobforge.domain.backoff import Backoff
from jobforge.domain.errors import DoNotRetry, HandlerNotFound
from jobforge.domain.job import Job
from jobforge.domain.outcomes import Completed, Failed, Outcome
from jobforge.worker.registry import HandlerInvoker, HandlerRegistry, HandlerSpec, TaskContext

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class AttemptTimedOut(Exception):
    """The attempt ran past its timeout (the job's, else its handler's)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"attempt timed out after {seconds:g} s")


class JobExecutor:
    """Runs a job's handler under its timeout and turns what happened into an `Outcome`.

    `asyncio.CancelledError` is not an outcome: it propagates, and the worker decides what the
    cancellation meant (a user's cancel, a lost lease, or a shutdown past its grace period).
    """

    def __init__(
        self,
        registry: HandlerRegistry,
        invoker: HandlerInvoker,
        *,
        default_backoff: Backoff,
        clock: Clock = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self._registry = registry
        self._invoker = invoker
        self._default_backoff = default_backoff
        self._clock = clock
        self._rng = rng

    async def run(self, job: Job) -> Outcome:
        """Run one attempt of `job`: find its handler, call it, judge the result."""
        spec = self._registry.get(job.type)
        if spec is None:
            return self._failure(job, HandlerNotFound(job.type), retry=False)
        try:
            result = await self._call(spec, job)
        except DoNotRetry as exc:
            return self._failure(job, exc, retry=False)
        except Exception as exc:
            return self._failure(job, exc, retry=spec.retry, backoff=spec.backoff)
        return self._completed(job, result)

    async def _call(self, spec: HandlerSpec, job: Job) -> Any:
        ctx = TaskContext(job=job)
        timeout = job.timeout_seconds or spec.timeout
        if spec.is_async:
            try:
                async with asyncio.timeout(timeout) as scope:
                    return await spec.fn(job.payload, ctx)
            except TimeoutError:
                if timeout is not None and scope.expired():
                    raise AttemptTimedOut(timeout) from None
                raise
        return await self._call_in_thread(spec, job, ctx, timeout)

    async def _call_in_thread(
        self, spec: HandlerSpec, job: Job, ctx: TaskContext, timeout: float | None
    ) -> Any:
        future = self._invoker.call_sync(spec, job.payload, ctx)
        try:
            async with asyncio.timeout(timeout) as scope:
                return await asyncio.shield(future)
        except TimeoutError:
            if timeout is None or not scope.expired():
                raise
            # A thread cannot be interrupted. Keep the attempt (and its lease) until the
            # handler returns, so a retry never runs beside the timed-out call.
            await asyncio.wait([future])
            raise AttemptTimedOut(timeout) from None
        except asyncio.CancelledError:
            future.cancel()
            raise

    def _completed(self, job: Job, result: Any) -> Outcome:
        assert job.lease_token is not None, "a claimed job always carries its lease token"
        try:
            json.dumps(result)
        except (TypeError, ValueError) as exc:
            return self._failure(
                job, TypeError(f"result is not JSON-serialisable: {exc}"), retry=False
            )
        return Completed(job_id=job.id, lease_token=job.lease_token, result=result)

    def _failure(
        self, job: Job, exc: BaseException, *, retry: bool, backoff: Backoff | None = None
    ) -> Failed:
        assert job.lease_token is not None, "a claimed job always carries its lease token"
        retry_at = None
        if retry and job.attempts < job.max_attempts:
            delay = (backoff or self._default_backoff).delay(job.attempts, self._rng)
            retry_at = self._clock() + timedelta(seconds=delay)
        return Failed(
            job_id=job.id,
            lease_token=job.lease_token,
            message=describe(exc),
            traceback=_format_traceback(exc),
            retry_at=retry_at,
        )


def describe(exc: BaseException) -> str:
    """`ValueError: boom`, the one-line form stored as `last_error`."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _format_traceback(exc: BaseException) -> str | None:
    if exc.__traceback__ is None:
        return None
    return "".join(traceback.format_exception(exc)).rstrip()
