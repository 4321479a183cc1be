"""Fixtures shared by the whole suite.

`store` is parametrised over both backends, so every test that takes it is part of the
conformance suite. SQLite gets a fresh file per test, copied from one migrated at the start
of the session. PostgreSQL gets one database per test session (migrated once) and every
table emptied before each test: cheap isolation that still exercises real connections,
LISTEN/NOTIFY and row locks.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from jobforge.store import Store, open_store
from tests.servers import PG_ADMIN_URL, pg_url_for, require

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A PostgreSQL database private to this test session, dropped at the end."""
    require(PG_ADMIN_URL, 5432, "PostgreSQL")
    name = f"jobforge_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = pg_url_for(name)

    asyncio.run(_migrate(url))
    yield url
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _migrate(url: str) -> None:
    store = open_store(url)
    try:
        await store.migrate()
    finally:
        await store.close()


TABLES = (
    "jobforge_jobs",
    "jobforge_queue_pauses",
    "jobforge_tenants",
    "jobforge_api_keys",
    "jobforge_workers",
    "jobforge_leaders",
    "jobforge_job_actions",
    "jobforge_login_nonces",
)


async def _empty_pg(url: str) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        # DELETE, not TRUNCATE: on the few rows a test leaves it is several times faster.
        await conn.execute(";".join(f"DELETE FROM {t}" for t in TABLES))
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that tests copy instead of migrating their own."""
    path = tmp_path_factory.mktemp("sqlite-template") / "jobforge.db"
    asyncio.run(_migrate(f"sqlite:///{path}"))
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'jobforge.db'}"


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database URL of each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, tmp_path / "jobforge.db")
        yield f"sqlite:///{tmp_path / 'jobforge.db'}"
        return
    url: str = request.getfixturevalue("pg_database_url")
    asyncio.run(_empty_pg(url))
    yield url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    """An open, migrated, empty store of each backend."""
    s = open_store(store_url)
    try:
        yield s
    finally:
        await s.close()
