"""`/api/v1/jobs`: submit, batch, list with every filter and both paging styles, show,
retry and cancel — on both store backends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests.api.conftest import API, Api


async def test_submit_returns_the_whole_job(api: Api) -> None:
    client = await api.tenant_client("acme")
    response = await client.post(
        f"{API}/jobs",
        json={
            "type": "email.send",
            "queue": "emails",
            "payload": {"to": "ada@example.com", "n": [1, 2.5, None, True]},
            "priority": -3,
            "max_attempts": 5,
            "timeout_seconds": 12.5,
            "trace_id": "trace-1",
        },
    )
    assert response.status_code == 201
    job = response.json()
    assert job["tenant"] == "acme"
    assert job["status"] == "pending"
    assert job["payload"] == {"to": "ada@example.com", "n": [1, 2.5, None, True]}
    assert (job["queue"], job["priority"], job["max_attempts"]) == ("emails", -3, 5)
    assert job["timeout_seconds"] == 12.5
    assert job["trace_id"] == "trace-1"
    assert job["errors"] == [] and job["attempts"] == 0 and job["attempts_left"] == 5
    assert "lease_token" not in job
    assert response.headers["RateLimit-Remaining"].isdigit()


async def test_defaults_come_from_settings(make_api) -> None:  # type: ignore[no-untyped-def]
    api = await make_api(default_max_attempts=7)
    job = await api.submit(await api.tenant_client("acme"))
    assert (job["queue"], job["priority"], job["max_attempts"]) == ("default", 0, 7)


async def test_run_at_in_the_future_is_scheduled(api: Api) -> None:
    client = await api.tenant_client("acme")
    later = datetime.now(UTC) + timedelta(hours=1)
    job = await api.submit(client, run_at=later.isoformat())
    assert job["status"] == "scheduled"
    assert datetime.fromisoformat(job["run_at"]) == later
    naive = await api.submit(client, run_at="2099-01-01T00:00:00")
    assert datetime.fromisoformat(naive["run_at"]) == datetime(2099, 1, 1, tzinfo=UTC)


async def test_get_job_shows_attempt_history(api: Api) -> None:
    client = await api.tenant_client("acme")
    job = await api.submit(client, queue="flaky")
    await api.fail("flaky", dead=False)
    response = await client.get(f"{API}/jobs/{job['id']}")
    assert response.status_code == 200
    shown = response.json()
    assert shown["status"] == "failed"
    assert shown["attempts"] == 1
    assert shown["last_error"] == "boom"
    assert [(e["attempt"], e["message"], e["traceback"]) for e in shown["errors"]] == [
        (1, "boom", "Traceback: boom")
    ]


async def test_unknown_job_is_404(api: Api) -> None:
    client = await api.tenant_client("acme")
    response = await client.get(f"{API}/jobs/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "job_not_found"


async def test_batch_creates_in_order(api: Api) -> None:
    client = await api.tenant_client("acme")
    jobs = [{"type": "t.a", "payload": {"i": i}, "queue": f"q{i % 3}"} for i in range(25)]
    response = await client.post(f"{API}/jobs/batch", json={"jobs": jobs})
    assert response.status_code == 201
    body = response.json()
    assert (body["created"], body["replayed"]) == (25, 0)
    assert [j["payload"]["i"] for j in body["jobs"]] == list(range(25))
    listed = (await client.get(f"{API}/jobs", params={"limit": 500})).json()
    assert listed["total"] == 25


async def test_batch_bounds(api: Api) -> None:
    client = await api.tenant_client("acme")
    empty = await client.post(f"{API}/jobs/batch", json={"jobs": []})
    assert empty.status_code == 422
    assert empty.json()["error"]["details"][0]["field"] == "body.jobs"
    too_many = await client.post(f"{API}/jobs/batch", json={"jobs": [{"type": "t"}] * 1001})
    assert too_many.status_code == 422
    full = await client.post(f"{API}/jobs/batch", json={"jobs": [{"type": "t"}] * 1000})
    assert full.status_code == 201
    assert full.json()["created"] == 1000


async def test_batch_is_all_or_nothing_on_bad_item(api: Api) -> None:
    client = await api.tenant_client("acme")
    jobs = [{"type": "ok"}, {"type": "ok", "priority": "high"}]
    response = await client.post(f"{API}/jobs/batch", json={"jobs": jobs})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body.jobs.1.priority"
    assert (await client.get(f"{API}/jobs")).json()["total"] == 0


async def test_list_filters(api: Api) -> None:
    client = await api.tenant_client("acme")
    a = await api.submit(client, type="email.send", queue="emails", idempotency_key="order-1")
    b = await api.submit(client, type="report.generate", queue="reports")
    c = await api.submit(client, type="email.send", queue="dead-end")
    await api.fail("dead-end", dead=True)

    async def ids(**params: object) -> list[str]:
        response = await client.get(f"{API}/jobs", params=params)
        assert response.status_code == 200, response.text
        return [j["id"] for j in response.json()["items"]]

    assert await ids() == [c["id"], b["id"], a["id"]]  # newest first
    assert await ids(status="dead") == [c["id"]]
    assert await ids(status=["dead", "pending"]) == [c["id"], b["id"], a["id"]]
    assert await ids(type="email.send") == [c["id"], a["id"]]
    assert await ids(queue=["reports", "emails"]) == [b["id"], a["id"]]
    assert await ids(q="order-") == [a["id"]]
    assert await ids(q=b["id"][:8]) == [b["id"]]
    created_b = b["created_at"]
    assert a["id"] not in await ids(created_after=created_b)
    assert b["id"] not in await ids(created_before=created_b)
    assert await ids(created_after="2099-01-01T00:00:00Z") == []


async def test_offset_and_cursor_paging(api: Api) -> None:
    client = await api.tenant_client("acme")
    body = {"jobs": [{"type": "t", "payload": {"i": i}} for i in range(7)]}
    assert (await client.post(f"{API}/jobs/batch", json=body)).status_code == 201
    first = (await client.get(f"{API}/jobs", params={"limit": 3})).json()
    assert (first["total"], first["limit"], first["offset"]) == (7, 3, 0)
    second = (await client.get(f"{API}/jobs", params={"limit": 3, "offset": 3})).json()
    assert second["offset"] == 3
    by_cursor = (
        await client.get(f"{API}/jobs", params={"limit": 3, "cursor": first["next_cursor"]})
    ).json()
    assert [j["id"] for j in by_cursor["items"]] == [j["id"] for j in second["items"]]
    seen, cursor = [], None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(f"{API}/jobs", params=params)).json()
        seen += [j["payload"]["i"] for j in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    # One batch shares one created_at: the order among them is the id tie-break, the same
    # in both paging styles, and every job comes exactly once.
    everything = (await client.get(f"{API}/jobs", params={"limit": 500})).json()["items"]
    assert seen == [j["payload"]["i"] for j in everything]
    assert sorted(seen) == list(range(7))


async def test_list_limit_bounds(api: Api) -> None:
    client = await api.tenant_client("acme")
    for limit in (0, 501, -1):
        response = await client.get(f"{API}/jobs", params={"limit": limit})
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "query.limit"


async def test_retry_moves_dead_failed_and_cancelled_back_to_pending(api: Api) -> None:
    client = await api.tenant_client("acme")
    dead = await api.submit(client, queue="d")
    await api.fail("d", dead=True)
    failed = await api.submit(client, queue="f")
    await api.fail("f", dead=False)
    cancelled = await api.submit(client, queue="c")
    assert (await client.post(f"{API}/jobs/{cancelled['id']}/cancel")).status_code == 200
    for job in (dead, failed, cancelled):
        response = await client.post(f"{API}/jobs/{job['id']}/retry")
        assert response.status_code == 200, response.text
        retried = response.json()
        assert (retried["status"], retried["attempts"]) == ("pending", 0)
    history = (await client.get(f"{API}/jobs/{dead['id']}")).json()["errors"]
    assert len(history) == 1  # history kept


async def test_retry_of_pending_or_running_is_409(api: Api) -> None:
    client = await api.tenant_client("acme")
    pending = await api.submit(client, queue="p")
    response = await client.post(f"{API}/jobs/{pending['id']}/retry")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "illegal_transition"
    running = await api.submit(client, queue="r")
    await api.claim("r")
    assert (await client.post(f"{API}/jobs/{running['id']}/retry")).status_code == 409


async def test_cancel(api: Api) -> None:
    client = await api.tenant_client("acme")
    pending = await api.submit(client, queue="p")
    response = await client.post(f"{API}/jobs/{pending['id']}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    again = await client.post(f"{API}/jobs/{pending['id']}/cancel")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "illegal_transition"

    running = await api.submit(client, queue="r")
    await api.claim("r")
    asked = (await client.post(f"{API}/jobs/{running['id']}/cancel")).json()
    assert asked["status"] == "running" and asked["cancel_requested"] is True

    scheduled = await api.submit(client, run_at="2099-01-01T00:00:00Z")
    done = (await client.post(f"{API}/jobs/{scheduled['id']}/cancel")).json()
    assert done["status"] == "cancelled"


async def test_verbs_publish_events(api: Api) -> None:
    client = await api.tenant_client("acme")
    async with api.bus.subscribe() as events:
        job = await api.submit(client, queue="p")
        await client.post(f"{API}/jobs/{job['id']}/cancel")
        await client.post(f"{API}/jobs/{job['id']}/retry")
        names = [(await asyncio.wait_for(anext(events), 5)).event.value for _ in range(3)]
    assert names == ["job_submitted", "job_cancelled", "job_retry"]


async def test_huge_integers(api: Api) -> None:
    client = await api.tenant_client("acme")
    big = await api.submit(client, payload={"n": 10**100, "m": -(2**70)})
    assert big["payload"] == {"n": 10**100, "m": -(2**70)}
    shown = (await client.get(f"{API}/jobs/{big['id']}")).json()
    assert shown["payload"]["n"] == 10**100
    raw = b'{"type": "t", "payload": {"n": ' + b"9" * 5000 + b"}}"
    too_long = await client.post(
        f"{API}/jobs", content=raw, headers={"content-type": "application/json"}
    )
    assert too_long.status_code == 400
    assert too_long.json()["error"]["code"] == "invalid_json"


async def test_unicode_payload_round_trips(api: Api) -> None:
    client = await api.tenant_client("acme")
    payload = {"名前": "Ada ✓", "emoji": "🚀", "quote": '"\\'}
    job = await api.submit(client, payload=payload)
    assert (await client.get(f"{API}/jobs/{job['id']}")).json()["payload"] == payload
