"""Listing jobs: filters, tenant scope, ordering, offset and keyset pages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jobforge.domain.job import NewJob
from jobforge.domain.states import JobState
from jobforge.store import Store
from jobforge.store.params import ListJobsParams
from tests.store.helpers import enqueue, enqueue_one, job_in_state


async def test_newest_first_and_tenant_scope(store: Store) -> None:
    first = await enqueue_one(store, tenant="acme", type="a")
    second = await enqueue_one(store, tenant="acme", type="b")
    other = await enqueue_one(store, tenant="other", type="c")
    page = await store.list_jobs(ListJobsParams(tenant="acme"))
    assert [j.id for j in page.items] == [second.id, first.id]
    assert page.total == 2
    admin = await store.list_jobs(ListJobsParams(tenant=None))
    assert [j.id for j in admin.items] == [other.id, second.id, first.id]


async def test_filters(store: Store) -> None:
    dead = await job_in_state(store, JobState.DEAD, tenant="acme", type="email.send")
    await enqueue(
        store,
        NewJob(type="email.send", tenant="acme", queue="emails"),
        NewJob(type="report", tenant="acme", queue="reports"),
    )

    async def types(**filters: object) -> list[str]:
        page = await store.list_jobs(ListJobsParams(tenant="acme", **filters))  # type: ignore[arg-type]
        assert page.total == len(page.items)
        return sorted(j.type for j in page.items)

    assert await types(statuses=[JobState.DEAD]) == ["email.send"]
    assert await types(statuses=[JobState.PENDING, JobState.DEAD]) == [
        "email.send",
        "email.send",
        "report",
    ]
    assert await types(types=["report"]) == ["report"]
    assert await types(queues=["emails", "reports"]) == ["email.send", "report"]
    assert await types(types=["email.send"], statuses=[JobState.DEAD]) == ["email.send"]
    assert dead.status is JobState.DEAD


async def test_q_matches_id_prefix_or_key_prefix(store: Store) -> None:
    keyed = await enqueue_one(store, idempotency_key="order-1234")
    plain = await enqueue_one(store)
    text = str(plain.id)

    async def ids(q: str) -> set[object]:
        return {j.id for j in (await store.list_jobs(ListJobsParams(tenant=None, q=q))).items}

    assert await ids(text[:6]) >= {plain.id}
    assert await ids(text[:13]) == {plain.id}  # crosses the first dash
    assert await ids(text.upper()) == {plain.id}
    assert await ids("order-12") == {keyed.id}
    assert await ids("order-9") == set()
    assert await ids("%") == set()  # wildcards are literal


async def test_created_window(store: Store) -> None:
    job = await enqueue_one(store)
    before = job.created_at - timedelta(seconds=1)
    after = job.created_at + timedelta(seconds=1)
    assert (await store.list_jobs(ListJobsParams(tenant=None, created_after=before))).total == 1
    assert (await store.list_jobs(ListJobsParams(tenant=None, created_after=after))).total == 0
    assert (await store.list_jobs(ListJobsParams(tenant=None, created_before=after))).total == 1
    assert (await store.list_jobs(ListJobsParams(tenant=None, created_before=before))).total == 0


async def test_offset_and_limit(store: Store) -> None:
    jobs = []
    for i in range(5):
        jobs += await enqueue(store, NewJob(type=f"t{i}"))
    newest_first = [j.id for j in reversed(jobs)]
    page = await store.list_jobs(ListJobsParams(tenant=None, limit=2, offset=2))
    assert [j.id for j in page.items] == newest_first[2:4]
    assert (page.total, page.limit, page.offset) == (5, 2, 2)
    no_total = await store.list_jobs(ListJobsParams(tenant=None, with_total=False))
    assert no_total.total is None and len(no_total.items) == 5
    clamped = await store.list_jobs(ListJobsParams(tenant=None, limit=10_000))
    assert clamped.limit == 500


async def test_cursor_walks_every_job_once(store: Store) -> None:
    # One batch shares created_at, so the order within it rests on the id tie-break.
    await enqueue(store, *(NewJob(type="t", payload={"i": i}) for i in range(23)))
    await enqueue(store, *(NewJob(type="t", payload={"i": i}) for i in range(23, 30)))
    seen: list[object] = []
    cursor = None
    while True:
        page = await store.list_jobs(ListJobsParams(tenant=None, limit=4, cursor=cursor))
        seen += [j.id for j in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == 30 == len(set(seen))
    everything = await store.list_jobs(ListJobsParams(tenant=None, limit=100))
    assert seen == [j.id for j in everything.items]


async def test_bad_cursor(store: Store) -> None:
    with pytest.raises(ValueError, match="cursor"):
        await store.list_jobs(ListJobsParams(tenant=None, cursor="not-a-cursor"))
