"""`WS /api/v1/events`: live lifecycle events for the caller's tenant (every tenant for an
admin key), coalesced into a few messages per second.

Authentication, first match wins: `?token=<api key>`, `Authorization: Bearer <api key>`, or
the dashboard's session cookie (then the Origin must be this host, so another site cannot
open the stream with a visitor's cookie). A refused handshake is closed with 1008.

Messages are JSON text: `{"type": "hello", "tenant", "admin"}` once, then
`{"type": "events", "counts", "total", "jobs": [latest event per job], "truncated"}` per
interval with activity, and `{"type": "ping"}` when idle for `ping_seconds`. A client whose
queue fills up (it reads slower than events arrive) is closed with 1013 and should
reconnect and refetch; it never slows the hub or other clients. The key is checked again
every `ping_seconds`: once it is revoked, the stream is closed with 1008.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from jobforge.dashboard.auth import SESSION_COOKIE, Viewer, viewer_for_digest, viewer_for_key
from jobforge.dashboard.context import DashboardContext
from jobforge.events.hub import LiveFeed

POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


def create_events_router(ctx: DashboardContext) -> APIRouter:
    """The router holding `WS /events`; include it under `/api/v1`."""
    router = APIRouter()

    @router.websocket("/events")
    async def events(websocket: WebSocket, token: str | None = None) -> None:
        found = await authenticate_socket(ctx, websocket, token)
        if found is None:
            await websocket.close(code=POLICY_VIOLATION, reason="authentication required")
            return
        viewer, digest = found
        await ctx.start()
        await websocket.accept()
        feed = ctx.hub.connect(viewer.scope)

        async def still_allowed() -> bool:
            return await viewer_for_digest(ctx.store, digest) is not None

        try:
            hello = {"type": "hello", "tenant": viewer.tenant, "admin": viewer.is_admin}
            await websocket.send_text(json.dumps(hello))
            await stream(ctx, websocket, feed, still_allowed)
        except (WebSocketDisconnect, TimeoutError, OSError):
            pass  # the client left or stalled; nothing to tell it
        finally:
            ctx.hub.disconnect(feed)
            if websocket.client_state is WebSocketState.CONNECTED:
                with contextlib.suppress(Exception):
                    await websocket.close()

    return router


async def authenticate_socket(
    ctx: DashboardContext, websocket: WebSocket, token: str | None
) -> tuple[Viewer, str] | None:
    """The viewer behind the handshake and its key's digest, or None."""
    header = websocket.headers.get("authorization", "")
    scheme, _, bearer = header.partition(" ")
    key = token or (bearer.strip() if scheme.lower() == "bearer" else "")
    if key:
        return await viewer_for_key(ctx.store, key)
    session = ctx.sessions.read_session(websocket.cookies.get(SESSION_COOKIE))
    if session is None or not same_origin(websocket):
        return None
    viewer = await viewer_for_digest(ctx.store, session.digest)
    return None if viewer is None else (viewer, session.digest)


def same_origin(websocket: WebSocket) -> bool:
    """Whether the handshake's Origin is the host it was sent to (cookie auth only)."""
    origin = websocket.headers.get("origin")
    host = websocket.headers.get("host")
    return bool(origin and host and urlsplit(origin).netloc == host)


async def stream(
    ctx: DashboardContext,
    websocket: WebSocket,
    feed: LiveFeed,
    still_allowed: Callable[[], Awaitable[bool]],
) -> None:
    """Send the feed's messages until the client leaves or is dropped; ping when idle.
    Every `ping_seconds` the key is looked up again: revoking it ends the stream too."""
    incoming = asyncio.ensure_future(discard_incoming(websocket))
    checked = time.monotonic()
    try:
        while True:
            if time.monotonic() - checked >= ctx.ping_seconds:
                if not await still_allowed():
                    await websocket.close(code=POLICY_VIOLATION, reason="key revoked")
                    return
                checked = time.monotonic()
            message = asyncio.ensure_future(feed.next())
            done, _ = await asyncio.wait(
                {message, incoming},
                timeout=ctx.ping_seconds,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if message not in done:
                message.cancel()
                if incoming in done:
                    return
                await send(ctx, websocket, '{"type":"ping"}')
                continue
            text = message.result()
            if text is None:
                await websocket.close(code=TRY_AGAIN_LATER, reason="client too slow")
                return
            await send(ctx, websocket, text)
    finally:
        incoming.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await incoming


async def send(ctx: DashboardContext, websocket: WebSocket, text: str) -> None:
    # A client that stops reading fills its TCP window and would block this send forever;
    # the timeout turns that into a disconnect.
    await asyncio.wait_for(websocket.send_text(text), ctx.send_timeout_seconds)


async def discard_incoming(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, so its disconnect is noticed at once."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
