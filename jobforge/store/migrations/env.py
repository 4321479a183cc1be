"""Alembic environment for jobforge: migrates the connection handed over in `attributes`.

`jobforge.store.migrate` opens the connection (with its lock held) and passes it in; this
file never reads an ini file or creates an engine of its own.
"""

from __future__ import annotations

from alembic import context

from jobforge.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run jobforge migrations through jobforge.store.migrate (or `jobforge migrate`)"
    )

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
