"""The overview, the jobs table, bulk actions, dead letters and queues over a real store:
what they show, escaping, tenant scoping, and the actions."""

from __future__ import annotations

import re
import uuid

from jobforge.domain.job import NewJob
from jobforge.domain.outcomes import Completed
from jobforge.domain.states import JobState
from jobforge.store.params import ClaimParams
from tests.dashboard.conftest import Dash, csrf, make_dead

XSS = '<script>alert("x")</script>'


async def test_overview_shows_counts_queues_and_workers_for_an_admin(dash: Dash) -> None:
    await dash.submit("acme")
    await dash.submit("acme", queue="reports")
    admin = await dash.browser(await dash.key("ops", admin=True))
    page = await admin.get("/")
    assert page.status_code == 200
    assert re.search(r'data-count="pending">2<', page.text)
    assert "reports" in page.text
    assert "Live workers" in page.text
    data = (await admin.get("/ui/overview.json")).json()
    assert data["counts"]["pending"] == 2
    assert {q["name"] for q in data["queues"]} == {"default", "reports"}
    assert data["workers"] == []
    assert len(data["throughput"]) == 900


async def test_the_throughput_chart_starts_from_the_stores_history(dash: Dash) -> None:
    for _ in range(3):
        await make_dead(dash, "acme")
    done = await dash.submit("acme", queue="quick")
    [claimed] = await dash.store.claim_jobs(
        ClaimParams(worker_id="w", queues=["quick"], limit=1, lease_seconds=60)
    )
    assert str(claimed.id) == done and claimed.lease_token is not None
    await dash.store.finish_attempts(
        [Completed(job_id=claimed.id, lease_token=claimed.lease_token)]
    )
    await dash.submit("other", queue="quick")
    # A server started after these finished (its hub heard none of them) still charts them.
    signed_in = await dash.browser(await dash.key("acme"))
    async with dash.restarted(signed_in) as restarted:
        data = (await restarted.get("/ui/overview.json")).json()
        page = (await restarted.get("/")).text
    completed = sum(c for _, c, _ in data["throughput"])
    failed = sum(f for _, _, f in data["throughput"])
    assert (completed, failed) == (1, 3)
    assert 'data-chart="total_failed">3<' in page


async def test_overview_is_scoped_to_the_tenant(dash: Dash) -> None:
    await dash.submit("acme")
    await dash.submit("other")
    await dash.submit("other")
    client = await dash.browser(await dash.key("acme"))
    data = (await client.get("/ui/overview.json")).json()
    assert data["counts"]["pending"] == 1
    assert data["workers"] is None  # workers span tenants: admins only


async def test_user_data_is_escaped_everywhere(dash: Dash) -> None:
    job_id = await make_dead(
        dash, "acme", message=XSS, payload={"html": XSS}, idempotency_key=XSS, type=XSS
    )
    client = await dash.browser(await dash.key("acme"))
    for path in [f"/jobs/{job_id}", "/jobs", "/dlq", f"/jobs?q={XSS}", "/queues"]:
        page = await client.get(path)
        assert page.status_code == 200, path
        assert "<script>alert" not in page.text, path
    detail = (await client.get(f"/jobs/{job_id}")).text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in detail  # payload shown as text
    assert "Traceback (most recent call last)" in detail


async def test_jobs_list_filters_by_status_type_queue_and_search(dash: Dash) -> None:
    a = await dash.submit("acme", type="email.send", payload={"to": "zed@example.com"})
    b = await dash.submit("acme", type="report.generate", queue="reports")
    dead = await make_dead(dash, "acme", message="SMTP refused connection")
    client = await dash.browser(await dash.key("acme"))

    def ids(html: str) -> set[str]:
        return set(re.findall(r'<tr data-job-id="([0-9a-f-]+)"', html))

    assert ids((await client.get("/jobs")).text) == {a, b, dead}
    assert ids((await client.get("/jobs?status=dead")).text) == {dead}
    assert ids((await client.get("/jobs?status=pending&status=dead")).text) == {a, b, dead}
    assert ids((await client.get("/jobs?type=report.generate")).text) == {b}
    assert ids((await client.get("/jobs?queue=reports")).text) == {b}
    assert ids((await client.get("/jobs?q=zed@example")).text) == {a}  # payload text
    assert ids((await client.get("/jobs?q=smtp+refused")).text) == {dead}  # error text
    assert ids((await client.get("/jobs?q=most+recent+call")).text) == {dead}  # traceback
    assert ids((await client.get(f"/jobs?q={b[:8]}")).text) == {b}  # id prefix
    page = (await client.get("/jobs?status=dead&type=x&queue=y&q=z&range=1h")).text
    assert 'value="dead" checked' in page  # the filter form shows the URL's filter
    assert 'id="f-q" name="q" type="search" value="z"' in page


