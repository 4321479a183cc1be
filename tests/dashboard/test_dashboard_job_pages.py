"""A job's page (fields, attempts, timeline with who acted, the actions its state allows)
and the create-job form, over a real store."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from jobforge.domain.states import JobState
from jobforge.domain.tenants import display_prefix
from tests.dashboard.conftest import Dash, csrf, make_dead


async def test_detail_shows_fields_attempts_and_timeline(dash: Dash) -> None:
    job_id = await make_dead(dash, "acme", payload={"n": 1})
    client = await dash.browser(await dash.key("acme"))
    page = (await client.get(f"/jobs/{job_id}")).text
    for text in ["dlq-test", "Attempt 1 at", "attempt 1 failed", "submitted", "finished"]:
        assert text in page, text
    fragment = await client.get(f"/jobs/{job_id}?fragment=1")
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and 'id="job-status"' in fragment.text
    assert (await client.get(f"/jobs/{uuid.uuid4()}")).status_code == 404
    assert (await client.get("/jobs/not-a-uuid")).status_code == 404


async def test_the_timeline_names_who_retried_and_cancelled_and_survives_a_restart(
    dash: Dash,
) -> None:
    job_id = await make_dead(dash, "acme")
    dash_key, api_key = await dash.key("acme"), await dash.key("acme")
    client = await dash.browser(dash_key)
    token = await csrf(client, f"/jobs/{job_id}")
    response = await client.post(f"/jobs/{job_id}/retry", data={"csrf": token})
    assert response.status_code == 303
    job = await dash.store.get_job(uuid.UUID(job_id), tenant="acme")
    assert job.status is JobState.PENDING
    api = dash.client()
    cancelled = await api.post(
        f"/api/v1/jobs/{job_id}/cancel", headers={"Authorization": f"Bearer {api_key}"}
    )
    assert cancelled.status_code == 200, cancelled.text
    keys = {k.prefix: k.id for k in await dash.store.list_api_keys("acme")}
    dash_id, api_id = keys[display_prefix(dash_key)], keys[display_prefix(api_key)]

    # A new app over the same store (as after a restart) has heard no event: what it shows
    # comes from the store.
    async with dash.restarted(client) as restarted:
        page = (await restarted.get(f"/jobs/{job_id}")).text
    timeline = page[page.index('<ol class="timeline">') :]
    assert "retried" in timeline and f"key {dash_id} via the dashboard" in timeline
    assert "cancelled" in timeline and f"key {api_id} via the API" in timeline
    assert timeline.index("retried") < timeline.index(f"key {api_id} via the API")
    assert "from dead" in timeline and "from pending" in timeline


async def test_detail_offers_only_the_actions_the_state_allows(dash: Dash) -> None:
    pending = await dash.submit("acme")
    dead = await make_dead(dash, "acme")
    client = await dash.browser(await dash.key("acme"))

    def buttons(html: str) -> set[str]:
        return set(re.findall(r'<button type="submit" id="job-(\w+)"', html))

    assert buttons((await client.get(f"/jobs/{pending}")).text) == {"cancel", "delete"}
    assert buttons((await client.get(f"/jobs/{dead}?fragment=1")).text) == {"retry", "delete"}
    assert "<dt>Cancel requested</dt><dd>no</dd>" in (await client.get(f"/jobs/{dead}")).text

    token = await csrf(client, f"/jobs/{dead}")
    form = {"csrf": token, "action": "delete", "target": "selected", "ids": dead,
            "back": f"/jobs/{dead}"}  # fmt: skip
    confirm = await client.post("/jobs/bulk", data=form)
    assert "Delete 1 job?" in confirm.text
    assert f'href="/jobs/{dead}">No, go back' in confirm.text
    assert (await client.get(f"/jobs/{dead}")).status_code == 200  # nothing yet
    done = await client.post("/jobs/bulk", data={**form, "confirm": "yes"})
    assert done.headers["location"] == "/jobs"
    assert (await client.get(f"/jobs/{dead}")).status_code == 404


async def test_create_form_submits_and_validates(dash: Dash) -> None:
    client = await dash.browser(await dash.key("acme"))
    token = await csrf(client, "/jobs/new")
    bad = await client.post(
        "/jobs/new", data={"csrf": token, "type": "email.send", "payload": "[1, 2]"}
    )
    assert bad.status_code == 422
    assert "must be a JSON object" in bad.text
    assert "[1, 2]" in bad.text  # shown again as typed
    good = await client.post(
        "/jobs/new",
        data={"csrf": token, "type": "email.send", "queue": "emails", "priority": "-5",
              "payload": '{"to": "a@b.c"}', "max_attempts": "7", "delay_seconds": "60",
              "idempotency_key": "k-1"},
    )  # fmt: skip
    assert good.status_code == 303
    job_id = good.headers["location"].removeprefix("/jobs/")
    job = await dash.store.get_job(uuid.UUID(job_id), tenant="acme")
    assert (job.type, job.queue, job.priority, job.max_attempts) == ("email.send", "emails", -5, 7)
    assert job.payload == {"to": "a@b.c"}
    assert job.status is JobState.SCHEDULED
    assert job.run_at > datetime.now(UTC) + timedelta(seconds=30)
    assert job.idempotency_key == "k-1"
