"""`jobforge tenant create|key|list|revoke`: tenants and their API keys.

These talk to the store named by `JOBFORGE_DATABASE_URL` directly (migrating it first), not
to a server: they are how the first key comes to exist. A key is printed once and stored
only as its SHA-256 digest.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.table import Table

from jobforge.cli import app
from jobforge.cli.output import JsonOption, fail, out, when
from jobforge.config import Settings
from jobforge.domain.errors import JobforgeError, TenantExists
from jobforge.domain.tenants import (
    ApiKey,
    Tenant,
    digest_api_key,
    display_prefix,
    generate_api_key,
    validate_tenant_name,
)
from jobforge.store import Store, open_store

T = TypeVar("T")

tenant_app = typer.Typer(help="Create tenants and manage their API keys.", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")

NameArgument = Annotated[str, typer.Argument(help="Tenant name: letters, digits, - _ .")]


def with_store(work: Callable[[Store], Awaitable[T]]) -> T:
    """Run `work` on the configured store, migrated; store errors become one line."""

    async def run() -> T:
        settings = Settings()
        store = open_store(
            settings.database_url, default_max_attempts=settings.default_max_attempts
        )
        try:
            await store.migrate()
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except TenantExists as exc:
        fail(f"{exc} (issue another key with `jobforge tenant key NAME`)")
    except (JobforgeError, ValueError) as exc:
        fail(str(exc))


async def issue_key(store: Store, tenant: str) -> str:
    """A new key for `tenant`; only its digest is stored, the key itself is returned once."""
    key = generate_api_key()
    await store.add_api_key(tenant, digest=digest_api_key(key), prefix=display_prefix(key))
    return key


async def create_tenant_with_key(store: Store, name: str, *, admin: bool) -> tuple[Tenant, str]:
    """Create a tenant and its first key (what `tenant create` and `jobforge up` do)."""
    tenant = await store.create_tenant(validate_tenant_name(name), is_admin=admin)
    return tenant, await issue_key(store, tenant.name)


def print_new_key(tenant: Tenant, key: str, *, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps({"tenant": tenant.name, "api_key": key}) + "\n")
        return
    role = "admin tenant" if tenant.is_admin else "tenant"
    out.print(f"{role} [bold]{tenant.name}[/bold] API key (shown only once, keep it safe):")
    out.print(key, markup=False)
    out.print(f"use it with: export JOBFORGE_API_KEY={key}", markup=False)


@tenant_app.command("create")
def create(
    name: NameArgument,
    admin: Annotated[bool, typer.Option("--admin", help="The key sees every tenant.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a tenant and print its first API key (once)."""
    tenant, key = with_store(lambda store: create_tenant_with_key(store, name, admin=admin))
    print_new_key(tenant, key, as_json=as_json)


@tenant_app.command("key")
def new_key(name: NameArgument, as_json: JsonOption = False) -> None:
    """Issue another API key for an existing tenant (printed once)."""

    async def work(store: Store) -> tuple[Tenant, str]:
        tenant = await store.get_tenant(name)
        return tenant, await issue_key(store, tenant.name)

    tenant, key = with_store(work)
    print_new_key(tenant, key, as_json=as_json)


@tenant_app.command("list")
def list_tenants(as_json: JsonOption = False) -> None:
    """List tenants with their keys (prefixes only; keys are never stored)."""

    async def work(store: Store) -> list[tuple[Tenant, list[ApiKey]]]:
        return [(t, await store.list_api_keys(t.name)) for t in await store.list_tenants()]

    rows = with_store(work)
    if as_json:
        sys.stdout.write(json.dumps([tenant_json(t, keys) for t, keys in rows]) + "\n")
        return
    table = Table(title="tenants", title_justify="left")
    for column in ("tenant", "admin", "created (UTC)", "key id", "key prefix", "key status"):
        table.add_column(column, no_wrap=True)
    for tenant, keys in rows:
        first = (tenant.name, "yes" if tenant.is_admin else "", when(tenant.created_at))
        if not keys:
            table.add_row(*first, "-", "-", "no keys")
        for index, key in enumerate(keys):
            status = "active" if key.active else "revoked"
            table.add_row(*(first if index == 0 else ("", "", "")), key.id, key.prefix, status)
    out.print(table)


def tenant_json(tenant: Tenant, keys: list[ApiKey]) -> dict[str, object]:
    return {
        "tenant": tenant.name,
        "admin": tenant.is_admin,
        "created_at": tenant.created_at.isoformat(),
        "keys": [{"id": k.id, "prefix": k.prefix, "active": k.active} for k in keys],
    }


@tenant_app.command("revoke")
def revoke(
    name: NameArgument,
    key_id: Annotated[
        str | None, typer.Option("--key-id", help="Revoke only this key (see `tenant list`).")
    ] = None,
) -> None:
    """Revoke every API key of a tenant, or only the one given by --key-id."""

    async def work(store: Store) -> int:
        await store.get_tenant(name)  # an unknown tenant is an error, not "0 revoked"
        return await store.revoke_api_keys(name, key_id=key_id)

    count = with_store(work)
    if key_id is not None and count == 0:
        fail(f"tenant {name} has no active key with id {key_id}")
    out.print(f"revoked {count} key{'' if count == 1 else 's'} of tenant {name}")
