"""Database URLs as users write them, and the driver URLs jobforge uses internally."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

from jobforge.domain.errors import ConfigError

POSTGRES_SCHEMES = frozenset({"postgres", "postgresql"})


def backend_of(url: str) -> str:
    """`"sqlite"` or `"postgresql"`, by the URL's scheme (any `+driver` suffix ignored)."""
    scheme = url.split("://", 1)[0].split("+", 1)[0].lower()
    if scheme == "sqlite":
        return "sqlite"
    if scheme in POSTGRES_SCHEMES:
        return "postgresql"
    raise ConfigError(
        f"unsupported database URL scheme {scheme!r}: use sqlite:/// or postgresql://"
    )


def _parsed(url: str) -> URL:
    # make_url does not know the `postgres://` alias that Heroku-style URLs use.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    try:
        return make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with the URL in it
        raise ConfigError(f"invalid database URL: {exc}") from None


def sqlalchemy_url(url: str) -> URL:
    """The SQLAlchemy URL with jobforge's async driver (aiosqlite or asyncpg)."""
    parsed = _parsed(url)
    driver = "sqlite+aiosqlite" if backend_of(url) == "sqlite" else "postgresql+asyncpg"
    return parsed.set(drivername=driver)


def asyncpg_dsn(url: str) -> str:
    """A `postgresql://` DSN that asyncpg itself accepts (for raw connections and LISTEN)."""
    return _parsed(url).set(drivername="postgresql").render_as_string(hide_password=False)
