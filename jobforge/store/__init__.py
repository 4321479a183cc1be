"""The store: the one seam between jobforge and its database.

`open_store(url)` picks the backend by the URL's scheme and returns a `Store`; nothing
connects until the first call. `sqlite:///./jobforge.db` (relative) and
`sqlite:////abs/path.db` open the embedded SQLite backend; `postgresql://user@host/db` and
`postgres://...` open PostgreSQL (the async driver is chosen here, users never name it).
"""

from __future__ import annotations

from jobforge.store.protocol import Store
from jobforge.store.urls import backend_of

__all__ = ["Store", "open_store"]


def open_store(url: str, *, default_max_attempts: int = 3) -> Store:
    """A `Store` for `url` (lazy: connections are made on first use).

    `default_max_attempts` applies to jobs submitted without `max_attempts`.
    """
    if default_max_attempts < 1:
        raise ValueError(f"default_max_attempts must be at least 1, got {default_max_attempts}")
    if backend_of(url) == "sqlite":
        from jobforge.store.sqlite import SqliteStore

        return SqliteStore(url, default_max_attempts=default_max_attempts)
    from jobforge.store.postgres import PostgresStore

    return PostgresStore(url, default_max_attempts=default_max_attempts)
