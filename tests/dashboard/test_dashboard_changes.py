"""SQLite across processes: changes made through another connection to the same file reach
the hub (and the WebSocket) by polling, once each."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from websockets.sync.client import connect

from jobforge.control import JobControl
from jobforge.dashboard.changes import StoreChangePoller
from jobforge.domain.job import NewJob
from jobforge.domain.outcomes import Completed
from jobforge.domain.states import JobState
from jobforge.events.hub import LiveHub
from jobforge.events.memory import InProcessEventBus
from jobforge.events.types import EventName
from jobforge.store import open_store
from jobforge.store.params import ClaimParams
from tests.dashboard.live_server import LiveServer


async def test_poller_reports_changes_made_elsewhere_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    here, elsewhere = open_store(url), open_store(url)  # two "processes" on one file
    await here.migrate()
    hub = LiveHub(InProcessEventBus())
    poller = StoreChangePoller(here, hub)
    try:
        old = (await elsewhere.enqueue_jobs([NewJob(type="t", tenant="acme")]))[0].job
        assert await poller.run_once() == []  # the first poll only learns what exists
        new = (await elsewhere.enqueue_jobs([NewJob(type="t", tenant="acme")]))[0].job
        await elsewhere.claim_jobs(
            ClaimParams(worker_id="w", queues=["default"], limit=1, lease_seconds=30)
        )  # claims the older job first: same priority, earlier run_at
        events = await poller.run_once()
        assert {(e.job_id, e.event, e.status) for e in events} == {
            (new.id, EventName.SUBMITTED, JobState.PENDING),
            (old.id, EventName.STARTED, JobState.RUNNING),
        }
        assert await poller.run_once() == []  # nothing changed since
        assert hub.ingest(events) == 0  # the hub already has them: no double counting
    finally:
        await here.close()
        await elsewhere.close()


async def test_poller_sees_changes_to_old_jobs_and_reads_a_backlog_in_pages(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    here, elsewhere = open_store(url), open_store(url)
    await here.migrate()
    hub = LiveHub(InProcessEventBus())
    poller = StoreChangePoller(here, hub, batch=50)
    try:
        oldest = (await elsewhere.enqueue_jobs([NewJob(type="t", tenant="a", queue="old")]))[0]
        await elsewhere.enqueue_jobs([NewJob(type="t", tenant="a") for _ in range(300)])
        await poller.run_once()  # starts following from here
        await elsewhere.enqueue_jobs([NewJob(type="t", tenant="a") for _ in range(120)])
        [claimed] = await elsewhere.claim_jobs(
            ClaimParams(worker_id="w", queues=["old"], limit=1, lease_seconds=30)
        )
        assert claimed.lease_token is not None
        await elsewhere.finish_attempts(
            [Completed(job_id=claimed.id, lease_token=claimed.lease_token)]
        )
        events = await poller.run_once()
        assert len(events) == 121  # 120 new ones, in pages of 50, and the oldest job
        done = [e for e in events if e.job_id == oldest.job.id]
        assert [(e.event, e.status) for e in done] == [(EventName.COMPLETED, JobState.COMPLETED)]
        assert sum(c for _, c, _ in hub.throughput_series("a")) == 1
        assert await poller.run_once() == []
    finally:
        await here.close()
        await elsewhere.close()


def test_poller_validates_its_configuration(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(ValueError, match=r"batch must be 1\.\.10000, got 0"):
        StoreChangePoller(store, LiveHub(InProcessEventBus()), batch=0)


def test_a_worker_process_on_the_same_sqlite_file_reaches_the_websocket(tmp_path: Path) -> None:
    with LiveServer(tmp_path) as server:
        key = server.key("acme")
        url = server.url.replace("http://", "ws://") + f"/api/v1/events?token={key}"
        with connect(url) as ws:
            assert json.loads(ws.recv(timeout=5))["type"] == "hello"

            async def other_process() -> uuid.UUID:
                # Its own store and bus on the same file: nothing it publishes reaches the
                # server's in-process bus.
                store = open_store(server.store.url)
                bus = InProcessEventBus()
                try:
                    result = await JobControl(store, bus).submit(NewJob(type="t", tenant="acme"))
                    return result.job.id
                finally:
                    await store.close()

            job_id = asyncio.run(other_process())
            while True:
                message = json.loads(ws.recv(timeout=5))
                if message["type"] == "events":
                    break
            assert [j["job_id"] for j in message["jobs"]] == [str(job_id)]
            assert message["jobs"][0]["status"] == "pending"
