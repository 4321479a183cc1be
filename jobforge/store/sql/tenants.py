"""Statements on `jobforge_tenants` and `jobforge_api_keys`."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from jobforge.domain.errors import TenantExists, TenantNotFound
from jobforge.domain.tenants import ApiKey, Tenant, validate_tenant_name
from jobforge.store.sql import dialect_insert
from jobforge.store.tables import api_keys, tenants


def _tenant(row: Row[Any]) -> Tenant:
    return Tenant(name=row.name, is_admin=bool(row.is_admin), created_at=row.created_at)


def _key(row: Row[Any]) -> ApiKey:
    return ApiKey(
        id=row.id,
        tenant=row.tenant,
        digest=row.digest,
        prefix=row.prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


async def create_tenant(
    conn: AsyncConnection, name: str, *, is_admin: bool, now: datetime
) -> Tenant:
    """Insert a tenant; `TenantExists` if the name is taken (also under a race)."""
    validate_tenant_name(name)
    stmt = (
        dialect_insert(conn, tenants)
        .values(name=name, is_admin=is_admin, created_at=now)
        .on_conflict_do_nothing()
    )
    if (await conn.execute(stmt)).rowcount == 0:
        raise TenantExists(f"tenant {name!r} exists already")
    return Tenant(name=name, is_admin=is_admin, created_at=now)


async def get_tenant(conn: AsyncConnection, name: str) -> Tenant:
    row = (await conn.execute(select(tenants).where(tenants.c.name == name))).first()
    if row is None:
        raise TenantNotFound(f"tenant {name!r} not found")
    return _tenant(row)


async def list_tenants(conn: AsyncConnection) -> list[Tenant]:
    return [_tenant(r) for r in await conn.execute(select(tenants).order_by(tenants.c.name))]


async def add_api_key(
    conn: AsyncConnection, tenant: str, *, digest: str, prefix: str, now: datetime
) -> ApiKey:
    """Store a key digest for an existing tenant, under a short random id."""
    await get_tenant(conn, tenant)
    key = ApiKey(
        id=secrets.token_hex(8), tenant=tenant, digest=digest, prefix=prefix, created_at=now
    )
    await conn.execute(
        api_keys.insert().values(
            id=key.id, tenant=tenant, digest=digest, prefix=prefix, created_at=now
        )
    )
    return key


async def find_api_key(conn: AsyncConnection, digest: str) -> tuple[ApiKey, Tenant] | None:
    """The active key with this digest, and its tenant."""
    stmt = (
        select(
            api_keys, tenants.c.name, tenants.c.is_admin, tenants.c.created_at.label("t_created")
        )
        .join(tenants, tenants.c.name == api_keys.c.tenant)
        .where(api_keys.c.digest == digest, api_keys.c.revoked_at.is_(None))
    )
    row = (await conn.execute(stmt)).first()
    if row is None:
        return None
    tenant = Tenant(name=row.name, is_admin=bool(row.is_admin), created_at=row.t_created)
    return _key(row), tenant


async def list_api_keys(conn: AsyncConnection, tenant: str) -> list[ApiKey]:
    stmt = (
        select(api_keys)
        .where(api_keys.c.tenant == tenant)
        .order_by(api_keys.c.created_at, api_keys.c.id)
    )
    return [_key(r) for r in await conn.execute(stmt)]


async def revoke_api_keys(
    conn: AsyncConnection, tenant: str, *, key_id: str | None, now: datetime
) -> int:
    """Revoke one active key of the tenant, or all; returns how many were revoked."""
    stmt = update(api_keys).where(api_keys.c.tenant == tenant, api_keys.c.revoked_at.is_(None))
    if key_id is not None:
        stmt = stmt.where(api_keys.c.id == key_id)
    return (await conn.execute(stmt.values(revoked_at=now))).rowcount
