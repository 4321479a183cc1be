"""Migrations: idempotent, faithful to `tables.py`, safe to race, and the CLI command."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner

from jobforge.cli import app
from jobforge.store import Store, open_store
from jobforge.store.migrate import current_revision, head_revision
from jobforge.store.tables import metadata
from jobforge.store.urls import sqlalchemy_url
from tests.servers import PG_ADMIN_URL, pg_url_for, require

MIGRATE = """
import asyncio, sys
from jobforge.store import open_store

async def main(url):
    store = open_store(url)
    try:
        await store.migrate()
    finally:
        await store.close()

asyncio.run(main(sys.argv[1]))
"""


@pytest.fixture(params=["sqlite", "postgres"])
async def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty, never migrated database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    require(PG_ADMIN_URL, 5432, "PostgreSQL")
    name = f"jobforge_fresh_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield pg_url_for(name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def _schema_diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": False})
    return list(compare_metadata(context, metadata))


async def _inspect(url: str) -> tuple[str | None, list[object]]:
    engine = create_async_engine(sqlalchemy_url(url))
    try:
        async with engine.connect() as conn:
            revision = await conn.run_sync(current_revision)
            diff = await conn.run_sync(_schema_diff)
    finally:
        await engine.dispose()
    return revision, diff


async def test_migrated_schema_matches_tables(store: Store, store_url: str) -> None:
    await store.migrate()  # again: a no-op at head
    revision, diff = await _inspect(store_url)
    assert revision == head_revision()
    assert diff == []


async def test_racing_processes_all_migrate(fresh_url: str) -> None:
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", MIGRATE, fresh_url, stderr=asyncio.subprocess.PIPE
        )
        for _ in range(5)
    ]
    errors = [(await p.communicate())[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0] * 5, errors
    revision, diff = await _inspect(fresh_url)
    assert revision == head_revision() and diff == []


async def test_racing_tasks_all_migrate(fresh_url: str) -> None:
    stores = [open_store(fresh_url) for _ in range(5)]
    try:
        await asyncio.gather(*(s.migrate() for s in stores))
        assert (await stores[0].list_tenants()) == []
    finally:
        for s in stores:
            await s.close()


def test_migrate_command(fresh_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(app, ["migrate", "--database-url", fresh_url])
    assert result.exit_code == 0, result.output
    assert head_revision() in result.output
    monkeypatch.setenv("JOBFORGE_DATABASE_URL", fresh_url)
    again = CliRunner().invoke(app, ["migrate"])  # from the settings, and idempotent
    assert again.exit_code == 0, again.output


def test_migrate_command_reports_unreachable_database() -> None:
    result = CliRunner().invoke(
        app, ["migrate", "--database-url", "postgresql://nobody@127.0.0.1:1/none"]
    )
    assert result.exit_code == 1
