"""One-time login links: a nonce is usable once until it expires (both backends)."""

from __future__ import annotations

from datetime import timedelta

from jobforge.store import Store


async def test_a_nonce_is_used_once_and_forgotten_after_it_expires(store: Store) -> None:
    now = await store.now()
    later = now + timedelta(minutes=15)
    assert await store.use_login_nonce("n1", expires_at=later) is True
    assert await store.use_login_nonce("n1", expires_at=later) is False
    assert await store.use_login_nonce("n2", expires_at=later) is True
    # An expired nonce is forgotten (its link is refused for its age before this is asked).
    assert await store.use_login_nonce("old", expires_at=now - timedelta(seconds=1)) is True
    assert await store.use_login_nonce("old", expires_at=later) is True
    assert await store.use_login_nonce("n1", expires_at=later) is False
