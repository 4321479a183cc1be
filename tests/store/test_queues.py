"""Queue pauses (per tenant and for everyone) and per-queue counts."""

from __future__ import annotations

from jobforge.domain.job import NewJob
from jobforge.domain.states import JobState
from jobforge.store import Store
from tests.store.helpers import claim, enqueue


async def test_tenant_pause_holds_back_only_that_tenant(store: Store) -> None:
    await enqueue(
        store, NewJob(type="t", tenant="a", queue="q"), NewJob(type="t", tenant="b", queue="q")
    )
    await store.pause_queue("q", tenant="a")
    await store.pause_queue("q", tenant="a")  # twice is harmless
    assert [j.tenant for j in await claim(store, queues=("q",))] == ["b"]
    await store.resume_queue("q", tenant="a")
    assert [j.tenant for j in await claim(store, queues=("q",))] == ["a"]


async def test_admin_pause_holds_back_everyone(store: Store) -> None:
    await enqueue(store, NewJob(type="t", tenant="a", queue="q"), NewJob(type="t", queue="other"))
    await store.pause_queue("q", tenant=None)
    assert [j.queue for j in await claim(store, queues=("q", "other"))] == ["other"]
    await store.resume_queue("q", tenant="a")  # a tenant cannot lift an admin pause
    assert await claim(store, queues=("q",)) == []
    await store.resume_queue("q", tenant=None)
    assert len(await claim(store, queues=("q",))) == 1


async def test_list_queues_counts_and_pause_state(store: Store) -> None:
    await enqueue(
        store,
        NewJob(type="t", tenant="a", queue="emails"),
        NewJob(type="t", tenant="a", queue="emails"),
        NewJob(type="t", tenant="a", queue="reports"),
        NewJob(type="t", tenant="b", queue="images"),
    )
    await claim(store, queues=("reports",))
    await store.pause_queue("emails", tenant="a")
    await store.pause_queue("idle", tenant=None)

    queues = {q.name: q for q in await store.list_queues(tenant="a")}
    assert set(queues) == {"emails", "reports", "idle"}
    assert queues["emails"].counts == {JobState.PENDING: 2} and queues["emails"].paused
    assert queues["emails"].length == 2
    assert queues["reports"].counts == {JobState.RUNNING: 1} and not queues["reports"].paused
    assert queues["idle"].paused and queues["idle"].counts == {}

    admin = {q.name: q for q in await store.list_queues(tenant=None)}
    assert set(admin) == {"emails", "reports", "images", "idle"}
    assert not admin["emails"].paused  # paused for tenant a only
    assert admin["idle"].paused
