"""DLQ, queues, metrics (JSON and Prometheus), workers, health, and the OpenAPI document."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from jobforge.store.params import WorkerInfo
from tests.api.conftest import API, Api


async def _dead_jobs(api: Api, client, queue: str, types: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    ids = [(await api.submit(client, type=t, queue=queue))["id"] for t in types]
    await api.fail(queue, dead=True)
    return ids


async def test_dlq_lists_only_dead_jobs_with_filters(api: Api) -> None:
    client = await api.tenant_client("acme")
    await api.submit(client, queue="alive")
    dead = await _dead_jobs(api, client, "d1", ["image.process", "email.send"])
    more = await _dead_jobs(api, client, "d2", ["image.process"])
    page = (await client.get(f"{API}/dlq")).json()
    assert page["total"] == 3 and {j["status"] for j in page["items"]} == {"dead"}
    assert page["items"][0]["id"] == more[0]  # newest first
    by_type = (await client.get(f"{API}/dlq", params={"type": "image.process"})).json()
    assert {j["id"] for j in by_type["items"]} == {dead[0], more[0]}
    by_queue = (await client.get(f"{API}/dlq", params={"queue": "d1", "limit": 1})).json()
    assert by_queue["total"] == 2 and len(by_queue["items"]) == 1
    assert by_queue["next_cursor"]
    nxt = (
        await client.get(f"{API}/dlq", params={"queue": "d1", "cursor": by_queue["next_cursor"]})
    ).json()
    assert {by_queue["items"][0]["id"], nxt["items"][0]["id"]} == set(dead)


async def test_dlq_retry_all_filtered_and_by_id(api: Api) -> None:
    client = await api.tenant_client("acme")
    dead = await _dead_jobs(api, client, "d", ["a", "b", "c", "c"])
    by_id = await client.post(f"{API}/dlq/retry", json={"job_ids": [dead[0]]})
    assert by_id.status_code == 200 and by_id.json() == {"count": 1}
    assert (await client.get(f"{API}/jobs/{dead[0]}")).json()["status"] == "pending"
    by_type = await client.post(f"{API}/dlq/retry", json={"types": ["c"]})
    assert by_type.json() == {"count": 2}
    by_queue = await client.post(f"{API}/dlq/retry", json={"queues": ["elsewhere"]})
    assert by_queue.json() == {"count": 0}
    everything = await client.post(f"{API}/dlq/retry")
    assert everything.json() == {"count": 1}
    assert (await client.get(f"{API}/dlq")).json()["total"] == 0
    job = (await client.get(f"{API}/jobs/{dead[1]}")).json()
    assert (job["status"], job["attempts"], len(job["errors"])) == ("pending", 0, 1)


async def test_dlq_purge(api: Api) -> None:
    client = await api.tenant_client("acme")
    alive = await api.submit(client, queue="alive")
    dead = await _dead_jobs(api, client, "d", ["a", "b", "b"])
    assert (await client.delete(f"{API}/dlq", params={"job_id": dead[0]})).json() == {"count": 1}
    assert (await client.get(f"{API}/jobs/{dead[0]}")).status_code == 404
    assert (await client.delete(f"{API}/dlq", params={"type": "x"})).json() == {"count": 0}
    assert (await client.delete(f"{API}/dlq", params={"queue": "d"})).json() == {"count": 2}
    assert (await client.get(f"{API}/jobs/{alive['id']}")).status_code == 200


async def test_queues_counts_and_pause_resume(api: Api) -> None:
    client = await api.tenant_client("acme")
    for _ in range(2):
        await api.submit(client, queue="emails")
    await _dead_jobs(api, client, "images", ["image.process"])
    queues = {q["name"]: q for q in (await client.get(f"{API}/queues")).json()["items"]}
    assert queues["emails"] == {
        "name": "emails",
        "counts": {"pending": 2},
        "length": 2,
        "paused": False,
    }
    assert queues["images"]["counts"] == {"dead": 1} and queues["images"]["length"] == 0

    paused = (await client.post(f"{API}/queues/emails/pause")).json()
    assert paused == {"name": "emails", "counts": {"pending": 2}, "length": 2, "paused": True}
    assert await api.claim("emails") == []
    again = await client.post(f"{API}/queues/emails/pause")  # idempotent
    assert again.status_code == 200 and again.json()["paused"] is True
    resumed = (await client.post(f"{API}/queues/emails/resume")).json()
    assert resumed["paused"] is False
    assert len(await api.claim("emails")) == 2

    empty = (await client.post(f"{API}/queues/never-used/pause")).json()
    assert empty == {"name": "never-used", "counts": {}, "length": 0, "paused": True}
    gone = (await client.post(f"{API}/queues/never-used/resume")).json()
    assert gone == {"name": "never-used", "counts": {}, "length": 0, "paused": False}


async def test_metrics_summary_names_every_field(api: Api) -> None:
    client = await api.tenant_client("acme")
    await api.submit(client, queue="p")
    await api.submit(client, run_at="2099-01-01T00:00:00Z")
    await api.submit(client, queue="r")
    await api.claim("r")
    await _dead_jobs(api, client, "d", ["x", "y"])
    await api.submit(client, queue="f")
    await api.fail("f", dead=False)
    cancelled = await api.submit(client, queue="c")
    await client.post(f"{API}/jobs/{cancelled['id']}/cancel")
    metrics = (await client.get(f"{API}/metrics")).json()
    assert metrics == {
        "tenant": "acme",
        "total_jobs": 7,
        "pending_jobs": 1,
        "scheduled_jobs": 1,
        "running_jobs": 1,
        "active_jobs": 1,
        "completed_jobs": 0,
        "failed_jobs": 1,
        "dead_letter_jobs": 2,
        "dlq_jobs": 2,
        "cancelled_jobs": 1,
        "queue_length": 1,
        "retry_queue_length": 1,
        "dlq_length": 2,
        "throughput": {
            "completed_last_minute": 0,
            "failed_last_minute": metrics["throughput"]["failed_last_minute"],
            "completed_per_second": 0.0,
            "failed_per_second": metrics["throughput"]["failed_per_second"],
        },
    }
    assert metrics["throughput"]["failed_last_minute"] >= 2


async def test_workers_lists_live_workers_only(api: Api) -> None:
    client = await api.tenant_client("acme")
    now = await api.store.now()
    live = WorkerInfo(
        id="w-live",
        host="h1",
        pid=1,
        queues=("default",),
        concurrency=4,
        started_at=now,
        last_seen_at=now,
    )
    stale = WorkerInfo(
        id="w-stale",
        host="h2",
        pid=2,
        queues=("default",),
        concurrency=4,
        started_at=datetime(2020, 1, 1, tzinfo=UTC),
        last_seen_at=datetime(2020, 1, 1, tzinfo=UTC),
    )
    await api.store.register_worker(live)
    await api.store.register_worker(stale)
    items = (await client.get(f"{API}/workers")).json()["items"]
    assert [(w["id"], w["host"], w["queues"], w["concurrency"]) for w in items] == [
        ("w-live", "h1", ["default"], 4)
    ]


async def test_prometheus_metrics(api: Api) -> None:
    client = await api.tenant_client("acme")
    await api.submit(client, queue="prom-q")
    response = await api.client().get("/metrics")  # no key needed
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'jobforge_jobs{queue="prom-q",state="pending"} 1.0' in text
    assert "jobforge_http_requests_total" in text
    assert 'route="/api/v1/jobs"' in text
    assert "jobforge_jobs_submitted_total" in text
    job_id = str(uuid.uuid4())
    await client.get(f"{API}/jobs/{job_id}")
    assert job_id not in (await api.client().get("/metrics")).text  # templates, not paths


async def test_health_and_ready(api: Api) -> None:
    client = api.client()
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "store": "ok", "rate_limiter": "memory"}


async def test_openapi_documents_every_route_with_errors_and_examples(api: Api) -> None:
    client = api.client()
    doc = (await client.get("/openapi.json")).json()
    paths = doc["paths"]
    expected = {
        f"{API}/jobs": {"get", "post"},
        f"{API}/jobs/batch": {"post"},
        f"{API}/jobs/{{job_id}}": {"get"},
        f"{API}/jobs/{{job_id}}/retry": {"post"},
        f"{API}/jobs/{{job_id}}/cancel": {"post"},
        f"{API}/dlq": {"get", "delete"},
        f"{API}/dlq/retry": {"post"},
        f"{API}/queues": {"get"},
        f"{API}/queues/{{name}}/pause": {"post"},
        f"{API}/queues/{{name}}/resume": {"post"},
        f"{API}/metrics": {"get"},
        f"{API}/workers": {"get"},
        "/health": {"get"},
        "/ready": {"get"},
        "/metrics": {"get"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) == methods, path
    create = paths[f"{API}/jobs"]["post"]
    assert {"200", "201", "401", "409", "413", "422", "429", "503"} <= set(create["responses"])
    assert create["responses"]["429"]["headers"]["Retry-After"]
    envelope = create["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
    assert envelope.endswith("/ErrorEnvelope")
    schemas = doc["components"]["schemas"]
    assert schemas["JobCreate"]["examples"] and schemas["JobOut"]["examples"]
    assert "HTTPBearer" in doc["components"]["securitySchemes"]
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    list_params = {p["name"] for p in paths[f"{API}/jobs"]["get"]["parameters"]}
    assert {
        "status",
        "type",
        "queue",
        "q",
        "created_after",
        "created_before",
        "limit",
        "offset",
        "cursor",
    } <= list_params
