"""Login nonces: one-time dashboard login links stay one-time across restarts and processes.

Revision ID: 0003_login_nonces
Revises: 0002_job_actions
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_login_nonces"
down_revision = "0002_job_actions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobforge_login_nonces",
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_jobforge_login_nonces_expires_at", "jobforge_login_nonces", ["expires_at"])


def downgrade() -> None:
    op.drop_table("jobforge_login_nonces")
