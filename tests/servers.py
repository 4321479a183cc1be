"""Where the test servers are, and the rule for when one is unreachable.

PostgreSQL and Redis run on their standard local ports (override with
`JOBFORGE_TEST_DATABASE_URL` / `JOBFORGE_TEST_REDIS_URL`). Without `CI`, a test that needs an
unreachable server is skipped; with `CI` set it fails, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

PG_ADMIN_URL = os.environ.get(
    "JOBFORGE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("JOBFORGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def require(url: str, default_port: int, what: str) -> None:
    """Skip (locally) or fail (with CI set) when the server behind `url` is unreachable."""
    if reachable(url, default_port):
        return
    message = f"{what} at {url} is unreachable"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI requires it", pytrace=False)
    pytest.skip(message)


def pg_url_for(database: str) -> str:
    parts = urlsplit(PG_ADMIN_URL)
    return parts._replace(path=f"/{database}").geturl()
