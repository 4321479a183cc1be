"""Throughput and latency of one worker process, on SQLite and PostgreSQL (`make bench`).

For each backend:
1. enqueue: 10,000 no-op jobs in bulk (`enqueue_jobs` in batches of `--batch`), jobs/s;
2. processing: one `jobforge worker` process runs them; jobs/s from the first job started
   to the last one finished (store timestamps, so process start-up is not counted);
3. start latency: 1,000 jobs sent one at a time to the idle worker (a pause after each, so
   it is idle when the next arrives); `started_at - created_at` per job, p50 and p99.

PostgreSQL gets a database of its own, created and dropped here. Nothing is asserted: this
measures, it does not judge.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from jobforge.domain.job import Job, NewJob
from jobforge.domain.states import JobState
from jobforge.store import Store, open_store

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get(
    "JOBFORGE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@dataclass
class Result:
    backend: str
    enqueue_per_s: float
    process_per_s: float
    p50_ms: float
    p99_ms: float


async def enqueue_bulk(store: Store, count: int, batch: int) -> tuple[list[Job], float]:
    jobs = [NewJob(type="bench.noop") for _ in range(count)]
    started = time.perf_counter()
    created: list[Job] = []
    for i in range(0, count, batch):
        created += [r.job for r in await store.enqueue_jobs(jobs[i : i + batch])]
    return created, count / (time.perf_counter() - started)


async def wait_finished(store: Store, count: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while True:
        counts = (await store.metrics_summary(tenant=None)).counts
        if counts.get(JobState.COMPLETED, 0) >= count:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {counts} after {timeout} s")
        await asyncio.sleep(0.2)


async def processing_rate(store: Store, jobs: list[Job]) -> float:
    done = [await store.get_job(j.id, tenant=None) for j in jobs]
    first = min(j.started_at for j in done if j.started_at)
    last = max(j.finished_at for j in done if j.finished_at)
    return len(done) / (last - first).total_seconds()


async def start_latencies(store: Store, count: int, gap: float) -> list[float]:
    sent: list[Job] = []
    for _ in range(count):
        sent += [r.job for r in await store.enqueue_jobs([NewJob(type="bench.noop")])]
        await asyncio.sleep(gap)
    deadline = time.monotonic() + 60
    latencies = []
    for job in sent:
        while (stored := await store.get_job(job.id, tenant=None)).started_at is None:
            if time.monotonic() > deadline:
                raise TimeoutError("latency jobs did not start")
            await asyncio.sleep(0.05)
        latencies.append((stored.started_at - stored.created_at).total_seconds() * 1000)
    return latencies


def start_worker(url: str, concurrency: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "JOBFORGE_DATABASE_URL": url,
        "JOBFORGE_LOG_LEVEL": "WARNING",
        "PYTHONPATH": f"{REPO / 'bench'}{os.pathsep}{REPO}",
    }
    command = [sys.executable, "-m", "jobforge", "worker", "--app", "bench_app:forge"]
    command += ["--queues", "default", "--concurrency", str(concurrency)]
    return subprocess.Popen(command, cwd=REPO, env=env)


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def run_backend(name: str, url: str, args: argparse.Namespace) -> Result:
    store = open_store(url)
    await store.migrate()
    try:
        jobs, enqueue_rate = await enqueue_bulk(store, args.jobs, args.batch)
        worker = start_worker(url, args.concurrency)
        try:
            await wait_finished(store, args.jobs)
            process_rate = await processing_rate(store, jobs)
            await asyncio.sleep(1.0)  # let the worker go idle
            latencies = await start_latencies(store, args.latency_jobs, args.gap)
        finally:
            stop_worker(worker)
    finally:
        await store.close()
    quantiles = statistics.quantiles(latencies, n=100)
    return Result(name, enqueue_rate, process_rate, quantiles[49], quantiles[98])


async def with_pg_database(args: argparse.Namespace) -> Result:
    name = f"jobforge_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        if args.pg_async_commit:
            # Diagnostic only: takes the WAL flush out of every commit, to show how much of
            # the time is the disk (fdatasync) rather than jobforge.
            await admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
        try:
            return await run_backend("postgresql", url, args)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def main(args: argparse.Namespace) -> None:
    results = []
    if "sqlite" in args.backends:
        with tempfile.TemporaryDirectory() as tmp:
            results.append(await run_backend("sqlite", f"sqlite:///{tmp}/bench.db", args))
    if "postgresql" in args.backends:
        results.append(await with_pg_database(args))
    print(f"\njobs={args.jobs} batch={args.batch} concurrency={args.concurrency}", end=" ")
    print(f"cpus={os.cpu_count()} pg_async_commit={args.pg_async_commit}")
    print(f"{'backend':<12}{'enqueue/s':>12}{'process/s':>12}{'p50 ms':>10}{'p99 ms':>10}")
    for r in results:
        print(
            f"{r.backend:<12}{r.enqueue_per_s:>12,.0f}{r.process_per_s:>12,.0f}"
            f"{r.p50_ms:>10.2f}{r.p99_ms:>10.2f}"
        )


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=10_000, help="jobs per enqueue call")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--latency-jobs", type=int, default=1000)
    parser.add_argument("--gap", type=float, default=0.005, help="pause after each latency job")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--pg-async-commit",
        action="store_true",
        help="run the PostgreSQL database with synchronous_commit=off (diagnostic)",
    )
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
