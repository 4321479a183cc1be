"""Coalescing bursts, scoping by tenant, dropping slow clients, and the throughput ring."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jobforge.domain.states import JobState
from jobforge.events import JobEvent
from jobforge.events.coalesce import EventCoalescer, ThroughputRing
from jobforge.events.hub import LiveFeed, LiveHub
from jobforge.events.memory import InProcessEventBus
from jobforge.events.types import EventName

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def ev(
    job_id: uuid.UUID | None = None,
    *,
    tenant: str = "acme",
    name: EventName = EventName.COMPLETED,
    at: datetime = T0,
) -> JobEvent:
    status = {
        EventName.COMPLETED: JobState.COMPLETED,
        EventName.STARTED: JobState.RUNNING,
        EventName.FAILED: JobState.FAILED,
        EventName.DLQ: JobState.DEAD,
        EventName.SUBMITTED: JobState.PENDING,
    }[name]
    return JobEvent(
        event=name,
        job_id=job_id or uuid.uuid4(),
        tenant=tenant,
        type="t",
        queue="q",
        status=status,
        attempt=1,
        at=at,
    )


def test_a_job_appears_once_with_its_latest_state() -> None:
    coalescer = EventCoalescer()
    job = uuid.uuid4()
    coalescer.add([ev(job, name=EventName.SUBMITTED), ev(job, name=EventName.STARTED)])
    coalescer.add([ev(job, name=EventName.COMPLETED)])
    message = json.loads(coalescer.drain().message_for("acme") or "")
    assert [(j["job_id"], j["status"]) for j in message["jobs"]] == [(str(job), "completed")]
    assert message["counts"] == {"job_submitted": 1, "job_started": 1, "job_completed": 1}
    assert message["total"] == 3
    assert not coalescer.drain()  # a new interval starts empty


def test_a_burst_keeps_only_the_most_recent_jobs_and_counts_all() -> None:
    coalescer = EventCoalescer(max_jobs=50)
    events = [ev(at=T0 + timedelta(milliseconds=i)) for i in range(5000)]
    coalescer.add(events)
    message = json.loads(coalescer.drain().message_for(None) or "")
    assert message["total"] == 5000
    assert len(message["jobs"]) == 50
    assert message["truncated"] == 4950
    assert [j["job_id"] for j in message["jobs"]] == [str(e.job_id) for e in events[-50:]]


def test_tenants_see_only_their_own_jobs_and_admins_see_all() -> None:
    coalescer = EventCoalescer()
    a, b = ev(tenant="a"), ev(tenant="b")
    coalescer.add([a, b])
    batch = coalescer.drain()
    only_a = json.loads(batch.message_for("a") or "")
    assert [j["job_id"] for j in only_a["jobs"]] == [str(a.job_id)]
    assert batch.message_for("c") is None
    both = json.loads(batch.message_for(None) or "")
    assert {j["job_id"] for j in both["jobs"]} == {str(a.job_id), str(b.job_id)}


def test_max_jobs_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_jobs must be at least 1, got 0"):
        EventCoalescer(max_jobs=0)


def test_throughput_counts_per_second_within_the_window() -> None:
    ring = ThroughputRing(window=10)
    second = int(T0.timestamp())
    ring.add([ev(at=T0), ev(at=T0), ev(at=T0, name=EventName.FAILED)])
    ring.add([ev(at=T0 + timedelta(seconds=3), name=EventName.DLQ, tenant="b")])
    ring.add([ev(at=T0, name=EventName.STARTED)])  # not a finished attempt
    series = ring.series("acme", second + 3)
    assert len(series) == 10
    assert series[-4] == (second, 2, 1)
    assert sum(c + f for _, c, f in series) == 3
    assert ring.series(None, second + 3)[-1] == (second + 3, 0, 1)
    ring.add([ev(at=T0 + timedelta(seconds=20))])  # the window moves past T0
    assert all(c == 0 for s, c, _ in ring.series("acme", second + 20) if s <= second)


def test_throughput_seeded_from_history_counts_each_second_once() -> None:
    ring = ThroughputRing(window=10)
    second = int(T0.timestamp())
    ring.add([ev(at=T0)])  # heard live before the history was read...
    ring.seed([("acme", second, 3, 1), ("b", second - 1, 0, 2)], upto=second)
    series = ring.series("acme", second + 1)
    assert series[-2] == (second, 3, 1)  # ...and included in it: counted once
    assert ring.series("b", second + 1)[-3] == (second - 1, 0, 2)
    ring.add([ev(at=T0)])  # a late event of a seeded second is in the history already
    ring.add([ev(at=T0 + timedelta(seconds=1))])  # a new second counts live
    assert ring.series("acme", second + 1)[-2:] == [(second, 3, 1), (second + 1, 1, 0)]
    # A new seed replaces the history it covers; what is older than the window is dropped.
    ring.seed([("acme", second - 30, 5, 5), ("acme", second - 2, 0, 4)], upto=second)
    assert [s for s in ring.series(None, second + 1) if s[1] or s[2]] == [
        (second - 2, 0, 4),
        (second + 1, 1, 0),
    ]


async def read_all(feed: LiveFeed, until_total: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    total = 0
    while total < until_total:
        text = await feed.next()
        assert text is not None, "feed was dropped"
        messages.append(json.loads(text))
        total += messages[-1]["total"]
    return messages


async def test_5000_events_per_second_become_a_few_messages() -> None:
    bus = InProcessEventBus()
    hub = LiveHub(bus, interval=0.2, client_buffer=64)
    await hub.start()
    feed = hub.connect(None)
    try:
        reader = asyncio.create_task(read_all(feed, 5000))
        for _ in range(10):  # 5,000 events over about one second, in bursts of 500
            await bus.publish([ev() for _ in range(500)])
            await asyncio.sleep(0.1)
        messages = await asyncio.wait_for(reader, 5)
    finally:
        await hub.close()
    assert sum(m["total"] for m in messages) == 5000
    assert len(messages) <= 10  # at most ~1 per 0.2 s interval, not 5,000
    assert all(len(m["jobs"]) <= 200 for m in messages)


async def test_a_slow_client_is_dropped_and_the_others_keep_receiving() -> None:
    bus = InProcessEventBus()
    hub = LiveHub(bus, interval=0.05, client_buffer=3)
    await hub.start()
    slow, fast = hub.connect("acme"), hub.connect("acme")
    try:
        received = 0
        for _ in range(8):
            await bus.publish([ev()])
            text = await asyncio.wait_for(fast.next(), 2)
            assert text is not None
            received += json.loads(text)["total"]
        assert received == 8
        assert slow.dropped
        assert await slow.next() is None  # its sender learns it was dropped
    finally:
        await hub.close()


async def test_hub_feeds_other_tenants_nothing() -> None:
    bus = InProcessEventBus()
    hub = LiveHub(bus, interval=0.05)
    await hub.start()
    other, mine = hub.connect("other"), hub.connect("acme")
    try:
        await bus.publish([ev(tenant="acme")])
        assert await asyncio.wait_for(mine.next(), 2) is not None
        await asyncio.sleep(0.2)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(other.next(), 0.1)
    finally:
        await hub.close()
    assert await other.next() is None  # closing the hub ends every feed


def test_hub_validates_its_configuration() -> None:
    with pytest.raises(ValueError, match="interval must be positive, got 0"):
        LiveHub(InProcessEventBus(), interval=0)


def test_recent_history_is_bounded_per_job_and_in_jobs() -> None:
    from jobforge.events.history import RecentHistory

    history = RecentHistory(max_jobs=2, per_job=3)
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    history.add([ev(a, name=EventName.SUBMITTED), ev(b), ev(a, name=EventName.STARTED)])
    history.add([ev(a, name=EventName.FAILED), ev(a, name=EventName.DLQ)])
    assert [e.event for e in history.of(a)] == [
        EventName.STARTED,
        EventName.FAILED,
        EventName.DLQ,
    ]
    history.add([ev(c)])  # b changed least recently: forgotten
    assert history.of(b) == []
    assert len(history.of(c)) == 1


def test_hub_counts_a_change_once_and_keeps_who_acted() -> None:
    hub = LiveHub(InProcessEventBus())
    job = uuid.uuid4()
    polled = ev(job, name=EventName.COMPLETED)  # a store poll: no actor
    published = JobEvent(**{**polled.__dict__, "actor": "dashboard:k1"})
    assert hub.ingest([polled]) == 1
    assert hub.ingest([published]) == 0
    assert [e.actor for e in hub.history.of(job)] == ["dashboard:k1"]
    assert sum(c for _, c, _ in hub.throughput.series("acme", int(T0.timestamp()))) == 1


def test_hub_drops_a_stale_poll_that_arrives_after_a_newer_event() -> None:
    hub = LiveHub(InProcessEventBus())
    job = uuid.uuid4()
    started = ev(job, name=EventName.STARTED, at=T0)
    completed = ev(job, name=EventName.COMPLETED, at=T0 + timedelta(seconds=1))
    assert hub.ingest([started, completed]) == 2  # from the bus, in order
    assert hub.ingest([started]) == 0  # a poll read `running` before the completion...
    assert hub.ingest([completed]) == 0  # ...so its next poll's `completed` is no news
    second = int(completed.at.timestamp())
    assert sum(c for _, c, _ in hub.throughput.series("acme", second)) == 1
    retried = ev(job, name=EventName.SUBMITTED, at=T0 + timedelta(seconds=5))
    assert hub.ingest([retried]) == 1  # a newer change of the same job still counts
