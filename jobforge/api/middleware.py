"""ASGI middleware: request body limits (413) and request metrics.

`BodyLimitMiddleware` runs before routing and refuses an oversized body from its
`Content-Length` without reading it, or, when the length is absent or lies, once the bytes
actually received pass the limit. The body read so far is then replayed to the app, so
nothing downstream sees a truncated request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobforge.api.errors import envelope
from jobforge.api.openapi import RouteTemplates
from jobforge.observability.metrics import HTTP_REQUEST_SECONDS, HTTP_REQUESTS

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

LimitFor = Callable[[str, str], int | None]
"""(method, path) -> the body limit in bytes, or None for no limit."""


class BodyLimitMiddleware:
    """Refuse request bodies larger than `limit_for(method, path)` with a 413 envelope."""

    def __init__(self, app: ASGIApp, *, limit_for: LimitFor) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["method"], scope["path"])
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(send, limit)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body.extend(message.get("body", b""))
            more = message.get("more_body", False)
            if len(body) > limit:
                await _too_large(send, limit)
                return
        await self.app(scope, _replay(bytes(body), receive), send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps(
        envelope(
            "payload_too_large",
            f"the request body exceeds {limit} bytes",
            {"limit": limit},
        )
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestMetricsMiddleware:
    """Count requests and time them by route template (never by raw path: ids would make
    one series per job)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._templates: RouteTemplates | None = None

    def _template(self, scope: Scope) -> str:
        if self._templates is None:
            paths = list(scope["app"].openapi().get("paths", {}))
            self._templates = RouteTemplates(paths)
        return self._templates.match(scope["path"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            template = self._template(scope) if "app" in scope else "unmatched"
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            HTTP_REQUESTS.labels(method, template, str(status)).inc()
            HTTP_REQUEST_SECONDS.labels(method, template).observe(time.perf_counter() - started)