async def test_jobs_list_paginates_and_keeps_filters_in_links(dash: Dash) -> None:
    for _ in range(30):
        await dash.submit("acme")
    client = await dash.browser(await dash.key("acme"))
    first = (await client.get("/jobs?status=pending&per_page=25")).text
    assert first.count("<tr data-job-id=") == 25
    assert 'href="/jobs?status=pending&amp;per_page=25&amp;page=2"' in first
    second = (await client.get("/jobs?status=pending&per_page=25&page=2")).text
    assert second.count("<tr data-job-id=") == 5


async def test_admin_filters_by_tenant_and_tenants_cannot(dash: Dash) -> None:
    mine = await dash.submit("acme")
    theirs = await dash.submit("other")
    admin = await dash.browser(await dash.key("ops", admin=True))
    page = (await admin.get("/jobs?tenant=other")).text
    assert theirs in page and mine not in page
    tenant = await dash.browser(await dash.key("acme"))
    page = (await tenant.get("/jobs?tenant=other")).text
    assert mine in page and theirs not in page
    assert (await tenant.get(f"/jobs/{theirs}")).status_code == 404


async def test_bulk_cancel_asks_for_confirmation_then_acts(dash: Dash) -> None:
    ids = [await dash.submit("acme", queue="bulk") for _ in range(3)]
    other = await dash.submit("acme", queue="keep")
    client = await dash.browser(await dash.key("acme"))
    token = await csrf(client, "/jobs?queue=bulk")
    form = {"csrf": token, "action": "cancel", "target": "all", "filter": "queue=bulk"}
    confirm = await client.post("/jobs/bulk", data=form)
    assert confirm.status_code == 200
    assert "Cancel 3 jobs?" in confirm.text
    for job_id in ids:
        assert (await dash.store.get_job(uuid.UUID(job_id), tenant=None)).status.value == "pending"
    done = await client.post("/jobs/bulk", data={**form, "confirm": "yes"})
    assert done.status_code == 303
    assert done.headers["location"] == "/jobs?queue=bulk"
    for job_id in ids:
        assert (
            await dash.store.get_job(uuid.UUID(job_id), tenant=None)
        ).status.value == "cancelled"
    assert (await dash.store.get_job(uuid.UUID(other), tenant=None)).status is JobState.PENDING


async def test_bulk_on_everything_matching_takes_a_large_filter_across_pages(dash: Dash) -> None:
    await dash.control.submit_many(
        [NewJob(type="t", tenant="acme", queue="big") for _ in range(1200)]
    )
    await dash.submit("acme", queue="small")
    client = await dash.browser(await dash.key("acme"))
    token = await csrf(client, "/jobs?queue=big")
    form = {"csrf": token, "action": "cancel", "target": "all", "filter": "queue=big"}
    assert "Cancel 1200 jobs?" in (await client.post("/jobs/bulk", data=form)).text
    done = await client.post("/jobs/bulk", data={**form, "confirm": "yes"})
    assert "Cancelled 1200 jobs." in (await client.get(done.headers["location"])).text
    summary = await dash.store.metrics_summary(tenant="acme")
    assert (summary.counts[JobState.CANCELLED], summary.counts[JobState.PENDING]) == (1200, 1)
    retry = {**form, "action": "retry", "filter": "queue=big&status=cancelled", "confirm": "yes"}
    await client.post("/jobs/bulk", data=retry)
    delete = {**form, "action": "delete", "filter": "queue=big", "confirm": "yes"}
    deleted = await client.post("/jobs/bulk", data=delete)
    assert "Deleted 1200 jobs." in (await client.get(deleted.headers["location"])).text
    assert (await dash.store.metrics_summary(tenant="acme")).total == 1


