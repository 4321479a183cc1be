"""Who is looking at the dashboard: API-key login, the signed session cookie, CSRF tokens and
the one-time login links that `jobforge up` prints.

The session cookie is signed (itsdangerous), HttpOnly and SameSite=Lax, and holds the key's
digest (never the key) and a random CSRF token. Every request looks the digest up again, so
revoking a key ends its dashboard sessions at once, exactly as it ends its API access. Every
form POST must carry the session's CSRF token; SameSite=Lax alone would still let another
site's top-level form POST through in older browsers.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from itsdangerous import BadSignature, URLSafeTimedSerializer

from jobforge.domain.tenants import digest_api_key, key_matches
from jobforge.store.protocol import Store

SESSION_COOKIE = "jobforge_session"
SESSION_MAX_AGE = 12 * 3600
LOGIN_TOKEN_MAX_AGE = 15 * 60
LOGIN_LINK_PATH = "/login/link"
MAX_KEY_LENGTH = 512


class SecretHolder(Protocol):
    """Settings with a (possibly unset) `secret_key`, as `jobforge.config.Settings`."""

    secret_key: str | None


def ensure_secret(settings: SecretHolder) -> str:
    """The signing secret: `JOBFORGE_SECRET_KEY`, or a random one generated now and kept on
    these settings, so the login link printed by `jobforge up` and the app serving it agree.
    Several API processes must share `JOBFORGE_SECRET_KEY` for sessions to work across them.
    """
    if not settings.secret_key:
        settings.secret_key = secrets.token_urlsafe(32)
    return settings.secret_key


@dataclass(frozen=True, kw_only=True)
class Viewer:
    """A signed-in dashboard user (or an API client on the event stream)."""

    tenant: str
    is_admin: bool
    key_id: str
    key_prefix: str
    csrf: str = ""

    @property
    def scope(self) -> str | None:
        """The tenant filter for store calls: None (every tenant) for an admin."""
        return None if self.is_admin else self.tenant

    @property
    def actor(self) -> str:
        """Who acted, as recorded with events: this key, from the dashboard."""
        return f"dashboard:{self.key_id}"


async def viewer_for_digest(store: Store, digest: str, *, csrf: str = "") -> Viewer | None:
    """The viewer of an active key with this digest, or None (unknown or revoked)."""
    found = await store.find_api_key(digest)
    if found is None or not found[0].active:
        return None
    key, tenant = found
    return Viewer(
        tenant=tenant.name,
        is_admin=tenant.is_admin,
        key_id=key.id,
        key_prefix=key.prefix,
        csrf=csrf,
    )


async def viewer_for_key(store: Store, key: str) -> tuple[Viewer, str] | None:
    """The viewer of a presented API key and the key's digest; None if invalid or revoked."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    found = await store.find_api_key(digest_api_key(key))
    # The store found the row by digest; comparing again in constant time keeps the check
    # independent of how the database compares strings.
    if found is None or not found[0].active or not key_matches(key, found[0].digest):
        return None
    api_key, tenant = found
    viewer = Viewer(
        tenant=tenant.name, is_admin=tenant.is_admin, key_id=api_key.id, key_prefix=api_key.prefix
    )
    return viewer, api_key.digest


@dataclass(frozen=True, kw_only=True)
class Session:
    """What the session cookie carries."""

    digest: str
    csrf: str


@dataclass(frozen=True, kw_only=True)
class LoginToken:
    """What a one-time login link signs: the key's digest and a nonce, until `expires_at`."""

    digest: str
    nonce: str
    expires_at: datetime


class SessionCodec:
    """Signs and reads session cookies and one-time login tokens with the app's secret."""

    def __init__(self, secret: str, *, max_age: int = SESSION_MAX_AGE) -> None:
        self._secret = secret
        self._sessions = URLSafeTimedSerializer(secret, salt="jobforge.dashboard.session")
        self._links = URLSafeTimedSerializer(secret, salt="jobforge.dashboard.login-link")
        self._max_age = max_age

    @property
    def max_age(self) -> int:
        return self._max_age

    def signer(self, salt: str) -> URLSafeTimedSerializer:
        """A serializer with this secret for another purpose (its own salt)."""
        return URLSafeTimedSerializer(self._secret, salt=salt)

    def new_session(self, digest: str) -> tuple[str, Session]:
        """A fresh session (new CSRF token) for a key digest, and its cookie value."""
        session = Session(digest=digest, csrf=secrets.token_urlsafe(24))
        return self._sessions.dumps({"d": session.digest, "c": session.csrf}), session

    def read_session(self, cookie: str | None) -> Session | None:
        """The session in a cookie, or None if absent, tampered with or expired."""
        if not cookie:
            return None
        try:
            data: Any = self._sessions.loads(cookie, max_age=self._max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not {"d", "c"} <= data.keys():
            return None
        return Session(digest=str(data["d"]), csrf=str(data["c"]))

    def read_login_token(self, token: str) -> LoginToken | None:
        """What a valid, unexpired login token carries; None otherwise. Whether it was used
        already is the store's to say (`Store.use_login_nonce`), so that a link works once
        across restarts and API processes."""
        try:
            data, signed_at = self._links.loads(
                token, max_age=LOGIN_TOKEN_MAX_AGE, return_timestamp=True
            )
        except BadSignature:
            return None
        if not isinstance(data, dict) or not {"d", "n"} <= data.keys():
            return None
        expires = signed_at + timedelta(seconds=LOGIN_TOKEN_MAX_AGE)
        return LoginToken(digest=str(data["d"]), nonce=str(data["n"]), expires_at=expires)

    def login_token(self, digest: str) -> str:
        """A one-time login token for the key with this digest."""
        return self._links.dumps({"d": digest, "n": secrets.token_urlsafe(12)})


def csrf_ok(expected: str | None, presented: str | None) -> bool:
    """Whether a form's CSRF token is the expected one (constant-time)."""
    if not expected or not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())


def issue_login_token(settings: SecretHolder, api_key: str) -> str:
    """A one-time dashboard login link (a URL path with its query) for `api_key`.

    For `jobforge up`, which prints `http://HOST:PORT` + this path. Valid for 15 minutes and
    once (the store remembers used links, across restarts and processes); it signs the
    key's digest, so the key itself never appears in the URL.
    Call it with the same `Settings` object the app is created with (see `ensure_secret`).
    """
    codec = SessionCodec(ensure_secret(settings))
    return f"{LOGIN_LINK_PATH}?token={codec.login_token(digest_api_key(api_key))}"
