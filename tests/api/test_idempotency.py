"""Idempotency keys: replay (200 + header), conflict (409), per-tenant scope, and the race
of 50 identical concurrent requests, which must create exactly one job."""

from __future__ import annotations

import asyncio

import pytest

from tests.api.conftest import API, Api

BODY = {"type": "email.send", "queue": "emails", "payload": {"to": "ada@example.com"}}


@pytest.mark.parametrize("where", ["header", "body", "both"])
async def test_replay_returns_the_original_with_200(api: Api, where: str) -> None:
    client = await api.tenant_client("acme")
    headers = {"Idempotency-Key": "k-1"} if where in ("header", "both") else {}
    body = BODY | ({"idempotency_key": "k-1"} if where in ("body", "both") else {})
    first = await client.post(f"{API}/jobs", json=body, headers=headers)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    again = await client.post(f"{API}/jobs", json=body, headers=headers)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["idempotency_key"] == "k-1"
    assert (await client.get(f"{API}/jobs")).json()["total"] == 1


async def test_replay_after_the_job_moved_on_returns_its_current_state(api: Api) -> None:
    client = await api.tenant_client("acme")
    first = await client.post(f"{API}/jobs", json=BODY, headers={"Idempotency-Key": "k"})
    await api.fail("emails", dead=True)
    again = await client.post(f"{API}/jobs", json=BODY, headers={"Idempotency-Key": "k"})
    assert again.status_code == 200
    assert (again.json()["id"], again.json()["status"]) == (first.json()["id"], "dead")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"payload": {"to": "bob@example.com"}}, "payload"),
        ({"type": "email.other"}, "type"),
        ({"queue": "other"}, "queue"),
        ({"priority": 5}, "priority"),
        ({"max_attempts": 9}, "max_attempts"),
        ({"timeout_seconds": 3}, "timeout_seconds"),
        ({"run_at": "2099-01-01T00:00:00Z"}, "run_at"),
    ],
)
async def test_same_key_different_request_is_409(
    api: Api, change: dict[str, object], field: str
) -> None:
    client = await api.tenant_client("acme")
    first = await client.post(f"{API}/jobs", json=BODY, headers={"Idempotency-Key": "k"})
    assert first.status_code == 201
    response = await client.post(
        f"{API}/jobs", json=BODY | change, headers={"Idempotency-Key": "k"}
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "idempotency_conflict"
    assert error["details"]["differing_fields"] == [field]
    assert error["details"]["existing_job_id"] == first.json()["id"]
    assert (await client.get(f"{API}/jobs")).json()["total"] == 1


async def test_equal_numbers_are_the_same_request(api: Api) -> None:
    client = await api.tenant_client("acme")
    body = BODY | {"payload": {"n": 1.0}, "max_attempts": 3}
    await client.post(f"{API}/jobs", json=body, headers={"Idempotency-Key": "k"})
    same = await client.post(
        f"{API}/jobs", json=BODY | {"payload": {"n": 1}}, headers={"Idempotency-Key": "k"}
    )
    assert same.status_code == 200  # default max_attempts (3) is the same request too
    flag = await client.post(
        f"{API}/jobs", json=BODY | {"payload": {"n": True}}, headers={"Idempotency-Key": "k"}
    )
    assert flag.status_code == 409


async def test_keys_are_scoped_per_tenant(api: Api) -> None:
    a = await api.tenant_client("a")
    b = await api.tenant_client("b")
    ra = await a.post(f"{API}/jobs", json=BODY, headers={"Idempotency-Key": "shared"})
    rb = await b.post(
        f"{API}/jobs", json=BODY | {"payload": {}}, headers={"Idempotency-Key": "shared"}
    )
    assert (ra.status_code, rb.status_code) == (201, 201)
    assert ra.json()["id"] != rb.json()["id"]
    assert rb.json()["tenant"] == "b"


async def test_header_and_body_must_agree(api: Api) -> None:
    client = await api.tenant_client("acme")
    response = await client.post(
        f"{API}/jobs", json=BODY | {"idempotency_key": "a"}, headers={"Idempotency-Key": "b"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body.idempotency_key"


@pytest.mark.parametrize("key", ["", " ", "x" * 256, "tab\there", "é"])
async def test_bad_keys_are_422(api: Api, key: str) -> None:
    client = await api.tenant_client("acme")
    response = await client.post(f"{API}/jobs", json=BODY | {"idempotency_key": key})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body.idempotency_key"


async def test_batch_replays_and_conflicts(api: Api) -> None:
    client = await api.tenant_client("acme")
    jobs = [BODY | {"idempotency_key": f"b-{i}", "payload": {"i": i}} for i in range(3)]
    first = await client.post(f"{API}/jobs/batch", json={"jobs": jobs})
    assert (first.json()["created"], first.json()["replayed"]) == (3, 0)
    more = [*jobs, BODY | {"idempotency_key": "b-3"}]
    again = await client.post(f"{API}/jobs/batch", json={"jobs": more})
    assert again.status_code == 201
    assert (again.json()["created"], again.json()["replayed"]) == (1, 3)
    assert [j["id"] for j in again.json()["jobs"][:3]] == [j["id"] for j in first.json()["jobs"]]
    changed = [jobs[0], BODY | {"idempotency_key": "b-1", "payload": {"i": 99}}]
    conflict = await client.post(f"{API}/jobs/batch", json={"jobs": changed})
    assert conflict.status_code == 409
    assert conflict.json()["error"]["details"]["index"] == 1
    repeated = [BODY | {"idempotency_key": "dup"}, BODY | {"idempotency_key": "dup"}]
    dup = await client.post(f"{API}/jobs/batch", json={"jobs": repeated})
    assert dup.status_code == 422
    assert dup.json()["error"]["details"][0]["field"] == "body.jobs.1.idempotency_key"


async def test_fifty_concurrent_identical_requests_create_one_job(api: Api) -> None:
    client = await api.tenant_client("acme")
    started = asyncio.Event()
    in_flight = 0
    peak = 0
    enqueue = api.store.enqueue_jobs

    async def counting_enqueue(jobs):  # type: ignore[no-untyped-def]
        # Records how many enqueues overlap, to prove the requests really raced.
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            await started.wait()
            return await enqueue(jobs)
        finally:
            in_flight -= 1

    api.store.enqueue_jobs = counting_enqueue  # type: ignore[method-assign]
    try:
        tasks = [
            asyncio.create_task(
                client.post(f"{API}/jobs", json=BODY, headers={"Idempotency-Key": "race"})
            )
            for _ in range(50)
        ]
        while in_flight < 50:
            await asyncio.sleep(0.01)
        started.set()  # release all 50 into the store at once
        responses = await asyncio.gather(*tasks)
    finally:
        del api.store.enqueue_jobs  # type: ignore[method-assign]
    assert peak == 50
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 49 + [201], statuses
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 49
    listed = (await client.get(f"{API}/jobs", params={"q": "race"})).json()
    assert listed["total"] == 1
