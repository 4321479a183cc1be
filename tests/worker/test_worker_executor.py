"""JobExecutor: one attempt in, one Outcome out; no store involved."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from worker_jobs import T0, claimed_job

from jobforge.app import JobForge
from jobforge.domain.backoff import Backoff
from jobforge.domain.errors import DoNotRetry
from jobforge.domain.outcomes import Completed, Failed
from jobforge.worker.executor import JobExecutor
from jobforge.worker.registry import HandlerInvoker, TaskContext


def make_executor(forge: JobForge, backoff: Backoff | None = None) -> JobExecutor:
    return JobExecutor(
        forge.registry,
        HandlerInvoker(threads=4),
        default_backoff=backoff or Backoff(base=1.0, cap=60.0, jitter=False),
        clock=lambda: T0,
    )


async def test_async_handler_result_is_a_completion_with_the_lease_token() -> None:
    forge = JobForge()
    seen: list[TaskContext] = []

    @forge.task("test.job")
    async def handler(payload: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
        seen.append(ctx)
        return {"doubled": payload["n"] * 2}

    job = claimed_job(payload={"n": 21}, attempts=2)
    outcome = await make_executor(forge).run(job)
    assert outcome == Completed(job_id=job.id, lease_token=job.lease_token, result={"doubled": 42})
    assert seen[0].job_id == job.id and seen[0].attempt == 2 and seen[0].max_attempts == 3
    seen[0].logger.info("handlers can log")


async def test_sync_handler_runs_in_a_thread_not_on_the_loop() -> None:
    forge = JobForge()
    loop_thread = threading.get_ident()

    @forge.task("test.job")
    def handler(payload: dict[str, Any], ctx: TaskContext) -> int:
        return threading.get_ident()

    outcome = await make_executor(forge).run(claimed_job())
    assert isinstance(outcome, Completed)
    assert outcome.result != loop_thread


async def test_failure_with_attempts_left_is_retried_after_the_backoff() -> None:
    forge = JobForge()

    @forge.task("test.job")
    async def handler(payload: dict[str, Any], ctx: TaskContext) -> None:
        raise ValueError("boom")

    outcome = await make_executor(forge).run(claimed_job(attempts=2, max_attempts=3))
    assert isinstance(outcome, Failed)
    assert outcome.message == "ValueError: boom"
    assert outcome.traceback is not None and 'raise ValueError("boom")' in outcome.traceback
    assert outcome.retry_at == T0 + timedelta(seconds=2.0)  # base 1 * 2^(2-1), no jitter


async def test_last_attempt_failure_is_dead() -> None:
    forge = JobForge()

    @forge.task("test.job")
    async def handler(payload: dict[str, Any], ctx: TaskContext) -> None:
        raise RuntimeError("still broken")

    outcome = await make_executor(forge).run(claimed_job(attempts=3, max_attempts=3))
    assert isinstance(outcome, Failed) and outcome.retry_at is None


async def test_do_not_retry_goes_straight_to_dead() -> None:
    forge = JobForge()

    @forge.task("test.job")
    def handler(payload: dict[str, Any], ctx: TaskContext) -> None:
        raise DoNotRetry("bad input")

    outcome = await make_executor(forge).run(claimed_job(attempts=1, max_attempts=5))
    assert isinstance(outcome, Failed)
    assert outcome.retry_at is None and outcome.message == "DoNotRetry: bad input"


async def test_retry_false_sends_every_failure_to_dead() -> None:
    forge = JobForge()

    @forge.task("test.job", retry=False)
    async def handler(payload: dict[str, Any], ctx: TaskContext) -> None:
        raise ValueError("once is enough")

    outcome = await make_executor(forge).run(claimed_job(attempts=1, max_attempts=5))
    assert isinstance(outcome, Failed) and outcome.retry_at is None


async def test_missing_handler_is_dead_with_a_clear_error() -> None:
    outcome = await make_executor(JobForge()).run(claimed_job(type="image.process"))
    assert isinstance(outcome, Failed) and outcome.retry_at is None
    assert "no handler registered for job type 'image.process'" in outcome.message


async def test_async_timeout_ends_the_attempt_as_a_failure() -> None:
    forge = JobForge()
    cancelled = asyncio.Event()

    @forge.task("test.job", timeout=0.05)
    async def handler(payload: dict[str, Any], ctx: TaskContext) -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    outcome = await make_executor(forge).run(claimed_job())
    assert isinstance(outcome, Failed) and "timed out after 0.05 s" in outcome.message
    assert outcome.retry_at is not None
    assert cancelled.is_set()


async def test_job_timeout_overrides_handler_timeout() -> None:
    forge = JobForge()

    @forge.task("test.job", timeout=10)
    async def handler(payload: dict[str, Any], ctx: TaskContext) -> None:
        await asyncio.sleep(10)

    outcome = await make_executor(forge).run(claimed_job(timeout_seconds=0.05))
    assert isinstance(outcome, Failed) and "timed out" in outcome.message


async def test_sync_timeout_keeps_the_attempt_until_the_thread_returns() -> None:
    forge = JobForge()
    returned = threading.Event()

    @forge.task("test.job", timeout=0.05)
    def handler(payload: dict[str, Any], ctx: TaskContext) -> None:
        time.sleep(0.3)
        returned.set()

    outcome = await make_executor(forge).run(claimed_job())
    assert isinstance(outcome, Failed) and "timed out" in outcome.message
    # The outcome (and with it the end of the lease) waits for the thread, so a retry can
    # never run beside the call that timed out.
    assert returned.is_set()


async def test_handler_raising_timeout_error_itself_is_an_ordinary_failure() -> None:
    forge = JobForge()

    @forge.task("test.job", timeout=10)
    async def handler(payload: dict[str, Any], ctx: TaskContext) -> None:
        raise TimeoutError("upstream slow")

    outcome = await make_executor(forge).run(claimed_job())
    assert isinstance(outcome, Failed) and outcome.message == "TimeoutError: upstream slow"


async def test_result_that_cannot_be_stored_is_dead() -> None:
    forge = JobForge()

    @forge.task("test.job")
    async def handler(payload: dict[str, Any], ctx: TaskContext) -> object:
        return object()

    outcome = await make_executor(forge).run(claimed_job(max_attempts=5))
    assert isinstance(outcome, Failed) and outcome.retry_at is None
    assert "not JSON-serialisable" in outcome.message


async def test_per_type_backoff_overrides_the_default() -> None:
    forge = JobForge()

    @forge.task("test.job", backoff_base=10, backoff_max=15, backoff_jitter=False)
    async def handler(payload: dict[str, Any], ctx: TaskContext) -> None:
        raise ValueError("x")

    executor = make_executor(forge)
    first = await executor.run(claimed_job(attempts=1, max_attempts=9))
    third = await executor.run(claimed_job(attempts=3, max_attempts=9))
    assert isinstance(first, Failed) and first.retry_at == T0 + timedelta(seconds=10)
    assert isinstance(third, Failed) and third.retry_at == T0 + timedelta(seconds=15)


async def test_jittered_delays_stay_under_the_exponential_ceiling() -> None:
    forge = JobForge()

    @forge.task("test.job", backoff_base=1, backoff_max=100)
    async def handler(payload: dict[str, Any], ctx: TaskContext) -> None:
        raise ValueError("x")

    executor = make_executor(forge)
    for attempt in (1, 2, 3, 4):
        outcome = await executor.run(claimed_job(attempts=attempt, max_attempts=9))
        assert isinstance(outcome, Failed) and outcome.retry_at is not None
        delay = (outcome.retry_at - T0).total_seconds()
        assert 0 < delay <= 2 ** (attempt - 1)


async def test_cancellation_propagates_to_the_caller() -> None:
    forge = JobForge()
    started = asyncio.Event()

    @forge.task("test.job")
    async def handler(payload: dict[str, Any], ctx: TaskContext) -> None:
        started.set()
        await asyncio.sleep(10)

    task = asyncio.create_task(make_executor(forge).run(claimed_job()))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
