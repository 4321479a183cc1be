"""Concurrency: every job claimed exactly once, and one job per idempotency key.

On PostgreSQL the claimers are separate store objects (separate connections and pools);
on SQLite they are separate processes sharing one file, which is how `jobforge worker
--processes N` uses it.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter

from jobforge.domain.job import NewJob
from jobforge.domain.outcomes import Completed
from jobforge.domain.states import JobState
from jobforge.store import Store, open_store
from jobforge.store.params import ClaimParams, ListJobsParams

JOBS = 5_000
CLAIMERS = 8

CLAIMER = """
import asyncio, json, sys
from jobforge.store import open_store
from jobforge.store.params import ClaimParams
from jobforge.domain.outcomes import Completed

async def main(url, name):
    store = open_store(url)
    claimed = []
    try:
        while True:
            jobs = await store.claim_jobs(
                ClaimParams(worker_id=name, queues=["default"], limit=50, lease_seconds=60)
            )
            if not jobs:
                break
            claimed += [str(j.id) for j in jobs]
            await store.finish_attempts(
                [Completed(job_id=j.id, lease_token=j.lease_token) for j in jobs]
            )
    finally:
        await store.close()
    print(json.dumps(claimed))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def _claim_all_in_process(url: str, name: str) -> list[str]:
    store = open_store(url)
    claimed: list[str] = []
    try:
        while jobs := await store.claim_jobs(
            ClaimParams(worker_id=name, queues=["default"], limit=50, lease_seconds=60)
        ):
            claimed += [str(j.id) for j in jobs]
            await store.finish_attempts(
                [Completed(job_id=j.id, lease_token=j.lease_token) for j in jobs]  # type: ignore[arg-type]
            )
    finally:
        await store.close()
    return claimed


async def _claim_all_in_subprocess(url: str, name: str) -> list[str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CLAIMER,
        url,
        name,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    claimed: list[str] = json.loads(out)
    return claimed


async def test_concurrent_claimers_take_every_job_exactly_once(
    store: Store, store_url: str
) -> None:
    for start in range(0, JOBS, 1000):
        await store.enqueue_jobs(
            [NewJob(type="t", payload={"i": i}) for i in range(start, start + 1000)]
        )
    claim_all = _claim_all_in_subprocess if store.dialect == "sqlite" else _claim_all_in_process
    results = await asyncio.gather(*(claim_all(store_url, f"c{i}") for i in range(CLAIMERS)))

    counts = Counter(job_id for claimed in results for job_id in claimed)
    assert len(counts) == JOBS
    assert max(counts.values()) == 1, "a job was claimed twice"
    assert sum(1 for claimed in results if claimed) > 1, "only one claimer got work"
    summary = await store.metrics_summary(tenant=None)
    assert summary.counts[JobState.COMPLETED] == JOBS


async def test_idempotency_race_yields_one_job(store: Store, store_url: str) -> None:
    others = [open_store(store_url) for _ in range(4)]
    stores = [store, *others]
    try:
        results = await asyncio.gather(
            *(
                stores[i % len(stores)].enqueue_jobs(
                    [NewJob(type="t", tenant="acme", idempotency_key="race", payload={"i": i})]
                )
                for i in range(50)
            )
        )
    finally:
        for other in others:
            await other.close()
    flat = [r[0] for r in results]
    assert sum(r.created for r in flat) == 1
    assert len({r.job.id for r in flat}) == 1
    page = await store.list_jobs(ListJobsParams(tenant="acme"))
    assert page.total == 1
