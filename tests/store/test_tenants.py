"""Tenants and API keys."""

from __future__ import annotations

import pytest

from jobforge.domain.errors import TenantExists, TenantNotFound
from jobforge.domain.tenants import digest_api_key, display_prefix, generate_api_key
from jobforge.store import Store


async def test_create_get_list_tenants(store: Store) -> None:
    acme = await store.create_tenant("acme")
    root = await store.create_tenant("root", is_admin=True)
    assert not acme.is_admin and root.is_admin
    assert await store.get_tenant("acme") == acme
    assert [t.name for t in await store.list_tenants()] == ["acme", "root"]
    with pytest.raises(TenantExists):
        await store.create_tenant("acme")
    with pytest.raises(TenantNotFound):
        await store.get_tenant("nobody")


async def test_api_keys_lifecycle(store: Store) -> None:
    await store.create_tenant("acme", is_admin=True)
    raw = generate_api_key()
    key = await store.add_api_key("acme", digest=digest_api_key(raw), prefix=display_prefix(raw))
    assert key.tenant == "acme" and key.active and len(key.id) >= 8
    found = await store.find_api_key(digest_api_key(raw))
    assert found is not None
    assert found[0] == key and found[1].name == "acme" and found[1].is_admin
    assert await store.find_api_key(digest_api_key("jf_wrong")) is None

    raw2 = generate_api_key()
    key2 = await store.add_api_key("acme", digest=digest_api_key(raw2), prefix="jf_x")
    assert [k.id for k in await store.list_api_keys("acme")] == [key.id, key2.id]
    assert await store.revoke_api_keys("acme", key_id=key.id) == 1
    assert await store.find_api_key(digest_api_key(raw)) is None
    assert await store.find_api_key(digest_api_key(raw2)) is not None
    assert await store.revoke_api_keys("acme") == 1
    assert await store.revoke_api_keys("acme") == 0
    keys = await store.list_api_keys("acme")
    assert len(keys) == 2 and not any(k.active for k in keys)


async def test_api_key_for_unknown_tenant(store: Store) -> None:
    with pytest.raises(TenantNotFound):
        await store.add_api_key("ghost", digest="0" * 64, prefix="jf_")
