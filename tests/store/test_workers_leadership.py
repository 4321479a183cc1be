"""The worker registry and leader leases."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from jobforge.domain.job import NewJob
from jobforge.store import Store
from jobforge.store.params import HeartbeatParams, WorkerInfo
from tests.store.helpers import claim, enqueue


def _worker(worker_id: str, at: object, **fields: object) -> WorkerInfo:
    values: dict[str, object] = {
        "id": worker_id,
        "host": "box",
        "pid": 42,
        "queues": ("default", "emails"),
        "concurrency": 10,
        "started_at": at,
        "last_seen_at": at,
    }
    values.update(fields)
    return WorkerInfo(**values)  # type: ignore[arg-type]


async def test_register_list_and_unregister(store: Store) -> None:
    now = await store.now()
    await store.register_worker(_worker("w1", now))
    await store.register_worker(_worker("w2", now - timedelta(hours=1)))
    await store.register_worker(_worker("w1", now, pid=43, concurrency=5))  # upsert
    await enqueue(store, NewJob(type="t"), NewJob(type="t"))
    await claim(store, worker="w1")

    workers = {w.id: w for w in await store.list_workers()}
    assert set(workers) == {"w1", "w2"}
    assert (workers["w1"].pid, workers["w1"].concurrency, workers["w1"].running) == (43, 5, 2)
    assert workers["w1"].queues == ("default", "emails") and workers["w2"].running == 0
    recent = await store.list_workers(seen_after=now - timedelta(minutes=1))
    assert [w.id for w in recent] == ["w1"]

    await store.unregister_worker("w1")
    assert [w.id for w in await store.list_workers()] == ["w2"]


async def test_heartbeat_refreshes_last_seen(store: Store) -> None:
    old = (await store.now()) - timedelta(hours=1)
    await store.register_worker(_worker("w1", old))
    await store.heartbeat(HeartbeatParams(worker_id="w1", lease_tokens=[], lease_seconds=30))
    [worker] = await store.list_workers()
    assert worker.last_seen_at > old + timedelta(minutes=59)


async def test_leadership_take_renew_refuse_release(store: Store) -> None:
    assert await store.acquire_leadership("maintenance", "a", 30)
    assert await store.acquire_leadership("maintenance", "a", 30)  # renew
    assert not await store.acquire_leadership("maintenance", "b", 30)
    assert await store.acquire_leadership("other", "b", 30)  # names are independent
    await store.release_leadership("maintenance", "b")  # not b's: no effect
    assert not await store.acquire_leadership("maintenance", "b", 30)
    await store.release_leadership("maintenance", "a")
    assert await store.acquire_leadership("maintenance", "b", 30)


async def test_expired_leadership_is_taken_over(store: Store) -> None:
    assert await store.acquire_leadership("m", "a", 0.01)
    await asyncio.sleep(0.05)
    assert await store.acquire_leadership("m", "b", 30)
    assert not await store.acquire_leadership("m", "a", 30)


async def test_one_leader_among_racing_candidates(store: Store) -> None:
    wins = await asyncio.gather(*(store.acquire_leadership("m", f"c{i}", 30) for i in range(10)))
    assert sum(wins) == 1
