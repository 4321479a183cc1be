"""Login, logout, one-time links, session cookies and CSRF."""

from __future__ import annotations

import re
import uuid

from jobforge.dashboard.auth import LOGIN_LINK_PATH, SessionCodec, issue_login_token
from jobforge.domain.tenants import digest_api_key
from tests.dashboard.conftest import Dash, csrf


async def test_pages_redirect_to_login_until_signed_in(dash: Dash) -> None:
    client = dash.client()
    for path in ["/", "/jobs?status=dead", "/dlq", "/queues", "/jobs/new"]:
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")
    assert (await client.get("/ui/overview.json")).status_code == 401


async def test_login_sets_an_httponly_lax_session_and_returns_to_next(dash: Dash) -> None:
    key = await dash.key("acme")
    client = dash.client()
    token = await csrf(client, "/login")
    response = await client.post(
        "/login", data={"api_key": key, "csrf": token, "next": "/jobs?status=dead"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/jobs?status=dead"
    cookie = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith("jobforge_session=")
    )
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert key not in cookie
    page = await client.get("/")
    assert page.status_code == 200
    assert "acme" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")


async def test_login_refuses_a_bad_key_and_an_open_redirect(dash: Dash) -> None:
    key = await dash.key("acme")
    client = dash.client()
    token = await csrf(client, "/login")
    bad = await client.post("/login", data={"api_key": "jf_nope", "csrf": token})
    assert bad.status_code == 401
    assert "Unknown or revoked API key" in bad.text
    token = await csrf(client, "/login")
    response = await client.post(
        "/login", data={"api_key": key, "csrf": token, "next": "//evil.example/x"}
    )
    assert response.headers["location"] == "/"


async def test_login_form_needs_its_csrf_token(dash: Dash) -> None:
    key = await dash.key("acme")
    client = dash.client()
    response = await client.post("/login", data={"api_key": key, "csrf": "forged"})
    assert response.status_code == 200
    assert "Form expired" in response.text
    assert "jobforge_session" not in client.cookies


async def test_logout_needs_csrf_and_ends_the_session(dash: Dash) -> None:
    client = await dash.browser(await dash.key("acme"))
    refused = await client.post("/logout", data={})
    assert refused.status_code == 403
    assert (await client.get("/")).status_code == 200
    token = await csrf(client, "/")
    response = await client.post("/logout", data={"csrf": token})
    assert response.status_code == 303
    assert "jobforge_session" not in client.cookies
    assert (await client.get("/")).status_code == 303


async def test_revoking_the_key_ends_its_dashboard_session(dash: Dash) -> None:
    client = await dash.browser(await dash.key("acme"))
    assert (await client.get("/")).status_code == 200
    await dash.store.revoke_api_keys("acme")
    assert (await client.get("/")).status_code == 303


async def test_a_tampered_session_cookie_is_refused(dash: Dash) -> None:
    client = await dash.browser(await dash.key("acme"))
    value = client.cookies["jobforge_session"]
    client.cookies.clear()
    client.cookies.set("jobforge_session", value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))
    assert (await client.get("/")).status_code == 303


async def test_one_time_login_link_works_once(dash: Dash) -> None:
    key = await dash.key("ops", admin=True)
    path = issue_login_token(dash.settings, key)
    assert path.startswith(LOGIN_LINK_PATH + "?token=")
    assert key not in path
    client = dash.client()
    first = await client.get(path)
    assert first.status_code == 303
    assert first.headers["location"] == "/"
    assert "(admin)" in (await client.get("/")).text
    again = await dash.client().get(path)
    assert again.status_code == 401
    assert "already used" in again.text
    async with dash.restarted(dash.client()) as restarted:  # a restart does not forget it
        assert (await restarted.get(path)).status_code == 401
    fresh = issue_login_token(dash.settings, key)
    async with dash.restarted(dash.client()) as other_process:  # nor another process
        assert (await other_process.get(fresh)).status_code == 303
    assert (await dash.client().get(fresh)).status_code == 401


async def test_a_link_signed_with_another_secret_is_refused(dash: Dash) -> None:
    key = await dash.key("ops", admin=True)
    forged = SessionCodec("some-other-secret").login_token(digest_api_key(key))
    response = await dash.client().get(f"{LOGIN_LINK_PATH}?token={forged}")
    assert response.status_code == 401


async def test_every_post_form_is_refused_without_the_session_csrf_token(dash: Dash) -> None:
    client = await dash.browser(await dash.key("acme"))
    job_id = await dash.submit("acme")
    posts = {
        "/jobs/new": {"type": "email.send", "payload": "{}"},
        f"/jobs/{job_id}/cancel": {},
        "/jobs/bulk": {"action": "cancel", "target": "all", "confirm": "yes"},
        "/dlq/retry": {},
        "/dlq/purge": {"confirm": "purge"},
        "/queues/default/pause": {},
    }
    for path, data in posts.items():
        for token in (None, "wrong"):
            form = dict(data, **({"csrf": token} if token else {}))
            response = await client.post(path, data=form)
            assert response.status_code == 403, path
    job = await dash.store.get_job(uuid.UUID(job_id), tenant=None)
    assert job.status.value == "pending"  # nothing above took effect
    queues = await dash.store.list_queues(tenant=None)
    assert not any(q.paused for q in queues)


def test_csrf_tokens_differ_per_session() -> None:
    codec = SessionCodec("s")
    (_, a), (_, b) = codec.new_session("d"), codec.new_session("d")
    assert a.csrf != b.csrf
    assert re.fullmatch(r"[A-Za-z0-9_\-]{20,}", a.csrf)
