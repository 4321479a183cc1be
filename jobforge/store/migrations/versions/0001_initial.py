"""Initial schema: jobs, queue pauses, tenants, API keys, workers, leaders.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

RUNNABLE_SQL = "status IN ('pending', 'scheduled', 'failed')"
FINAL_SQL = "status IN ('completed', 'dead', 'cancelled')"
RUNNING_SQL = "status = 'running'"

# Written out rather than imported from tables.py: a migration must keep creating the
# schema of its day when tables.py moves on.
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Time = sa.DateTime(timezone=True)


def _partial(where: str) -> dict[str, Any]:
    return {"postgresql_where": sa.text(where), "sqlite_where": sa.text(where)}


def upgrade() -> None:
    op.create_table(
        "jobforge_jobs",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("queue", sa.String(200), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("payload", Json, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_at", Time, nullable=False),
        sa.Column("timeout_seconds", sa.Float(), nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("result", Json, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("errors", Json, nullable=False),
        sa.Column("worker_id", sa.String(200), nullable=True),
        sa.Column("lease_token", sa.Uuid(), nullable=True),
        sa.Column("lease_expires_at", Time, nullable=True),
        sa.Column(
            "cancel_requested", sa.Boolean(), nullable=False, server_default=sa.text("false")
        ),
        sa.Column("trace_id", sa.String(64), nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("started_at", Time, nullable=True),
        sa.Column("finished_at", Time, nullable=True),
        sa.Column("updated_at", Time, nullable=False),
    )
    jobs = "jobforge_jobs"
    op.create_index(
        "uq_jobs_tenant_idempotency_key",
        jobs,
        ["tenant", "idempotency_key"],
        unique=True,
        **_partial("idempotency_key IS NOT NULL"),
    )
    op.create_index(
        "ix_jobs_claim", jobs, ["queue", "priority", "run_at"], **_partial(RUNNABLE_SQL)
    )
    op.create_index("ix_jobs_running_lease", jobs, ["lease_expires_at"], **_partial(RUNNING_SQL))
    op.create_index("ix_jobs_running_token", jobs, ["lease_token"], **_partial(RUNNING_SQL))
    op.create_index("ix_jobs_tenant_created", jobs, ["tenant", "created_at", "id"])
    op.create_index("ix_jobs_tenant_status_created", jobs, ["tenant", "status", "created_at", "id"])
    op.create_index("ix_jobs_status_created", jobs, ["status", "created_at", "id"])
    op.create_index("ix_jobs_created", jobs, ["created_at", "id"])
    op.create_index("ix_jobs_finished", jobs, ["finished_at"], **_partial(FINAL_SQL))

    op.create_table(
        "jobforge_queue_pauses",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("queue", sa.String(200), primary_key=True),
        sa.Column("paused_at", Time, nullable=False),
    )
    op.create_table(
        "jobforge_tenants",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("created_at", Time, nullable=False),
    )
    op.create_table(
        "jobforge_api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("revoked_at", Time, nullable=True),
    )
    op.create_index("ix_jobforge_api_keys_tenant", "jobforge_api_keys", ["tenant"])
    op.create_index("ix_jobforge_api_keys_digest", "jobforge_api_keys", ["digest"], unique=True)
    op.create_table(
        "jobforge_workers",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("queues", Json, nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("started_at", Time, nullable=False),
        sa.Column("last_seen_at", Time, nullable=False),
    )
    op.create_index("ix_jobforge_workers_last_seen_at", "jobforge_workers", ["last_seen_at"])
    op.create_table(
        "jobforge_leaders",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("expires_at", Time, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "jobforge_leaders",
        "jobforge_workers",
        "jobforge_api_keys",
        "jobforge_tenants",
        "jobforge_queue_pauses",
        "jobforge_jobs",
    ):
        op.drop_table(table)
