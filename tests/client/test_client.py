"""`AsyncClient` against the real API app: every endpoint, typed results, one error per status."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from client_harness import LocalApi, MakeLocalApi

from jobforge.client import (
    NO_RETRY,
    BadRequest,
    BatchResult,
    ClientError,
    Conflict,
    JobInfo,
    JobRequest,
    Metrics,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)
from jobforge.domain.states import JobState


async def test_create_and_get_a_job_as_typed_values(local_api: LocalApi) -> None:
    client = await local_api.tenant_client()
    job = await client.create_job(
        "email.send", {"to": "ada@example.com"}, queue="emails", priority=-1, max_attempts=5
    )
    assert isinstance(job, JobInfo)
    assert isinstance(job.id, uuid.UUID)
    assert job.status is JobState.PENDING
    assert (job.type, job.queue, job.priority, job.max_attempts) == ("email.send", "emails", -1, 5)
    assert job.payload == {"to": "ada@example.com"}
    assert job.tenant == "acme" and not job.replayed and not job.finished

    fetched = await client.get_job(job.id)
    assert fetched.model_dump(exclude={"replayed"}) == job.model_dump(exclude={"replayed"})
    assert (await client.get_job(str(job.id))).id == job.id


async def test_delay_schedules_the_job(local_api: LocalApi) -> None:
    client = await local_api.tenant_client()
    job = await client.create_job("email.send", delay=timedelta(hours=1))
    assert job.status is JobState.SCHEDULED
    assert job.run_at > datetime.now(UTC) + timedelta(minutes=59)
    with pytest.raises(ValueError, match="not both"):
        await client.create_job("email.send", delay=5, run_at=datetime.now(UTC))


async def test_idempotency_key_replays_and_conflicts(local_api: LocalApi) -> None:
    client = await local_api.tenant_client()
    first = await client.create_job("email.send", {"n": 1}, idempotency_key="order-1")
    again = await client.create_job("email.send", {"n": 1}, idempotency_key="order-1")
    assert again.replayed and again.id == first.id and not first.replayed

    with pytest.raises(Conflict) as caught:
        await client.create_job("email.send", {"n": 2}, idempotency_key="order-1")
    assert caught.value.status == 409
    assert caught.value.code == "idempotency_conflict"
    assert "order-1" in caught.value.message


async def test_batch_then_list_with_filters_and_cursor(local_api: LocalApi) -> None:
    client = await local_api.tenant_client()
    batch = await client.create_jobs(
        [JobRequest(type="report.generate", payload={"i": i}) for i in range(5)]
        + [{"type": "email.send", "queue": "emails"}]
    )
    assert isinstance(batch, BatchResult)
    assert (len(batch.jobs), batch.created, batch.replayed) == (6, 6, 0)

    reports = await client.list_jobs(type="report.generate", limit=2)
    assert reports.total == 5 and len(reports.items) == 2 and reports.next_cursor
    assert all(j.type == "report.generate" for j in reports.items)
    emails = await client.list_jobs(queue=["emails"], status=[JobState.PENDING, "scheduled"])
    assert [j.type for j in emails.items] == ["email.send"]

    walked = [job.id async for job in client.iter_jobs(page_size=2, type="report.generate")]
    assert sorted(walked) == sorted(j.id for j in batch.jobs[:5])
    assert len(set(walked)) == 5


async def test_tenants_do_not_see_each_other(local_api: LocalApi) -> None:
    acme = await local_api.tenant_client("acme")
    other = await local_api.tenant_client("globex")
    job = await acme.create_job("email.send")
    with pytest.raises(NotFound) as caught:
        await other.get_job(job.id)
    assert caught.value.code == "job_not_found"
    assert (await other.list_jobs()).total == 0


async def test_cancel_then_retry_and_illegal_moves(local_api: LocalApi) -> None:
    client = await local_api.tenant_client()
    job = await client.create_job("email.send")
    with pytest.raises(Conflict) as caught:
        await client.retry_job(job.id)  # pending cannot be retried
    assert caught.value.code == "illegal_transition"

    cancelled = await client.cancel_job(job.id)
    assert cancelled.status is JobState.CANCELLED and cancelled.finished
    with pytest.raises(Conflict):
        await client.cancel_job(job.id)
    retried = await client.retry_job(job.id)
    assert retried.status is JobState.PENDING


async def test_dead_letter_queue_list_retry_purge(local_api: LocalApi) -> None:
    client = await local_api.tenant_client()
    first = await local_api.dead_job(job_type="image.process")
    second = await local_api.dead_job(job_type="report.generate")
    await local_api.dead_job("globex")  # another tenant's: never touched below

    page = await client.list_dead()
    assert {j.id for j in page.items} == {first, second} and page.total == 2
    assert all(j.status is JobState.DEAD and j.last_error == "boom" for j in page.items)
    assert [j.id for j in (await client.list_dead(type="image.process")).items] == [first]

    assert await client.retry_dead(types=["report.generate"]) == 1
    assert (await client.get_job(second)).status is JobState.PENDING
    assert await client.purge_dead(job_ids=[uuid.uuid4()]) == 0
    assert await client.purge_dead() == 1
    with pytest.raises(NotFound):
        await client.get_job(first)


async def test_queues_pause_and_resume(local_api: LocalApi) -> None:
    client = await local_api.tenant_client()
    await client.create_jobs([{"type": "email.send", "queue": "emails"}] * 3)
    paused = await client.pause_queue("emails")
    assert paused.name == "emails" and paused.paused and paused.length == 3
    [queue] = [q for q in await client.list_queues() if q.name == "emails"]
    assert queue.paused and queue.counts[JobState.PENDING] == 3
    assert not (await client.resume_queue("emails")).paused


async def test_metrics_add_up(local_api: LocalApi) -> None:
    client = await local_api.tenant_client()
    await client.create_jobs([{"type": "email.send"}] * 3)
    await client.create_job("email.send", delay=3600)
    cancelled = await client.create_job("email.send")
    await client.cancel_job(cancelled.id)
    await local_api.dead_job()

    metrics = await client.metrics()
    assert isinstance(metrics, Metrics)
    assert metrics.total_jobs == 6
    assert (metrics.pending_jobs, metrics.queue_length) == (3, 3)
    assert metrics.scheduled_jobs == 1
    assert (metrics.cancelled_jobs, metrics.dead_letter_jobs, metrics.dlq_length) == (1, 1, 1)
    assert metrics.unfinished_jobs == 4
    assert metrics.throughput.failed_last_minute >= 1


async def test_admin_sees_every_tenant(local_api: LocalApi) -> None:
    acme = await local_api.tenant_client("acme")
    admin = await local_api.tenant_client("ops", admin=True)
    await acme.create_job("email.send")
    assert (await admin.metrics()).total_jobs == 1
    assert (await admin.metrics(tenant="ops")).total_jobs == 0
    assert (await admin.list_jobs(tenant="acme")).total == 1


async def test_health_ready_and_workers(local_api: LocalApi) -> None:
    client = await local_api.tenant_client()
    assert (await client.health()).status == "ok"
    assert (await client.ready()).status == "ready"
    assert await client.workers() == []


async def test_missing_or_revoked_key_is_unauthorized(local_api: LocalApi) -> None:
    with pytest.raises(Unauthorized) as caught:
        await local_api.client(None).list_jobs()
    assert caught.value.status == 401
    key = await local_api.key("acme")
    await local_api.store.revoke_api_keys("acme")
    with pytest.raises(Unauthorized):
        await local_api.client(key).metrics()


async def test_invalid_input_is_a_validation_error_with_details(local_api: LocalApi) -> None:
    client = await local_api.tenant_client()
    with pytest.raises(ValidationFailed) as caught:
        await client.create_job("email.send", queue="no spaces allowed")
    assert caught.value.status == 422
    assert any("queue" in d["field"] for d in caught.value.details)
    with pytest.raises(ValidationFailed):
        await client.get_job("not-a-uuid")
    with pytest.raises(BadRequest) as bad:
        await client.list_jobs(cursor="garbage-cursor")
    assert bad.value.code == "invalid_cursor"


async def test_oversized_payload_is_413(make_local_api: MakeLocalApi) -> None:
    api = await make_local_api(max_payload_bytes=100)
    client = await api.tenant_client()
    with pytest.raises(PayloadTooLarge) as caught:
        await client.create_job("email.send", {"blob": "x" * 500})
    assert caught.value.status == 413


async def test_rate_limited_carries_retry_after(make_local_api: MakeLocalApi) -> None:
    api = await make_local_api(rate_limit_tenant_per_second=0.5, rate_limit_tenant_burst=2)
    client = await api.tenant_client()
    await client.create_jobs([{"type": "email.send"}] * 2)
    with pytest.raises(RateLimited) as caught:
        await client.create_job("email.send")
    assert caught.value.status == 429
    assert caught.value.retry_after is not None and caught.value.retry_after >= 1
    assert "Retry-After" in caught.value.headers
    assert isinstance(caught.value, ClientError)


async def test_no_retry_policy_sends_once(local_api: LocalApi) -> None:
    client = local_api.client(None, retry=NO_RETRY)
    with pytest.raises(Unauthorized):
        await client.metrics()
    assert len(local_api.transport.requests) == 1
