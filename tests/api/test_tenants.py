"""Keys and tenants: authentication, revocation, isolation on every endpoint, admin scope."""

from __future__ import annotations

import itertools
import uuid

import pytest

from jobforge.domain.tenants import digest_api_key
from tests.api.conftest import API, Api

AUTHENTICATED = [
    ("GET", "/jobs"),
    ("POST", "/jobs"),
    ("POST", "/jobs/batch"),
    ("GET", "/jobs/00000000-0000-4000-8000-000000000000"),
    ("POST", "/jobs/00000000-0000-4000-8000-000000000000/retry"),
    ("POST", "/jobs/00000000-0000-4000-8000-000000000000/cancel"),
    ("GET", "/dlq"),
    ("POST", "/dlq/retry"),
    ("DELETE", "/dlq"),
    ("GET", "/queues"),
    ("POST", "/queues/default/pause"),
    ("POST", "/queues/default/resume"),
    ("GET", "/metrics"),
    ("GET", "/workers"),
]


BAD_AUTHORIZATIONS = [
    None,
    "Bearer",
    "Bearer jf_not-a-key",
    "Basic dXNlcjpwYXNz",
    "jf_no_scheme",
    "Bearer " + "x" * 600,
]


async def test_every_endpoint_requires_a_valid_key(api: Api) -> None:
    await api.key("acme")  # keys exist; none of these is one of them
    client = api.client()
    for (method, path), authorization in itertools.product(AUTHENTICATED, BAD_AUTHORIZATIONS):
        headers = {"Authorization": authorization} if authorization else {}
        response = await client.request(method, f"{API}{path}", headers=headers, json={"type": "t"})
        assert response.status_code == 401, (method, path, authorization)
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json()["error"]["code"] == "unauthorized"


async def test_keys_are_stored_as_digests_only(api: Api) -> None:
    key = await api.key("acme")
    stored = await api.store.list_api_keys("acme")
    assert [k.digest for k in stored] == [digest_api_key(key)]
    assert all(key not in (k.digest, k.prefix) for k in stored)


async def test_revoked_key_is_refused_on_its_next_request(api: Api) -> None:
    key = await api.key("acme")
    other = await api.key("acme")
    client = api.client(key)
    assert (await client.get(f"{API}/jobs")).status_code == 200
    (revoked,) = [
        k for k in await api.store.list_api_keys("acme") if k.digest == digest_api_key(key)
    ]
    assert await api.store.revoke_api_keys("acme", key_id=revoked.id) == 1
    response = await client.get(f"{API}/jobs")
    assert response.status_code == 401
    assert (await api.client(other).get(f"{API}/jobs")).status_code == 200


async def _two_tenants_with_jobs(api: Api) -> tuple[object, object, dict[str, dict[str, object]]]:
    mine = await api.tenant_client("mine")
    theirs = await api.tenant_client("theirs")
    jobs = {
        "pending": await api.submit(theirs, queue="shared"),
        "dead": await api.submit(theirs, queue="their-dead"),
        "running": await api.submit(theirs, queue="their-running"),
    }
    await api.fail("their-dead", dead=True)
    await api.claim("their-running")
    await api.submit(mine, queue="shared")
    return mine, theirs, jobs


@pytest.mark.parametrize("verb", ["GET", "retry", "cancel"])
async def test_another_tenants_job_is_404(api: Api, verb: str) -> None:
    mine, _theirs, jobs = await _two_tenants_with_jobs(api)
    for job in jobs.values():
        job_id = uuid.UUID(str(job["id"]))
        before = await api.store.get_job(job_id, tenant=None)
        url = f"{API}/jobs/{job_id}"
        response = await (mine.get(url) if verb == "GET" else mine.post(f"{url}/{verb}"))  # type: ignore[attr-defined]
        assert response.status_code == 404, (verb, before.status)
        assert response.json()["error"]["code"] == "job_not_found"
        after = await api.store.get_job(job_id, tenant=None)
        assert (after.status, after.cancel_requested) == (before.status, before.cancel_requested)


async def test_lists_counts_queues_and_metrics_are_scoped(api: Api) -> None:
    mine, theirs, jobs = await _two_tenants_with_jobs(api)
    listed = (await mine.get(f"{API}/jobs")).json()  # type: ignore[attr-defined]
    assert listed["total"] == 1 and {j["tenant"] for j in listed["items"]} == {"mine"}
    by_id = (await mine.get(f"{API}/jobs", params={"q": str(jobs["pending"]["id"])})).json()  # type: ignore[attr-defined]
    assert by_id["items"] == [] and by_id["total"] == 0
    assert (await mine.get(f"{API}/dlq")).json()["total"] == 0  # type: ignore[attr-defined]
    queues = (await mine.get(f"{API}/queues")).json()["items"]  # type: ignore[attr-defined]
    assert [(q["name"], q["counts"]) for q in queues] == [("shared", {"pending": 1})]
    metrics = (await mine.get(f"{API}/metrics")).json()  # type: ignore[attr-defined]
    assert (metrics["tenant"], metrics["total_jobs"], metrics["dlq_jobs"]) == ("mine", 1, 0)
    theirs_metrics = (await theirs.get(f"{API}/metrics")).json()  # type: ignore[attr-defined]
    assert (theirs_metrics["total_jobs"], theirs_metrics["dlq_length"]) == (3, 1)


