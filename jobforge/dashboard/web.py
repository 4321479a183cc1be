"""What every dashboard page shares: the signed-in viewer, rendering with security headers,
CSRF-checked forms, redirects with a one-shot flash message.

Pages stay explicit: each handler asks for its viewer and returns the login redirect itself,
rather than relying on an exception handler the host app might override.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData

from jobforge.dashboard.auth import SESSION_COOKIE, Viewer, csrf_ok, viewer_for_digest
from jobforge.dashboard.context import DashboardContext

FLASH_COOKIE = "jobforge_flash"
FLASH_MAX_AGE = 60
SECURITY_HEADERS = {
    # Only our own scripts and styles: user data can never become code, even if a template
    # forgot to escape it. The WebSocket goes to this same host.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self' ws: wss:; frame-ancestors 'none'; form-action 'self'; "
        "base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


async def current_viewer(ctx: DashboardContext, request: Request) -> Viewer | None:
    """The signed-in viewer, or None (no, bad or expired cookie, or a revoked key)."""
    session = ctx.sessions.read_session(request.cookies.get(SESSION_COOKIE))
    if session is None:
        return None
    await ctx.start()  # idempotent; covers hosts that skip the router's lifespan
    return await viewer_for_digest(ctx.store, session.digest, csrf=session.csrf)


def safe_next(target: str | None) -> str:
    """A post-login destination on this site only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return "/"
    return target


def login_redirect(request: Request) -> RedirectResponse:
    """Send an anonymous visitor to the login page, remembering where they were going."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _flash_signer(ctx: DashboardContext) -> URLSafeTimedSerializer:
    return ctx.sessions.signer("jobforge.dashboard.flash")


def redirect(
    ctx: DashboardContext, url: str, message: str | None = None, *, error: bool = False
) -> RedirectResponse:
    """A 303 to `url`, carrying a message shown once on the next page."""
    response = RedirectResponse(safe_next(url), status_code=303)
    if message:
        value = _flash_signer(ctx).dumps({"m": message, "e": error})
        response.set_cookie(
            FLASH_COOKIE, value, max_age=FLASH_MAX_AGE, httponly=True, samesite="lax", path="/"
        )
    return response


def _pop_flash(ctx: DashboardContext, request: Request) -> dict[str, Any] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        data: Any = _flash_signer(ctx).loads(raw, max_age=FLASH_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    return {"message": str(data.get("m", "")), "error": bool(data.get("e"))}


def render(
    ctx: DashboardContext,
    request: Request,
    template: str,
    *,
    viewer: Viewer | None,
    status_code: int = 200,
    **data: Any,
) -> HTMLResponse:
    """A page from its template (autoescaped), with the flash message and security headers."""
    flash = _pop_flash(ctx, request)
    html = ctx.templates.get_template(template).render(
        viewer=viewer,
        csrf=viewer.csrf if viewer else data.pop("csrf", ""),
        path=request.url.path,
        flash=flash,
        **data,
    )
    response = HTMLResponse(html, status_code=status_code)
    secure(response)
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def secure(response: Response) -> Response:
    """Add the dashboard's security headers to a response."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


async def checked_form(request: Request, viewer: Viewer) -> FormData | None:
    """The posted form if it carries this session's CSRF token, else None."""
    form = await request.form()
    token = form.get("csrf")
    return form if csrf_ok(viewer.csrf, token if isinstance(token, str) else None) else None


def forbidden(ctx: DashboardContext, request: Request, viewer: Viewer | None) -> HTMLResponse:
    """The page for a form without a valid CSRF token (expired page or a forged post)."""
    return render(
        ctx,
        request,
        "error.html",
        viewer=viewer,
        status_code=403,
        title="Form expired",
        message="This form has expired or did not come from this dashboard. Reload and retry.",
    )


def not_found(ctx: DashboardContext, request: Request, viewer: Viewer) -> HTMLResponse:
    return render(
        ctx,
        request,
        "error.html",
        viewer=viewer,
        status_code=404,
        title="Not found",
        message="No such job is visible to this key.",
    )


def form_text(form: FormData, name: str, default: str = "") -> str:
    """A text field of a form ('' for absent or a file)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else default
