"""Table definitions (SQLAlchemy Core), shared by both dialects and by the migrations.

Indexes are chosen for the hot queries, and each says which:
- claims scan `ix_jobs_claim`, a partial index holding only runnable jobs, so a table of a
  million finished jobs costs a claim nothing;
- leases are rescued through `ix_jobs_running_lease` and extended through
  `ix_jobs_running_token` (running jobs only);
- listings (API and dashboard) are newest first per tenant, optionally by status, and for
  an admin across tenants: each index ends in `(created_at, id)`, the listing order and the
  keyset cursor. Filters by type or queue ride on the tenant index: every index is written
  on each state change of every job (claim, finish), so the hot path pays for each one;
- pruning and "finished in the last minute" read `ix_jobs_finished`.

`jobforge_job_actions` is the durable record of what people did to a job (cancel, retry),
by which key: the job detail page's timeline. Only user steering writes it, never the
worker's hot path.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

RUNNABLE_SQL = "status IN ('pending', 'scheduled', 'failed')"
FINAL_SQL = "status IN ('completed', 'dead', 'cancelled')"
RUNNING_SQL = "status = 'running'"
"""The predicates of the partial indexes. Queries that should use one state the same text
(`text(RUNNABLE_SQL)`): SQLite uses a partial index only when the query repeats its WHERE
term verbatim, and never for a bound parameter."""


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both dialects.

    PostgreSQL stores `timestamptz`. SQLite has no timestamp type: values are stored as
    naive UTC text of fixed width, so that comparing them as text compares them in time.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: jobforge stores UTC-aware times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        parsed: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)


Json = JSON().with_variant(JSONB(), "postgresql")

metadata = MetaData()

jobs = Table(
    "jobforge_jobs",
    metadata,
    Column("id", Uuid(as_uuid=True), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("type", String(200), nullable=False),
    Column("queue", String(200), nullable=False),
    Column("priority", Integer, nullable=False, server_default=text("0")),
    Column("payload", Json, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("max_attempts", Integer, nullable=False),
    Column("run_at", UtcDateTime, nullable=False),
    Column("timeout_seconds", Float, nullable=True),
    Column("idempotency_key", String(255), nullable=True),
    Column("result", Json, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("errors", Json, nullable=False),
    Column("worker_id", String(200), nullable=True),
    Column("lease_token", Uuid(as_uuid=True), nullable=True),
    Column("lease_expires_at", UtcDateTime, nullable=True),
    Column("cancel_requested", Boolean, nullable=False, server_default=text("false")),
    Column("trace_id", String(64), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime, nullable=True),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    # Partial: only keyed jobs are constrained, and unkeyed ones cost the index nothing.
    Index(
        "uq_jobs_tenant_idempotency_key",
        "tenant",
        "idempotency_key",
        unique=True,
        postgresql_where=text("idempotency_key IS NOT NULL"),
        sqlite_where=text("idempotency_key IS NOT NULL"),
    ),
    Index(
        "ix_jobs_claim",
        "queue",
        "priority",
        "run_at",
        postgresql_where=text(RUNNABLE_SQL),
        sqlite_where=text(RUNNABLE_SQL),
    ),
    Index(
        "ix_jobs_running_lease",
        "lease_expires_at",
        postgresql_where=text(RUNNING_SQL),
        sqlite_where=text(RUNNING_SQL),
    ),
    # Heartbeats find a worker's jobs by lease token; only running rows carry one.
    Index(
        "ix_jobs_running_token",
        "lease_token",
        postgresql_where=text(RUNNING_SQL),
        sqlite_where=text(RUNNING_SQL),
    ),
    # Listing indexes end in (created_at, id): the listing order and the keyset cursor.
    Index("ix_jobs_tenant_created", "tenant", "created_at", "id"),
    Index("ix_jobs_tenant_status_created", "tenant", "status", "created_at", "id"),
    Index("ix_jobs_status_created", "status", "created_at", "id"),
    Index("ix_jobs_created", "created_at", "id"),
    Index(
        "ix_jobs_finished",
        "finished_at",
        postgresql_where=text(FINAL_SQL),
        sqlite_where=text(FINAL_SQL),
    ),
)

job_actions = Table(
    "jobforge_job_actions",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    # No foreign key: a job's deletion sweeps its actions (see `sql.actions`), which keeps
    # SQLite and PostgreSQL alike and table rebuilds in future migrations harmless.
    Column("job_id", Uuid(as_uuid=True), nullable=False, index=True),
    Column("action", String(32), nullable=False),
    Column("from_status", String(16), nullable=False),
    Column("to_status", String(16), nullable=False),
    Column("actor", String(200), nullable=True),
    Column("at", UtcDateTime, nullable=False),
)

login_nonces = Table(
    "jobforge_login_nonces",
    metadata,
    # The nonce of a one-time dashboard login link already used, until the link expires.
    Column("nonce", String(64), primary_key=True),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)

queue_pauses = Table(
    "jobforge_queue_pauses",
    metadata,
    # tenant '*' pauses the queue for every tenant (an admin's pause).
    Column("tenant", String(64), primary_key=True),
    Column("queue", String(200), primary_key=True),
    Column("paused_at", UtcDateTime, nullable=False),
)

tenants = Table(
    "jobforge_tenants",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("is_admin", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UtcDateTime, nullable=False),
)

api_keys = Table(
    "jobforge_api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant", String(64), nullable=False, index=True),
    Column("digest", String(64), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Index("ix_jobforge_api_keys_digest", "digest", unique=True),
)

workers = Table(
    "jobforge_workers",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("queues", Json, nullable=False),
    Column("concurrency", Integer, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False, index=True),
)

leaders = Table(
    "jobforge_leaders",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)
