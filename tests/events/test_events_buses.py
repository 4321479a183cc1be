"""Every cross-process bus on its real server: what one bus publishes, another receives.

Two bus instances stand for two processes (each holds its own connections). Channels are
unique per test, so runs sharing the Redis and PostgreSQL servers never see each other.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest

from jobforge.domain.states import JobState
from jobforge.events import EventBus, JobEvent, open_event_bus
from jobforge.events.memory import InProcessEventBus
from jobforge.events.postgres import PostgresEventBus
from jobforge.events.redis import RedisEventBus
from jobforge.events.types import EventName
from jobforge.events.wire import decode_chunk, encode_chunks
from tests.servers import PG_ADMIN_URL, REDIS_URL, require

BusFactory = Callable[[], EventBus]


def make_event(n: int = 0, *, tenant: str = "acme", note: str = "") -> JobEvent:
    return JobEvent(
        event=EventName.COMPLETED,
        job_id=uuid.uuid4(),
        tenant=tenant,
        type="email.send" + note,
        queue="default",
        status=JobState.COMPLETED,
        attempt=n,
        at=datetime.now(UTC),
    )


@pytest.fixture(params=["redis", "postgres"])
def bus_spec(request: pytest.FixtureRequest) -> tuple[str, str, str]:
    """(kind, url, channel) of a cross-process bus on a channel private to the test."""
    channel = f"jf_test_{uuid.uuid4().hex[:12]}"
    if request.param == "redis":
        require(REDIS_URL, 6379, "Redis")
        return "redis", REDIS_URL, channel
    require(PG_ADMIN_URL, 5432, "PostgreSQL")
    return "postgres", PG_ADMIN_URL, channel


@pytest.fixture
def bus_factory(bus_spec: tuple[str, str, str]) -> BusFactory:
    kind, url, channel = bus_spec
    if kind == "redis":
        return lambda: RedisEventBus(url, channel=channel)
    return lambda: PostgresEventBus(url, channel=channel)


@pytest.fixture
async def two_buses(bus_factory: BusFactory) -> AsyncIterator[tuple[EventBus, EventBus]]:
    publisher, receiver = bus_factory(), bus_factory()
    await publisher.start()
    await receiver.start()
    try:
        yield publisher, receiver
    finally:
        await publisher.close()
        await receiver.close()


async def collect(bus: EventBus, count: int, started: asyncio.Event) -> list[JobEvent]:
    received: list[JobEvent] = []
    async with bus.subscribe() as events:
        started.set()
        async for event in events:
            received.append(event)
            if len(received) == count:
                break
    return received


async def test_events_published_on_one_bus_reach_another(
    two_buses: tuple[EventBus, EventBus],
) -> None:
    publisher, receiver = two_buses
    sent = [make_event(i) for i in range(5)]
    started = asyncio.Event()
    task = asyncio.create_task(collect(receiver, 5, started))
    await started.wait()
    await publisher.publish(sent)
    received = await asyncio.wait_for(task, 10)
    assert received == sent


PUBLISHER = """
import asyncio, sys, uuid
from datetime import UTC, datetime
from jobforge.domain.states import JobState
from jobforge.events.postgres import PostgresEventBus
from jobforge.events.redis import RedisEventBus
from jobforge.events.types import EventName, JobEvent