async def test_dlq_verbs_do_not_touch_another_tenant(api: Api) -> None:
    mine, _theirs, jobs = await _two_tenants_with_jobs(api)
    dead_id = str(jobs["dead"]["id"])
    retry = await mine.post(f"{API}/dlq/retry", json={"job_ids": [dead_id]})  # type: ignore[attr-defined]
    assert retry.json() == {"count": 0}
    assert (await mine.post(f"{API}/dlq/retry")).json() == {"count": 0}  # type: ignore[attr-defined]
    assert (await mine.delete(f"{API}/dlq")).json() == {"count": 0}  # type: ignore[attr-defined]
    assert (await mine.delete(f"{API}/dlq", params={"job_id": dead_id})).json() == {"count": 0}  # type: ignore[attr-defined]
    still = await api.store.get_job(uuid.UUID(dead_id), tenant=None)
    assert still.status.value == "dead"


async def test_pausing_a_queue_pauses_it_for_my_tenant_only(api: Api) -> None:
    mine, theirs, _jobs = await _two_tenants_with_jobs(api)
    paused = await mine.post(f"{API}/queues/shared/pause")  # type: ignore[attr-defined]
    assert paused.status_code == 200 and paused.json()["paused"] is True
    their_queues = (await theirs.get(f"{API}/queues")).json()["items"]  # type: ignore[attr-defined]
    assert {q["name"]: q["paused"] for q in their_queues}["shared"] is False
    claimed = await api.claim("shared")
    assert [j.tenant for j in claimed] == ["theirs"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/jobs", {"params": {"tenant": "theirs"}}),
        ("GET", "/dlq", {"params": {"tenant": "theirs"}}),
        ("POST", "/jobs", {"json": {"type": "t", "tenant": "theirs"}}),
        ("POST", "/jobs/batch", {"json": {"jobs": [{"type": "t", "tenant": "theirs"}]}}),
        ("POST", "/dlq/retry", {"json": {"tenant": "theirs"}}),
        ("DELETE", "/dlq", {"params": {"tenant": "theirs"}}),
        ("GET", "/queues", {"params": {"tenant": "theirs"}}),
        ("POST", "/queues/shared/pause", {"params": {"tenant": "theirs"}}),
        ("POST", "/queues/shared/resume", {"params": {"tenant": "theirs"}}),
        ("GET", "/metrics", {"params": {"tenant": "theirs"}}),
    ],
)
async def test_naming_another_tenant_is_403(
    api: Api, method: str, path: str, kwargs: dict[str, object]
) -> None:
    mine = await api.tenant_client("mine")
    response = await mine.request(method, f"{API}{path}", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    own = dict(kwargs)
    if "params" in own:
        own["params"] = {"tenant": "mine"}
        assert (await mine.request(method, f"{API}{path}", **own)).status_code in (200, 201)  # type: ignore[arg-type]


async def test_admin_key_sees_and_steers_every_tenant(api: Api) -> None:
    _mine, _theirs, jobs = await _two_tenants_with_jobs(api)
    admin = await api.tenant_client("ops", admin=True)
    listed = (await admin.get(f"{API}/jobs")).json()
    assert listed["total"] == 4 and {j["tenant"] for j in listed["items"]} == {"mine", "theirs"}
    only = (await admin.get(f"{API}/jobs", params={"tenant": "mine"})).json()
    assert only["total"] == 1
    shown = await admin.get(f"{API}/jobs/{jobs['pending']['id']}")
    assert shown.status_code == 200 and shown.json()["tenant"] == "theirs"
    assert (await admin.get(f"{API}/metrics")).json()["total_jobs"] == 4
    assert (await admin.get(f"{API}/metrics")).json()["tenant"] is None
    assert (await admin.get(f"{API}/dlq")).json()["total"] == 1
    on_behalf = await admin.post(f"{API}/jobs", json={"type": "t", "tenant": "mine"})
    assert on_behalf.status_code == 201 and on_behalf.json()["tenant"] == "mine"
    own = await admin.post(f"{API}/jobs", json={"type": "t"})
    assert own.json()["tenant"] == "ops"
    retried = await admin.post(f"{API}/jobs/{jobs['dead']['id']}/retry")
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    cancelled = await admin.post(f"{API}/jobs/{jobs['pending']['id']}/cancel")
    assert cancelled.json()["status"] == "cancelled"


async def test_admin_pause_applies_to_every_tenant(api: Api) -> None:
    _mine, _theirs, _jobs = await _two_tenants_with_jobs(api)
    admin = await api.tenant_client("ops", admin=True)
    assert (await admin.post(f"{API}/queues/shared/pause")).json()["paused"] is True
    assert await api.claim("shared") == []
    assert (await admin.post(f"{API}/queues/shared/resume")).json()["paused"] is False
    assert len(await api.claim("shared")) == 2


async def test_admin_dlq_verbs_span_tenants(api: Api) -> None:
    mine = await api.tenant_client("mine")
    await api.submit(mine, queue="dd")
    _m, _t, _jobs = await _two_tenants_with_jobs(api)
    await api.fail("dd", dead=True)
    admin = await api.tenant_client("ops", admin=True)
    assert (await admin.post(f"{API}/dlq/retry", json={"tenant": "mine"})).json() == {"count": 1}
    assert (await admin.delete(f"{API}/dlq")).json() == {"count": 1}
