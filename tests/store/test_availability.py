"""URLs as users write them, and an unreachable database as `StoreUnavailable`."""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path

import pytest

from jobforge.domain.errors import ConfigError, StoreUnavailable
from jobforge.domain.job import NewJob
from jobforge.store import open_store
from jobforge.store.urls import asyncpg_dsn, backend_of, sqlalchemy_url


def test_url_normalisation() -> None:
    assert backend_of("postgres://u@h/db") == "postgresql"
    assert backend_of("postgresql+asyncpg://u@h/db") == "postgresql"
    assert backend_of("sqlite:///./jobforge.db") == "sqlite"
    assert sqlalchemy_url("postgres://u:p@h:5433/db").drivername == "postgresql+asyncpg"
    assert sqlalchemy_url("postgresql://u@h/db").database == "db"
    assert sqlalchemy_url("sqlite:////abs/path.db").database == "/abs/path.db"
    assert sqlalchemy_url("sqlite:///./rel.db").database == "./rel.db"
    assert asyncpg_dsn("postgres://u:p@h:5433/db") == "postgresql://u:p@h:5433/db"
    assert asyncpg_dsn("postgresql+asyncpg://u@h/db") == "postgresql://u@h/db"
    with pytest.raises(ConfigError):
        open_store("mysql://u@h/db")


def test_open_store_is_lazy_and_picks_the_backend(tmp_path: Path) -> None:
    assert open_store(f"sqlite:///{tmp_path}/x.db").dialect == "sqlite"
    assert open_store("postgres://nobody@127.0.0.1:1/none").dialect == "postgresql"
    assert not (tmp_path / "x.db").exists()  # nothing was opened


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_unreachable_postgres_is_store_unavailable() -> None:
    store = open_store(f"postgresql://postgres@127.0.0.1:{_closed_port()}/jobforge")
    try:
        with pytest.raises(StoreUnavailable):
            await store.ping()
        with pytest.raises(StoreUnavailable):
            await store.enqueue_jobs([NewJob(type="t")])  # raw asyncpg path
        with pytest.raises(StoreUnavailable):
            await store.list_tenants()  # SQLAlchemy path
        with pytest.raises(StoreUnavailable):
            async with store.job_arrivals():
                pass
    finally:
        await store.close()


async def test_unopenable_sqlite_is_store_unavailable(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    store = open_store(f"sqlite:///{tmp_path}/missing/dir/x.db")
    try:
        with pytest.raises(StoreUnavailable):
            await store.ping()
    finally:
        await store.close()
        # aiosqlite's thread for the failed connection may still be ending; let it end while
        # this test's loop is open, or it reports "Event loop is closed" in the next test.
        for thread in set(threading.enumerate()) - before:
            await asyncio.to_thread(thread.join, 5)
