"""API key -> `Principal`: who is calling and which tenant's jobs they may see.

Keys are looked up by their SHA-256 digest (the only form the store keeps) and then
compared with the stored digest in constant time. There is no cache: a revoked key is
refused on its very next request, at the price of one indexed lookup per request.
"""

from __future__ import annotations

from dataclasses import dataclass

from jobforge.api.errors import ApiError
from jobforge.domain.tenants import digest_api_key, key_matches
from jobforge.store.protocol import Store

MAX_KEY_LENGTH = 512
"""Longer bearer tokens are refused unhashed: no key we issue is anywhere near this long."""


@dataclass(frozen=True, kw_only=True)
class Principal:
    """The caller: their tenant, their key, and whether the key is an admin's."""

    tenant: str
    key_id: str
    is_admin: bool

    @property
    def scope(self) -> str | None:
        """The tenant filter for store calls: None (every tenant) for an admin."""
        return None if self.is_admin else self.tenant

    def scope_for(self, requested: str | None) -> str | None:
        """The scope of a call that names a tenant: admins may pick any (or all); anyone
        else may only name their own tenant."""
        if requested is None:
            return self.scope
        if not self.is_admin and requested != self.tenant:
            raise ApiError(403, "forbidden", "only an admin key may act on another tenant")
        return requested

    def owner_for(self, requested: str | None) -> str:
        """The tenant a new job belongs to: the caller's own unless an admin names one."""
        scope = self.scope_for(requested)
        return scope if scope is not None else self.tenant


def unauthorized(message: str) -> ApiError:
    """A 401 asking for a bearer token."""
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def bearer_token(authorization: str | None) -> str:
    """The key in an `Authorization: Bearer <key>` header, or a 401."""
    if not authorization:
        raise unauthorized("missing Authorization: Bearer <api key>")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise unauthorized("the Authorization header must be 'Bearer <api key>'")
    if len(token) > MAX_KEY_LENGTH:
        raise unauthorized("invalid API key")
    return token


async def authenticate(store: Store, key: str) -> Principal:
    """The principal of an active key, or a 401 for an unknown or revoked one."""
    found = await store.find_api_key(digest_api_key(key))
    # Re-checking the digest in constant time costs nothing and keeps the comparison
    # independent of how the store's index happens to compare strings.
    if found is None or not key_matches(key, found[0].digest) or not found[0].active:
        raise unauthorized("invalid or revoked API key")
    api_key, tenant = found
    return Principal(tenant=tenant.name, key_id=api_key.id, is_admin=tenant.is_admin)
