"""`PostgresStore`: the production backend.

Claims lock due rows with `FOR UPDATE SKIP LOCKED`, so any number of workers claim
concurrently without waiting on each other; every runnable job is announced with
`pg_notify('jobforge_jobs', queue)` in the transaction that makes it runnable, so workers
in every process wake on commit instead of polling.

The hot path (enqueue, claim, heartbeat, finish) runs the raw statements of
`postgres_sql` on a plain asyncpg pool: one round trip per batch, no per-row SQLAlchemy
work. Everything else goes through the shared SQLAlchemy statements.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from jobforge.domain.errors import StoreError, StoreUnavailable
from jobforge.domain.job import Job, NewJob
from jobforge.domain.outcomes import Cancelled, Completed, Failed, Outcome
from jobforge.domain.states import JobState
from jobforge.store import postgres_sql as pg
from jobforge.store.base import ARRIVALS_BUFFER, UNAVAILABLE_ERRORS, SqlStore
from jobforge.store.params import (
    ClaimParams,
    EnqueueResult,
    FinishResult,
    HeartbeatParams,
    HeartbeatResult,
    JobChange,
)
from jobforge.store.sql.jobs import row_to_job
from jobforge.store.urls import asyncpg_dsn, sqlalchemy_url

CHANNEL = pg.CHANNEL
SERVER_SETTINGS = {"timezone": "UTC", "application_name": "jobforge"}
POOL_SIZE = 10

_KIND = {Completed: "completed", Failed: "failed", Cancelled: "cancelled"}
"""Outcome type -> the `kind` column of `postgres_sql.FINISH` (Released is "pending")."""


async def _init_connection(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: jobforge stores UTC-aware times only")
    return value


_NOTIFY = text(f"SELECT pg_notify('{CHANNEL}', q) FROM unnest(CAST(:queues AS text[])) AS q")


class PostgresStore(SqlStore):
    """The `Store` on PostgreSQL (`postgresql://user@host/db`, `postgres://...`)."""

    dialect = "postgresql"
    unavailable_errors = (
        *UNAVAILABLE_ERRORS,
        asyncpg.PostgresConnectionError,
        asyncpg.CannotConnectNowError,
        asyncpg.InterfaceError,
    )

    def __init__(self, url: str, *, default_max_attempts: int = 3) -> None:
        super().__init__(url, default_max_attempts=default_max_attempts)
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()

    def _create_engine(self) -> AsyncEngine:
        return create_async_engine(
            sqlalchemy_url(self.url),
            pool_size=10,
            max_overflow=20,
            connect_args={"server_settings": SERVER_SETTINGS},
        )

    async def _clock(self, conn: AsyncConnection) -> datetime:
        now: datetime = (await conn.execute(select(func.now()))).scalar_one()
        return now

    async def _notify(self, conn: AsyncConnection, queues: Collection[str]) -> None:
        if queues:
            await conn.execute(_NOTIFY, {"queues": sorted(queues)})

    def _announce(self, queues: Collection[str]) -> None:
        # LISTEN delivers this process's own notifications too; nothing to do locally.
        return None

    async def close(self) -> None:
        """Release every connection, of both pools."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
        await super().close()

    @contextlib.asynccontextmanager
    async def _raw(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection of the hot-path pool (created on first use)."""
        with self._unavailable_as_store_error():
            if self._pool is None:
                async with self._pool_lock:
                    if self._pool is None:
                        self._pool = await asyncpg.create_pool(
                            asyncpg_dsn(self.url),
                            min_size=1,
                            max_size=POOL_SIZE,
                            init=_init_connection,
                            server_settings=SERVER_SETTINGS,
                        )
            async with self._pool.acquire() as conn:
                yield conn

    # -- hot path --------------------------------------------------------------------------
    async def enqueue_jobs(self, jobs: Sequence[NewJob]) -> list[EnqueueResult]:
        """Insert a batch in one statement (notifying its queues); known keys return the
        existing job with `created=False`."""
        if not jobs:
            return []
        ids = [j.id or uuid.uuid4() for j in jobs]
        columns = (
            ids,
            [j.tenant for j in jobs],
            [j.type for j in jobs],
            [j.queue for j in jobs],
            [j.priority for j in jobs],
            [j.payload for j in jobs],
            [j.max_attempts or self.default_max_attempts for j in jobs],
            [_aware(j.run_at) for j in jobs],
            [j.timeout_seconds for j in jobs],
            [j.idempotency_key for j in jobs],
            [j.trace_id for j in jobs],
        )
        async with self._raw() as conn:
            created = {r["id"]: row_to_job(r) for r in await conn.fetch(pg.INSERT, *columns)}
            existing: dict[tuple[str, str | None], Job] = {}
            if len(created) < len(jobs):
                existing = await self._existing_by_key(conn, jobs, ids, created)
        return [
            self._enqueue_result(j, i, created, existing) for j, i in zip(jobs, ids, strict=True)
        ]

    @staticmethod
    async def _existing_by_key(
        conn: asyncpg.Connection,
        jobs: Sequence[NewJob],
        ids: list[uuid.UUID],
        created: dict[Any, Job],
    ) -> dict[tuple[str, str | None], Job]:
        # Read after the insert committed: a conflicting row is committed by then too, as
        # ON CONFLICT waited for any concurrent insert of the same key to finish.
        keyed = [
            (j.tenant, j.idempotency_key)
            for j, i in zip(jobs, ids, strict=True)
            if i not in created
        ]
        keyed = [(t, k) for t, k in keyed if k is not None]
        rows = await conn.fetch(pg.EXISTING_BY_KEY, [t for t, _ in keyed], [k for _, k in keyed])
        return {(r["tenant"], r["idempotency_key"]): row_to_job(r) for r in rows}

    @staticmethod
    def _enqueue_result(
        job: NewJob, job_id: uuid.UUID, created: dict[Any, Job], existing: dict[Any, Job]
    ) -> EnqueueResult:
        if job_id in created:
            return EnqueueResult(job=created[job_id], created=True)
        found = existing.get((job.tenant, job.idempotency_key))
        if found is None:
            raise StoreError(f"job {job_id} exists already")
        return EnqueueResult(job=found, created=False)

    async def claim_jobs(self, params: ClaimParams) -> list[Job]:
        """Claim up to `limit` due jobs in one `UPDATE ... FOR UPDATE SKIP LOCKED`."""
        if params.limit <= 0 or not params.queues:
            return []
        async with self._raw() as conn:
            rows = await conn.fetch(
                pg.CLAIM, list(params.queues), params.limit, params.worker_id, params.lease_seconds
            )
        claimed = [row_to_job(r) for r in rows]
        claimed.sort(key=lambda j: (j.priority, j.run_at))
        return claimed

    async def heartbeat(self, params: HeartbeatParams) -> HeartbeatResult:
        """Extend every held lease and refresh the worker row, in one statement."""
        async with self._raw() as conn:
            rows = await conn.fetch(
                pg.HEARTBEAT, list(params.lease_tokens), params.lease_seconds, params.worker_id
            )
        return HeartbeatResult(
            held=frozenset(r["id"] for r in rows),
            cancel_requested=frozenset(r["id"] for r in rows if r["cancel_requested"]),
        )

    async def finish_attempts(self, outcomes: Sequence[Outcome]) -> FinishResult:
        """Write a batch of outcomes in one statement (arrays unnested server-side)."""
        if not outcomes:
            return FinishResult(applied=(), stale=())
        kinds = [_KIND.get(type(o), JobState.PENDING.value) for o in outcomes]
        failed = [o if isinstance(o, Failed) else None for o in outcomes]
        args = (
            [o.job_id for o in outcomes],
            [o.lease_token for o in outcomes],
            kinds,
            [o.result if isinstance(o, Completed) else None for o in outcomes],
            [f.message if f else None for f in failed],
            [f.traceback if f else None for f in failed],
            [_aware(f.retry_at) if f else None for f in failed],
        )
        async with self._raw() as conn:
            if JobState.PENDING.value in kinds:
                async with conn.transaction():
                    rows = await conn.fetch(pg.FINISH, *args)
                    released = sorted({r["queue"] for r in rows if r["status"] == "pending"})
                    await conn.execute(pg.NOTIFY, released)
            else:
                rows = await conn.fetch(pg.FINISH, *args)
        return self._finish_result(outcomes, rows)

    @staticmethod
    def _finish_result(outcomes: Sequence[Outcome], rows: list[Any]) -> FinishResult:
        applied = tuple(
            JobChange(
                id=r["id"],
                tenant=r["tenant"],
                type=r["type"],
                queue=r["queue"],
                status=JobState(r["status"]),
                attempts=r["attempts"],
                at=r["updated_at"],
            )
            for r in rows
        )
        done = {c.id for c in applied}
        stale: list[uuid.UUID] = []
        for o in outcomes:
            if o.job_id in done:
                done.discard(o.job_id)  # a duplicate outcome of one job counts as stale
            else:
                stale.append(o.job_id)
        return FinishResult(applied=applied, stale=tuple(stale))

    # -- arrivals --------------------------------------------------------------------------
    def job_arrivals(self) -> contextlib.AbstractAsyncContextManager[AsyncIterator[str]]:
        """Queue names from `NOTIFY jobforge_jobs`, sent by any process's enqueue or retry."""
        return self._listen()

    @contextlib.asynccontextmanager
    async def _listen(self) -> AsyncIterator[AsyncIterator[str]]:
        names: asyncio.Queue[str | None] = asyncio.Queue(ARRIVALS_BUFFER)

        def on_notify(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
            with contextlib.suppress(asyncio.QueueFull):
                names.put_nowait(payload)

        def on_lost(_conn: Any) -> None:
            with contextlib.suppress(asyncio.QueueFull):
                names.put_nowait(None)

        with self._unavailable_as_store_error():
            conn = await asyncpg.connect(asyncpg_dsn(self.url), server_settings=SERVER_SETTINGS)
        conn.add_termination_listener(on_lost)

        async def arrivals() -> AsyncIterator[str]:
            while (name := await names.get()) is not None:
                yield name
            raise StoreUnavailable("the LISTEN connection to PostgreSQL was lost")

        try:
            await conn.add_listener(CHANNEL, on_notify)
            yield arrivals()
        finally:
            conn.remove_termination_listener(on_lost)
            with contextlib.suppress(*self.unavailable_errors):
                await conn.close(timeout=5)
