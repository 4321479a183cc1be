"""A client that stops reading is dropped over a real socket, and nobody else notices.

The slow client speaks just enough WebSocket to open the stream, with a tiny receive
buffer, and then never reads: the server's sends back up until one times out (or its feed
overflows first: `tests/events` covers that alone), the hub forgets it, and the server
closes the connection, while a reading client keeps receiving throughout.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time
from pathlib import Path

from fastapi import FastAPI
from websockets.sync.client import connect

from jobforge.api.routes.events import create_events_router
from jobforge.config import Settings
from jobforge.control import JobControl
from jobforge.dashboard.context import DashboardContext
from jobforge.dashboard.routes import create_dashboard_router
from jobforge.domain.job import NewJob
from jobforge.events.memory import InProcessEventBus
from jobforge.store import Store
from tests.dashboard.live_server import LiveServer


def open_and_stall(server: LiveServer, key: str) -> socket.socket:
    """A WebSocket handshake on a socket with a tiny receive buffer that is then not read."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    nonce = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /api/v1/events?token={key} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {nonce}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def drained_to_the_end(sock: socket.socket, timeout: float) -> bool:
    """Read everything the server sent; True if it then closed the connection."""
    sock.settimeout(timeout)
    try:
        while sock.recv(1 << 16):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


def test_a_client_that_stops_reading_is_dropped_and_others_keep_receiving(
    tmp_path: Path,
) -> None:
    contexts: list[DashboardContext] = []

    def factory(
        settings: Settings, store: Store, bus: InProcessEventBus, control: JobControl
    ) -> FastAPI:
        # Fast flushes of large messages fill the socket buffers within seconds.
        ctx = DashboardContext.create(settings, store, bus, control, hub_interval=0.02)
        ctx.send_timeout_seconds = 1.0
        contexts.append(ctx)
        app = FastAPI()
        app.include_router(create_events_router(ctx), prefix="/api/v1")
        app.include_router(create_dashboard_router(ctx))
        return app

    with LiveServer(tmp_path, app_factory=factory) as server:
        key = server.key("acme")
        hub = contexts[0].hub
        url = server.url.replace("http://", "ws://") + f"/api/v1/events?token={key}"
        with connect(url, max_size=None) as reader:
            assert json.loads(reader.recv(timeout=5))["type"] == "hello"
            slow = open_and_stall(server, key)
            assert server.call(lambda: asyncio.sleep(0.2, hub.clients)) == 2

            async def flood() -> None:
                while True:
                    jobs = [NewJob(type="x" * 150, tenant="acme") for _ in range(200)]
                    await server.control.submit_many(jobs)
                    await asyncio.sleep(0.01)

            task = server.call(lambda: asyncio.sleep(0, asyncio.ensure_future(flood())))
            try:
                deadline = time.monotonic() + 30
                received = 0
                while server.call(lambda: asyncio.sleep(0, hub.clients)) == 2:
                    assert time.monotonic() < deadline, "the stalled client was never dropped"
                    received += json.loads(reader.recv(timeout=5))["type"] == "events"
                assert received > 0
                # The reader goes on receiving after the drop.
                assert json.loads(reader.recv(timeout=5))["type"] == "events"
            finally:
                server.call(lambda: asyncio.sleep(0, task.cancel()))
            assert drained_to_the_end(slow, timeout=20), "the server kept the stalled socket"
            slow.close()
