"""The timeline merges the stored job, its recorded actions and the events heard live,
without showing one change twice."""

from __future__ import annotations

import uuid
from datetime import timedelta

from jobforge.dashboard.timeline import build_timeline
from jobforge.domain.states import JobState
from jobforge.events import JobEvent
from jobforge.events.types import EventName
from tests.dashboard.conftest import Dash, make_dead


async def test_live_events_fill_gaps_without_repeating_stored_changes(dash: Dash) -> None:
    job_id = uuid.UUID(await make_dead(dash, "acme", message="SMTP refused"))
    await dash.control.retry(job_id, tenant=None, actor="dashboard:k1")
    job = await dash.store.get_job(job_id, tenant=None)
    actions = await dash.store.job_actions(job_id, tenant=None)
    [error] = job.errors

    def heard(
        name: EventName, status: JobState, at_offset: float, actor: str | None = None
    ) -> JobEvent:
        return JobEvent(
            event=name, job_id=job.id, tenant=job.tenant, type=job.type, queue=job.queue,
            status=status, attempt=1, at=error.at + timedelta(seconds=at_offset), actor=actor,
        )  # fmt: skip

    events = [
        heard(EventName.STARTED, JobState.RUNNING, -0.01),  # the stored start: not repeated
        heard(EventName.DLQ, JobState.DEAD, 0.0),  # the stored failure: not repeated
        heard(EventName.RETRY, JobState.PENDING, 0.1, actor="dashboard:k1"),  # recorded
        heard(EventName.STARTED, JobState.RUNNING, 60.0),  # not stored: shown
    ]
    entries = build_timeline(job, actions, events)
    described = [(e.what, e.status, e.actor, e.durable) for e in entries]
    assert described == [
        ("submitted", None, None, True),
        ("attempt 1 started", JobState.RUNNING, None, True),
        ("attempt 1 failed", None, None, True),
        ("retried", JobState.PENDING, "dashboard:k1", True),
        ("started", JobState.RUNNING, None, False),
    ]
    assert entries[2].detail == "SMTP refused"
    assert entries[3].detail == "from dead"
    assert entries[4].detail == "attempt 1"
