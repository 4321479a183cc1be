"""`DashboardContext`: what the dashboard pages and the event stream share, per app.

Built once by the application factory and handed to `create_dashboard_router` and
`create_events_router`; nothing lives at module level, so two apps in one process (as in
the tests) never share a hub, a secret or a template cache.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import structlog
from jinja2 import Environment, FileSystemLoader, select_autoescape

from jobforge.control import JobControl
from jobforge.dashboard.auth import SecretHolder, SessionCodec, ensure_secret
from jobforge.dashboard.changes import StoreChangePoller
from jobforge.events import EventBus
from jobforge.events.coalesce import WINDOW_SECONDS
from jobforge.events.hub import LiveHub
from jobforge.store.protocol import Store

log = structlog.get_logger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
PING_SECONDS = 20.0
SEND_TIMEOUT_SECONDS = 10.0


class DashboardSettings(SecretHolder, Protocol):
    """The settings the dashboard reads (`jobforge.config.Settings` fits)."""

    max_payload_bytes: int
    default_max_attempts: int


@dataclass(kw_only=True)
class DashboardContext:
    """The store, verbs, live hub, session signer and templates of one app."""

    settings: DashboardSettings
    store: Store
    control: JobControl
    hub: LiveHub
    sessions: SessionCodec
    templates: Environment
    poller: StoreChangePoller | None = None
    ping_seconds: float = PING_SECONDS
    send_timeout_seconds: float = SEND_TIMEOUT_SECONDS

    async def start(self) -> None:
        """Start the live hub (and the SQLite change poller); idempotent and cheap. The
        throughput chart starts from the store's last 15 minutes, not from zero."""
        if self.hub.running:
            return
        await self.hub.start()
        await self.seed_throughput()
        if self.poller is not None:
            self.poller.start()

    async def seed_throughput(self) -> None:
        """Fill the hub's throughput ring from the store's history (best effort: an
        unreachable store leaves the chart to live events)."""
        try:
            now = await self.store.now()
            since = now - timedelta(seconds=WINDOW_SECONDS)
            samples = await self.store.throughput_history(since=since)
        except Exception:
            log.warning("throughput history unavailable", exc_info=True)
            return
        rows = [(s.tenant, s.second, s.completed, s.failed) for s in samples]
        # Up to this very second: what it has seen so far is stored; a late event of it
        # may go uncounted (the ring cannot tell whether history already holds it).
        self.hub.throughput.seed(rows, upto=int(now.timestamp()))

    async def close(self) -> None:
        if self.poller is not None:
            await self.poller.close()
        await self.hub.close()

    @classmethod
    def create(
        cls,
        settings: DashboardSettings,
        store: Store,
        bus: EventBus,
        control: JobControl,
        *,
        hub_interval: float = 0.25,
    ) -> DashboardContext:
        """A context over the app's services, with its own hub and session signer. On
        SQLite it also polls the store, for workers in other processes (see `changes`)."""
        hub = LiveHub(bus, interval=hub_interval)
        return cls(
            settings=settings,
            store=store,
            control=control,
            hub=hub,
            sessions=SessionCodec(ensure_secret(settings)),
            templates=template_environment(),
            poller=StoreChangePoller(store, hub) if store.dialect == "sqlite" else None,
        )


def template_environment() -> Environment:
    """Jinja2 with autoescaping on for every template: user data is always escaped."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["dt"] = format_time
    env.filters["pretty"] = pretty_json
    env.filters["actor"] = describe_actor
    return env


def format_time(value: datetime | None) -> str:
    """A UTC time as `2026-01-31 12:00:00` (the dashboard shows every time in UTC)."""
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def pretty_json(value: Any) -> str:
    """JSON indented for reading; the template escapes it like any other text."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def describe_actor(actor: str | None) -> str:
    """Who acted, for people: `key abc via the dashboard` / `key abc via the API`."""
    if not actor:
        return ""
    if actor.startswith("dashboard:"):
        return f"key {actor.removeprefix('dashboard:')} via the dashboard"
    return f"key {actor.removeprefix('api:')} via the API"