async def test_bulk_on_selected_rows_skips_what_it_cannot_do(dash: Dash) -> None:
    dead = await make_dead(dash, "acme")
    pending = await dash.submit("acme")
    client = await dash.browser(await dash.key("acme"))
    token = await csrf(client, "/jobs")
    data = {"csrf": token, "action": "retry", "target": "selected", "confirm": "yes",
            "ids": [dead, pending]}  # fmt: skip
    response = await client.post("/jobs/bulk", data=data)
    assert response.status_code == 303
    assert (await dash.store.get_job(uuid.UUID(dead), tenant=None)).status is JobState.PENDING
    page = (await client.get(response.headers["location"])).text
    assert "Retried 1 job; skipped 1" in page


async def test_bulk_cannot_reach_another_tenants_jobs(dash: Dash) -> None:
    theirs = await dash.submit("other")
    client = await dash.browser(await dash.key("acme"))
    token = await csrf(client, "/jobs")
    data = {"csrf": token, "action": "cancel", "target": "selected", "confirm": "yes",
            "ids": [theirs]}  # fmt: skip
    await client.post("/jobs/bulk", data=data)
    await client.post("/jobs/bulk", data={**data, "target": "all", "filter": "tenant=other"})
    assert (await dash.store.get_job(uuid.UUID(theirs), tenant=None)).status is JobState.PENDING


async def test_dead_letters_retry_one_retry_all_and_purge(dash: Dash) -> None:
    first = await make_dead(dash, "acme")
    await make_dead(dash, "acme")
    await make_dead(dash, "acme")
    theirs = await make_dead(dash, "other")
    client = await dash.browser(await dash.key("acme"))
    page = await client.get("/dlq")
    assert page.text.count("<tr data-job-id=") == 3
    token = await csrf(client, "/dlq")
    await client.post("/dlq/retry", data={"csrf": token, "job_id": first})
    assert (await dash.store.get_job(uuid.UUID(first), tenant=None)).status is JobState.PENDING
    refused = await client.post("/dlq/purge", data={"csrf": token, "confirm": "no"})
    assert "Type purge to confirm" in (await client.get(refused.headers["location"])).text
    assert (await client.get("/dlq")).text.count("<tr data-job-id=") == 2
    await client.post("/dlq/purge", data={"csrf": token, "confirm": "purge"})
    assert (await client.get("/dlq")).text.count("<tr data-job-id=") == 0
    assert (await dash.store.get_job(uuid.UUID(theirs), tenant=None)).status is JobState.DEAD
    await make_dead(dash, "acme")  # claims the retried `first` too: two dead jobs now
    await client.post("/dlq/retry", data={"csrf": token})
    assert "Sent 2 dead jobs back to pending" in (await client.get("/dlq")).text


async def test_queues_pause_and_resume(dash: Dash) -> None:
    await dash.control.submit(NewJob(type="t", tenant="acme", queue="emails"))
    client = await dash.browser(await dash.key("acme"))
    token = await csrf(client, "/queues")
    await client.post("/queues/emails/pause", data={"csrf": token})
    assert [q.paused for q in await dash.store.list_queues(tenant="acme")] == [True]
    assert "Resume queue emails" in (await client.get("/queues")).text
    await client.post("/queues/emails/resume", data={"csrf": token})
    assert [q.paused for q in await dash.store.list_queues(tenant="acme")] == [False]


async def test_static_files_are_served_locally(dash: Dash) -> None:
    client = dash.client()
    css = await client.get("/ui/static/app.css")
    js = await client.get("/ui/static/live.js")
    assert css.status_code == js.status_code == 200
    assert js.headers["content-type"].startswith("text/javascript")
    assert (await client.get("/ui/static/../auth.py")).status_code == 404
    assert (await client.get("/ui/static/nope.js")).status_code == 404
