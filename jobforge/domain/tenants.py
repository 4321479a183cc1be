"""Tenants and API keys: keys are random, shown once, and stored only as SHA-256 digests."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

API_KEY_PREFIX = "jf_"
_KEY_BYTES = 32


@dataclass(frozen=True, kw_only=True)
class Tenant:
    """A customer of the job system; every job belongs to exactly one tenant."""

    name: str
    is_admin: bool
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class ApiKey:
    """An API key as stored: its digest, never the key itself."""

    id: str
    tenant: str
    digest: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def generate_api_key() -> str:
    """A new random key: the `jf_` prefix and 32 random bytes, URL-safe."""
    return API_KEY_PREFIX + secrets.token_urlsafe(_KEY_BYTES)


def digest_api_key(key: str) -> str:
    """The SHA-256 hex digest under which a key is stored and looked up."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_matches(key: str, digest: str) -> bool:
    """Compare a presented key with a stored digest in constant time."""
    return hmac.compare_digest(digest_api_key(key), digest)


def display_prefix(key: str) -> str:
    """The first characters of a key, safe to show in lists to tell keys apart."""
    return key[: len(API_KEY_PREFIX) + 6]


def validate_tenant_name(name: str) -> str:
    """Tenant names are short identifiers: letters, digits, `-`, `_` and `.`."""
    if not 1 <= len(name) <= 64 or not all(c.isalnum() or c in "-_." for c in name):
        raise ValueError(
            f"tenant name must be 1..64 letters, digits, '-', '_' or '.', got {name!r}"
        )
    return name
