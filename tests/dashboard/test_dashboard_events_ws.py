"""`WS /api/v1/events` on a real server: authentication, tenant scope, pings, drops."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from jobforge.api.routes.events import create_events_router
from jobforge.config import Settings
from jobforge.control import JobControl
from jobforge.dashboard.context import DashboardContext
from jobforge.dashboard.routes import create_dashboard_router
from jobforge.domain.job import NewJob
from jobforge.events.memory import InProcessEventBus
from jobforge.store import Store
from tests.dashboard.conftest import CSRF_RE
from tests.dashboard.live_server import LiveServer


def ws_url(server: LiveServer, query: str = "") -> str:
    return server.url.replace("http://", "ws://") + "/api/v1/events" + query


def receive(ws: ClientConnection, timeout: float = 5) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(ws.recv(timeout=timeout))
    return message


def next_events(ws: ClientConnection, timeout: float = 5) -> dict[str, Any]:
    while True:
        message = receive(ws, timeout)
        if message["type"] == "events":
            return message


def submit(server: LiveServer, tenant: str, job_type: str = "email.send") -> str:
    result = server.call(lambda: server.control.submit(NewJob(type=job_type, tenant=tenant)))
    return str(result.job.id)


@pytest.fixture
def server(tmp_path: Path) -> Any:
    with LiveServer(tmp_path) as s:
        yield s


def test_a_handshake_without_credentials_is_refused(server: LiveServer) -> None:
    for url, headers in [
        (ws_url(server), {}),
        (ws_url(server, "?token=jf_wrong"), {}),
        (ws_url(server), {"Authorization": "Bearer jf_wrong"}),
    ]:
        with pytest.raises(InvalidStatus) as refused:
            connect(url, additional_headers=headers, open_timeout=5)
        assert refused.value.response.status_code == 403


def test_a_key_in_the_query_or_header_streams_its_tenants_events(server: LiveServer) -> None:
    key = server.key("acme")
    with (
        connect(ws_url(server, f"?token={key}")) as by_query,
        connect(ws_url(server), additional_headers={"Authorization": f"Bearer {key}"}) as by_header,
    ):
        assert receive(by_query) == {"type": "hello", "tenant": "acme", "admin": False}
        assert receive(by_header)["tenant"] == "acme"
        job_id = submit(server, "acme")
        for ws in (by_query, by_header):
            message = next_events(ws)
            assert message["counts"] == {"job_submitted": 1}
            assert [j["job_id"] for j in message["jobs"]] == [job_id]
            assert message["jobs"][0]["status"] == "pending"


def test_tenants_see_only_their_jobs_and_admins_see_all(server: LiveServer) -> None:
    acme, admin = server.key("acme"), server.key("ops", admin=True)
    with (
        connect(ws_url(server, f"?token={acme}")) as mine,
        connect(ws_url(server, f"?token={admin}")) as everyone,
    ):
        receive(mine), receive(everyone)
        theirs = submit(server, "other")
        ours = submit(server, "acme")
        seen_by_admin: set[str] = set()
        while len(seen_by_admin) < 2:
            seen_by_admin |= {j["job_id"] for j in next_events(everyone)["jobs"]}
        assert seen_by_admin == {theirs, ours}
        message = next_events(mine)
        assert [j["job_id"] for j in message["jobs"]] == [ours]
        assert all(j["tenant"] == "acme" for j in message["jobs"])


def login_cookie(server: LiveServer, key: str) -> str:
    with httpx.Client(base_url=server.url) as client:
        page = client.get("/login")
        token = CSRF_RE.search(page.text).group(1)  # type: ignore[union-attr]
        client.post("/login", data={"api_key": key, "csrf": token})
        return f"jobforge_session={client.cookies['jobforge_session']}"


def test_the_dashboard_session_cookie_works_from_this_origin_only(server: LiveServer) -> None:
    cookie = login_cookie(server, server.key("acme"))
    headers = {"Cookie": cookie}
    with connect(ws_url(server), additional_headers=headers, origin=server.url) as ws:  # type: ignore[arg-type]
        assert receive(ws)["tenant"] == "acme"
    with pytest.raises(InvalidStatus):
        connect(ws_url(server), additional_headers=headers, origin="http://evil.example")  # type: ignore[arg-type]


def events_app(contexts: list[DashboardContext], **overrides: Any) -> Any:
    """An app with only the dashboard routers, over a context the test can reach."""

    def factory(
        settings: Settings, store: Store, bus: InProcessEventBus, control: JobControl
    ) -> FastAPI:
        ctx = DashboardContext.create(settings, store, bus, control)
        for name, value in overrides.items():
            setattr(ctx, name, value)
        contexts.append(ctx)
        app = FastAPI()
        app.include_router(create_events_router(ctx), prefix="/api/v1")
        app.include_router(create_dashboard_router(ctx))
        return app

    return factory


def test_an_idle_stream_is_pinged(tmp_path: Path) -> None:
    contexts: list[DashboardContext] = []
    with LiveServer(tmp_path, app_factory=events_app(contexts, ping_seconds=0.2)) as server:
        key = server.key("acme")
        with connect(ws_url(server, f"?token={key}")) as ws:
            receive(ws)
            assert receive(ws, timeout=3) == {"type": "ping"}


def test_a_dropped_feed_closes_the_socket_with_try_again_later(tmp_path: Path) -> None:
    contexts: list[DashboardContext] = []
    with LiveServer(tmp_path, app_factory=events_app(contexts)) as server:
        key = server.key("acme")
        with connect(ws_url(server, f"?token={key}")) as ws:
            receive(ws)
            # The hub drops a feed when its client falls behind; ending every feed at once
            # exercises the same path in the sender.
            server.call(contexts[0].hub.close)
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    ws.recv(timeout=5)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1013


def test_revoking_the_key_ends_its_open_stream(tmp_path: Path) -> None:
    contexts: list[DashboardContext] = []
    with LiveServer(tmp_path, app_factory=events_app(contexts, ping_seconds=0.2)) as server:
        key, other = server.key("acme"), server.key("other")
        with (
            connect(ws_url(server, f"?token={key}")) as revoked,
            connect(ws_url(server, f"?token={other}")) as kept,
        ):
            receive(revoked), receive(kept)
            server.call(lambda: server.store.revoke_api_keys("acme"))
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    revoked.recv(timeout=5)
            assert closed.value.rcvd is not None
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1008, "key revoked")
            assert receive(kept, timeout=3) == {"type": "ping"}  # the other key streams on
