"""The hot queries use indexes on a table of a million finished jobs.

A claim must cost the same whether the table holds a thousand jobs or a million finished
ones, and the dashboard's first page must not read the whole table. The million rows are
generated set-based inside the database (`generate_series` on PostgreSQL, a recursive CTE
on SQLite) with ascending ids, so the primary key is appended to rather than split at
random, then each query's plan is printed and checked for full-table scans.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy import event, text

from jobforge.domain.job import NewJob
from jobforge.domain.states import JobState
from jobforge.store import Store, open_store
from jobforge.store import postgres_sql as pg
from jobforge.store.params import ClaimParams, ListJobsParams
from tests.servers import PG_ADMIN_URL, pg_url_for, require

FINISHED = 1_000_000
TENANTS = 20

PG_FILL = f"""
INSERT INTO jobforge_jobs (id, tenant, type, queue, priority, payload, status, attempts,
    max_attempts, run_at, errors, cancel_requested, created_at, updated_at, started_at,
    finished_at)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
    'tenant' || (g % {TENANTS}), 'noop', 'default', 0, '{{}}',
    'completed', 1, 3, t, '[]', false, t, t, t, t
FROM generate_series(1, {FINISHED}) AS g,
     LATERAL (SELECT now() - g * interval '1 second' AS t) AS at
"""

SQLITE_FILL = f"""
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {FINISHED})
INSERT INTO jobforge_jobs (id, tenant, type, queue, priority, payload, status, attempts,
    max_attempts, run_at, errors, cancel_requested, created_at, updated_at, started_at,
    finished_at)
SELECT printf('%032x', n), 'tenant' || (n % {TENANTS}), 'noop', 'default', 0, '{{}}',
    'completed', 1, 3, t, '[]', 0, t, t, t, t
FROM (SELECT n, strftime('%Y-%m-%d %H:%M:%S', 'now', '-' || n || ' seconds') || '.000000' AS t
      FROM g)
"""


# One event loop for the module, so the filled stores are built once and shared.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(params=["sqlite", "postgres"], scope="module", loop_scope="module")
async def big_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Store]:
    """A store of a million completed jobs and a few pending ones, on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('big') / 'big.db'}"
        async for store in _filled(url, SQLITE_FILL, "ANALYZE"):
            yield store
        return
    require(PG_ADMIN_URL, 5432, "PostgreSQL")
    name = f"jobforge_big_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        async for store in _filled(pg_url_for(name), PG_FILL, "ANALYZE jobforge_jobs"):
            yield store
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _index_definitions(conn: Any, dialect: str) -> list[tuple[str, str]]:
    if dialect == "sqlite":
        query = (
            "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
            " AND tbl_name = 'jobforge_jobs' AND sql IS NOT NULL"
        )
    else:
        query = (
            "SELECT indexname, indexdef FROM pg_indexes"
            " WHERE tablename = 'jobforge_jobs' AND indexname <> 'jobforge_jobs_pkey'"
        )
    return [(r[0], r[1]) for r in await conn.execute(text(query))]


async def _filled(url: str, fill: str, analyze: str) -> AsyncIterator[Store]:
    store = open_store(url)
    try:
        await store.migrate()
        # Building the indexes once after the fill is several times faster than keeping
        # them up to date row by row; the migrated definitions are put back verbatim.
        async with store._write() as conn:  # type: ignore[attr-defined]
            indexes = await _index_definitions(conn, store.dialect)
            for name, _ in indexes:
                await conn.execute(text(f"DROP INDEX {name}"))
            await conn.execute(text(fill))
            for _, definition in indexes:
                await conn.execute(text(definition))
        await store.enqueue_jobs([NewJob(type="t", tenant=f"tenant{i % 3}") for i in range(200)])
        async with store._write() as conn:  # type: ignore[attr-defined]
            await conn.execute(text(analyze))
        yield store
    finally:
        await store.close()


@contextmanager
def captured(store: Store) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (and parameters) the store sends through SQLAlchemy."""
    statements: list[tuple[str, Any]] = []
    engine = store._engine.sync_engine  # type: ignore[attr-defined]

    def record(_c: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "WITH")):
            statements.append((statement, params))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def explain(store: Store, statement: str, params: Any) -> list[str]:
    async with store._read() as conn:  # type: ignore[attr-defined]
        if store.dialect == "sqlite":
            rows = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
            return [str(r[-1]) for r in rows]
        rows = await conn.exec_driver_sql(f"EXPLAIN {statement}", params)
        return [str(r[0]) for r in rows]


def assert_indexed(name: str, plan: list[str]) -> None:
    print(f"\n-- {name}\n" + "\n".join(plan))
    for line in plan:
        assert "Seq Scan on jobforge_jobs" not in line, f"{name}: full scan\n{plan}"
        # SQLite: "SCAN jobforge_jobs" alone reads the table; "... USING INDEX" does not.
        if line.strip().startswith("SCAN jobforge_jobs"):
            assert "INDEX" in line, f"{name}: full scan\n{plan}"


async def _plans_of(store: Store, name: str, call: Any) -> None:
    with captured(store) as statements:
        await call
    assert statements, f"{name}: no statement captured"
    for i, (statement, params) in enumerate(statements):
        if "jobforge_jobs" in statement:
            assert_indexed(f"{name} [{i}]", await explain(store, statement, params))


async def test_claim_uses_the_claim_index(big_store: Store) -> None:
    if big_store.dialect == "postgresql":
        async with big_store._raw() as conn:  # type: ignore[attr-defined]
            rows = await conn.fetch("EXPLAIN " + pg.CLAIM, ["default"], 10, "w", 30.0)
        plan = [r[0] for r in rows]
        assert_indexed("claim", plan)
        assert any("ix_jobs_claim" in line for line in plan)
        return
    claim = big_store.claim_jobs(
        ClaimParams(worker_id="w", queues=["default"], limit=10, lease_seconds=30)
    )
    await _plans_of(big_store, "claim", claim)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("tenant newest first", ListJobsParams(tenant="tenant1")),
        ("tenant by status", ListJobsParams(tenant="tenant1", statuses=[JobState.PENDING])),
        ("tenant by completed", ListJobsParams(tenant="tenant1", statuses=[JobState.COMPLETED])),
        ("admin by status", ListJobsParams(tenant=None, statuses=[JobState.PENDING])),
        ("admin newest first", ListJobsParams(tenant=None, with_total=False)),
    ],
)
async def test_dashboard_listings_use_indexes(
    big_store: Store, name: str, params: ListJobsParams
) -> None:
    page = await big_store.list_jobs(params)
    assert page.items
    await _plans_of(big_store, name, big_store.list_jobs(params))
    if page.next_cursor:
        nxt = ListJobsParams(
            tenant=params.tenant,
            statuses=params.statuses,
            with_total=params.with_total,
            cursor=page.next_cursor,
        )
        await _plans_of(big_store, f"{name}, next page", big_store.list_jobs(nxt))


async def test_following_changes_and_the_throughput_history_use_indexes(
    big_store: Store,
) -> None:
    now = await big_store.now()
    changes = big_store.recent_changes(since=now - timedelta(seconds=30))
    await _plans_of(big_store, "recent changes", changes)
    history = big_store.throughput_history(since=now - timedelta(minutes=15))
    await _plans_of(big_store, "throughput history", history)
    samples = await big_store.throughput_history(since=now - timedelta(minutes=15))
    # The fill finished one job a second until it ran (some seconds before now).
    assert len(samples) > 800
    assert {(s.completed, s.failed) for s in samples} == {(1, 0)}