async def main(kind, url, channel, ids):
    bus = (RedisEventBus if kind == "redis" else PostgresEventBus)(url, channel=channel)
    await bus.start()
    try:
        await bus.publish([
            JobEvent(event=EventName.COMPLETED, job_id=uuid.UUID(i), tenant="acme", type="t",
                     queue="q", status=JobState.COMPLETED, attempt=1, at=datetime.now(UTC))
            for i in ids
        ])
    finally:
        await bus.close()

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
"""


async def test_events_published_by_another_process_arrive(
    bus_spec: tuple[str, str, str], bus_factory: BusFactory
) -> None:
    receiver = bus_factory()
    await receiver.start()
    try:
        ids = [str(uuid.uuid4()) for _ in range(3)]
        started = asyncio.Event()
        task = asyncio.create_task(collect(receiver, 3, started))
        await started.wait()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", PUBLISHER, *bus_spec, *ids
        )
        assert await asyncio.wait_for(process.wait(), 60) == 0
        received = await asyncio.wait_for(task, 10)
        assert [str(e.job_id) for e in received] == ids
        assert {e.status for e in received} == {JobState.COMPLETED}
    finally:
        await receiver.close()


async def test_a_large_batch_is_split_and_arrives_whole(
    two_buses: tuple[EventBus, EventBus],
) -> None:
    # 2,000 events are far beyond one NOTIFY payload (8000 bytes): they must be chunked.
    publisher, receiver = two_buses
    sent = [make_event(i, note="x" * 40) for i in range(2000)]
    started = asyncio.Event()
    task = asyncio.create_task(collect(receiver, len(sent), started))
    await started.wait()
    await publisher.publish(sent)
    received = await asyncio.wait_for(task, 20)
    assert [e.job_id for e in received] == [e.job_id for e in sent]


async def test_every_local_subscriber_gets_each_event_once(
    two_buses: tuple[EventBus, EventBus],
) -> None:
    publisher, receiver = two_buses
    started_a, started_b = asyncio.Event(), asyncio.Event()
    a = asyncio.create_task(collect(receiver, 2, started_a))
    b = asyncio.create_task(collect(publisher, 2, started_b))  # the publisher listens too
    await started_a.wait()
    await started_b.wait()
    sent = [make_event(1), make_event(2)]
    await publisher.publish(sent)
    assert await asyncio.wait_for(a, 10) == sent
    assert await asyncio.wait_for(b, 10) == sent


async def test_close_ends_subscriptions(bus_factory: BusFactory) -> None:
    bus = bus_factory()
    await bus.start()
    started = asyncio.Event()
    task = asyncio.create_task(collect(bus, 1, started))
    await started.wait()
    await bus.close()
    assert await asyncio.wait_for(task, 5) == []


def test_chunks_stay_under_the_notify_limit() -> None:
    events = [make_event(i, note="é" * 100) for i in range(300)]
    chunks = list(encode_chunks(events, max_bytes=7900))
    assert len(chunks) > 1
    assert all(len(c.encode("utf-8")) < 7900 for c in chunks)
    decoded = [e for c in chunks for e in decode_chunk(c)]
    assert decoded == events


def test_an_event_too_large_for_any_chunk_is_skipped_not_raised() -> None:
    small, huge = make_event(1), make_event(2, note="y" * 9000)
    chunks = list(encode_chunks([small, huge], max_bytes=7900))
    assert [e for c in chunks for e in decode_chunk(c)] == [small]


def test_malformed_payloads_are_ignored() -> None:
    good = make_event(3)
    payload = "[" + ",".join(['{"event":"nope"}', next(encode_chunks([good], max_bytes=9000))[1:]])
    assert decode_chunk(payload) == [good]
    assert decode_chunk("not json") == []
    assert decode_chunk('{"a": 1}') == []


class _Settings:
    def __init__(self, redis_url: str | None, database_url: str) -> None:
        self.redis_url = redis_url
        self.database_url = database_url


def test_open_event_bus_picks_by_configuration() -> None:
    pg = "postgresql://postgres@127.0.0.1/postgres"
    assert isinstance(open_event_bus(_Settings("redis://x", pg), "postgresql"), RedisEventBus)
    assert isinstance(open_event_bus(_Settings(None, pg), "postgresql"), PostgresEventBus)
    sqlite = _Settings(None, "sqlite:///./x.db")
    assert isinstance(open_event_bus(sqlite, "sqlite"), InProcessEventBus)
    with pytest.raises(ValueError, match="store_dialect"):
        open_event_bus(sqlite, "oracle")


async def test_postgres_listener_reconnects_after_its_connection_is_killed() -> None:
    require(PG_ADMIN_URL, 5432, "PostgreSQL")
    import asyncpg

    channel = f"jf_test_{uuid.uuid4().hex[:12]}"
    publisher = PostgresEventBus(PG_ADMIN_URL, channel=channel)
    receiver = PostgresEventBus(PG_ADMIN_URL, channel=channel)
    await publisher.start()
    await receiver.start()
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        pid = receiver._listen_conn.get_server_pid()
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
        started = asyncio.Event()
        task = asyncio.create_task(collect(receiver, 1, started))
        await started.wait()
        event = make_event(7)
        for _ in range(100):  # publish until the re-established LISTEN hears it
            await publisher.publish([event])
            done, _ = await asyncio.wait({task}, timeout=0.1)
            if done:
                break
        assert (await asyncio.wait_for(task, 1))[0] == event
        assert receiver._listen_conn.get_server_pid() != pid
    finally:
        await admin.close()
        await publisher.close()
        await receiver.close()
