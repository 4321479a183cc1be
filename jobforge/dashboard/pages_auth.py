"""Login with an API key or a one-time link, and logout.

The login form itself is CSRF-protected by a double-submit token (a cookie and a hidden
field that must match), so another site cannot sign a visitor in under the attacker's key.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from jobforge.dashboard.auth import SESSION_COOKIE, csrf_ok, viewer_for_digest, viewer_for_key
from jobforge.dashboard.context import DashboardContext
from jobforge.dashboard.web import (
    checked_form,
    current_viewer,
    forbidden,
    form_text,
    redirect,
    render,
    safe_next,
    secure,
)

LOGIN_CSRF_COOKIE = "jobforge_login_csrf"


def create_auth_router(ctx: DashboardContext) -> APIRouter:
    router = APIRouter()

    @router.get("/login", include_in_schema=False)
    async def login_page(request: Request, next: str = "/") -> Response:
        return _login_form(ctx, request, next_url=safe_next(next))

    @router.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await request.form()
        next_url = safe_next(form_text(form, "next"))
        if not csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE), form_text(form, "csrf")):
            return _login_form(ctx, request, next_url=next_url, error="Form expired: try again.")
        found = await viewer_for_key(ctx.store, form_text(form, "api_key"))
        if found is None:
            return _login_form(
                ctx, request, next_url=next_url, error="Unknown or revoked API key.", status=401
            )
        response = _signed_in(ctx, request, found[1], next_url)
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return response

    @router.get("/login/link", include_in_schema=False)
    async def login_link(request: Request, token: str = "") -> Response:
        link = ctx.sessions.read_login_token(token)
        usable = (
            link is not None
            and await viewer_for_digest(ctx.store, link.digest) is not None
            and await ctx.store.use_login_nonce(link.nonce, expires_at=link.expires_at)
        )
        if link is None or not usable:
            return _login_form(
                ctx,
                request,
                next_url="/",
                error="This login link has expired or was already used. Sign in with a key.",
                status=401,
            )
        return _signed_in(ctx, request, link.digest, "/")

    @router.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        viewer = await current_viewer(ctx, request)
        if viewer is None:
            return RedirectResponse("/login", status_code=303)
        if await checked_form(request, viewer) is None:
            return forbidden(ctx, request, viewer)
        response = redirect(ctx, "/login", "Signed out.")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return secure(response)

    return router


def _login_form(
    ctx: DashboardContext,
    request: Request,
    *,
    next_url: str,
    error: str | None = None,
    status: int = 200,
) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        ctx,
        request,
        "login.html",
        viewer=None,
        status_code=status,
        csrf=token,
        next_url=next_url,
        error=error,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        path="/login",
        secure=request.url.scheme == "https",
    )
    return response


def _signed_in(ctx: DashboardContext, request: Request, digest: str, next_url: str) -> Response:
    cookie, _session = ctx.sessions.new_session(digest)
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=ctx.sessions.max_age,
        httponly=True,
        samesite="lax",
        path="/",
        secure=request.url.scheme == "https",
    )
    return secure(response)
