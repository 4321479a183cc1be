"""`jobforge migrate`: bring the database schema to the latest revision."""

from __future__ import annotations

import asyncio

import typer

from jobforge.cli import app
from jobforge.config import Settings
from jobforge.errors import StoreError


async def _migrate(database_url: str) -> None:
    from jobforge.store import open_store

    store = open_store(database_url)
    try:
        await store.migrate()
    finally:
        await store.close()


@app.command()
def migrate(
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="The database to migrate (default: JOBFORGE_DATABASE_URL).",
        show_default=False,
    ),
) -> None:
    """Create or upgrade the database schema; safe to run from several processes at once."""
    from jobforge.store.migrate import head_revision

    url = database_url or Settings().database_url
    try:
        asyncio.run(_migrate(url))
    except StoreError as exc:
        typer.echo(f"migration failed: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(f"database is at revision {head_revision()} (head)")
