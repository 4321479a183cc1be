"""A job's timeline: every state change we know of, and who made the ones people made.

Durable entries come from the store: the job's own timestamps, its attempt history, and
its recorded actions (cancel, retry: which key, from the API or the dashboard). Live
entries fill the gaps the store does not keep (an earlier attempt's start, a failure that
was retried since) from the events this server heard while running; one that repeats a
durable entry is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from jobforge.domain.job import Job
from jobforge.domain.states import JobState
from jobforge.events import JobEvent
from jobforge.store.params import ActionKind, JobAction

SAME_MOMENT = timedelta(seconds=2)
"""An event this close to a durable entry of the same state is the same change."""

ACTION_WORDS = {
    ActionKind.CANCEL: "cancelled",
    ActionKind.CANCEL_REQUESTED: "cancel requested",
    ActionKind.RETRY: "retried",
}


@dataclass(frozen=True, kw_only=True)
class TimelineEntry:
    """One moment of a job's life. `durable` entries come from the store; the others from
    events this server heard (lost on restart)."""

    at: datetime
    what: str
    status: JobState | None = None
    actor: str | None = None
    detail: str | None = None
    durable: bool = True
    covers: frozenset[JobState] = field(default=frozenset(), compare=False)


def build_timeline(
    job: Job, actions: list[JobAction], heard: list[JobEvent]
) -> list[TimelineEntry]:
    """The job's entries, oldest first."""
    entries = [
        TimelineEntry(
            at=job.created_at,
            what="submitted",
            detail=f"to queue {job.queue}",
            covers=frozenset({JobState.PENDING, JobState.SCHEDULED}),
        )
    ]
    for error in job.errors:
        entries.append(
            TimelineEntry(
                at=error.at,
                what=f"attempt {error.attempt} failed",
                detail=error.message,
                covers=frozenset({JobState.FAILED, JobState.DEAD}),
            )
        )
    for action in actions:
        entries.append(
            TimelineEntry(
                at=action.at,
                what=ACTION_WORDS[action.action],
                status=action.to_status,
                actor=action.actor,
                detail=f"from {action.from_status.value}",
                covers=frozenset({action.to_status}),
            )
        )
    if job.started_at is not None:
        # After a manual retry `attempts` restarts at 0 while `started_at` still tells when
        # the last attempt before it started.
        attempt = job.attempts or (job.errors[-1].attempt if job.errors else 0)
        entries.append(
            TimelineEntry(
                at=job.started_at,
                what=f"attempt {attempt} started" if attempt else "started",
                status=JobState.RUNNING,
                detail=f"on {job.worker_id}" if job.worker_id else None,
                covers=frozenset({JobState.RUNNING}),
            )
        )
    if job.finished_at is not None:
        entries.append(
            TimelineEntry(
                at=job.finished_at,
                what="finished",
                status=job.status,
                covers=frozenset({job.status}),
            )
        )
    durable = list(entries)
    for event in heard:
        if event.actor is not None or _repeats(event, durable):
            continue  # people's actions are recorded durably, with their actor
        entries.append(
            TimelineEntry(
                at=event.at,
                what=event.event.value.removeprefix("job_"),
                status=event.status,
                detail=f"attempt {event.attempt}" if event.attempt else None,
                durable=False,
            )
        )
    entries.sort(key=lambda e: e.at)
    return entries


def _repeats(event: JobEvent, durable: list[TimelineEntry]) -> bool:
    return any(
        event.status in entry.covers and abs(entry.at - event.at) <= SAME_MOMENT
        for entry in durable
    )
