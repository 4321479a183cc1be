"""Run the Alembic migrations shipped inside the package, under a lock.

No `alembic.ini` is needed: the configuration is built here, pointing at
`jobforge/store/migrations`, so `jobforge migrate` works from an installed wheel. Several
processes may start at once and all call `migrate()`; the lock makes them take turns, and
every one after the first finds the schema at head and does nothing.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"

# An arbitrary constant naming jobforge's migration lock among PostgreSQL advisory locks.
ADVISORY_LOCK_KEY = 0x6A6F62666F726765  # "jobforge"


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, built in code; `connection` is the one to migrate on."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision shipped with this version of jobforge."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (None if never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


def _upgrade_postgres(connection: Connection) -> None:
    # A session-level advisory lock outlives the transactions Alembic commits inside it.
    connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
    connection.commit()
    try:
        _upgrade(connection)
        connection.commit()
    finally:
        connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
        connection.commit()


def _upgrade_sqlite(connection: Connection) -> None:
    # The engine passed in opens write transactions (BEGIN IMMEDIATE): the whole upgrade
    # runs under SQLite's write lock, and Alembic joins the open transaction.
    with connection.begin():
        _upgrade(connection)


async def upgrade_to_head(engine: AsyncEngine) -> str:
    """Upgrade the database behind `engine` to head; returns the revision it is at."""
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            await conn.run_sync(_upgrade_postgres)
        else:
            await conn.run_sync(_upgrade_sqlite)
        revision = await conn.run_sync(current_revision)
        await conn.rollback()
    return revision or ""
