"""`jobforge tenant create|key|list|revoke`, straight on a SQLite store."""

from __future__ import annotations

import asyncio
import json

import pytest
from cli_harness import run_cli

from jobforge.domain.tenants import digest_api_key
from jobforge.store import open_store


@pytest.fixture
def db_env(sqlite_url: str) -> dict[str, str]:
    return {"JOBFORGE_DATABASE_URL": sqlite_url}


def key_is_stored(url: str, key: str) -> bool:
    async def look() -> bool:
        store = open_store(url)
        try:
            return await store.find_api_key(digest_api_key(key)) is not None
        finally:
            await store.close()

    return asyncio.run(look())


def test_create_json_prints_tenant_and_key_on_one_line(db_env: dict[str, str]) -> None:
    result = run_cli("tenant", "create", "acme", "--json", env=db_env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    created = json.loads(lines[0])
    assert set(created) == {"tenant", "api_key"}
    assert created["tenant"] == "acme"
    assert created["api_key"].startswith("jf_") and len(created["api_key"]) >= 40
    assert key_is_stored(db_env["JOBFORGE_DATABASE_URL"], created["api_key"])


def test_create_prints_the_key_once_for_humans(db_env: dict[str, str]) -> None:
    result = run_cli("tenant", "create", "ops", "--admin", env=db_env)
    assert result.exit_code == 0, result.output
    assert "admin tenant ops" in result.stdout
    assert "shown only once" in result.stdout
    assert "export JOBFORGE_API_KEY=jf_" in result.stdout


def test_errors_are_one_line_and_exit_non_zero(db_env: dict[str, str]) -> None:
    assert run_cli("tenant", "create", "acme", env=db_env).exit_code == 0
    again = run_cli("tenant", "create", "acme", env=db_env)
    assert again.exit_code == 1
    assert again.stderr.strip().splitlines() == [
        "error: tenant 'acme' exists already (issue another key with `jobforge tenant key NAME`)"
    ]
    bad = run_cli("tenant", "create", "no spaces", env=db_env)
    assert bad.exit_code == 1 and "tenant name must be" in bad.stderr
    missing = run_cli("tenant", "revoke", "nobody", env=db_env)
    assert missing.exit_code == 1 and "nobody" in missing.stderr
    for result in (again, bad, missing):
        assert "Traceback" not in result.output


def test_key_list_and_revoke(db_env: dict[str, str]) -> None:
    first = json.loads(run_cli("tenant", "create", "acme", "--json", env=db_env).stdout)
    second = json.loads(run_cli("tenant", "key", "acme", "--json", env=db_env).stdout)
    assert second["tenant"] == "acme" and second["api_key"] != first["api_key"]

    [acme] = json.loads(run_cli("tenant", "list", "--json", env=db_env).stdout)
    assert acme["tenant"] == "acme" and acme["admin"] is False
    assert [k["active"] for k in acme["keys"]] == [True, True]
    assert {k["prefix"] for k in acme["keys"]} == {
        first["api_key"][:9],
        second["api_key"][:9],
    }

    one = acme["keys"][0]["id"]
    revoked = run_cli("tenant", "revoke", "acme", "--key-id", one, env=db_env)
    assert revoked.exit_code == 0 and "revoked 1 key of tenant acme" in revoked.stdout
    table = run_cli("tenant", "list", env=db_env)
    assert table.exit_code == 0 and "revoked" in table.stdout and "active" in table.stdout

    rest = run_cli("tenant", "revoke", "acme", env=db_env)
    assert "revoked 1 key of tenant acme" in rest.stdout
    url = db_env["JOBFORGE_DATABASE_URL"]
    assert not key_is_stored(url, first["api_key"]) and not key_is_stored(url, second["api_key"])
    unknown = run_cli("tenant", "revoke", "acme", "--key-id", "nope", env=db_env)
    assert unknown.exit_code == 1 and "no active key with id nope" in unknown.stderr
