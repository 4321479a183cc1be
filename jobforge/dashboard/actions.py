"""Bulk actions on jobs, always through `JobControl` so the API and the dashboard mean the
same thing by "retry" and "cancel" and publish the same events.

A job a bulk action cannot apply to (a completed job asked to cancel, a job deleted in the
meantime) is skipped and counted, never an error for the whole selection.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from jobforge.control import JobControl
from jobforge.dashboard.auth import Viewer
from jobforge.dashboard.queries import ACTION_ERRORS
from jobforge.domain.job import Job
from jobforge.domain.states import CANCELLABLE, RETRYABLE_BY_USER, JobState
from jobforge.store.params import DeadJobFilter

DEAD_RETRY_CHUNK = 1000


class BulkAction(StrEnum):
    """What a bulk form may ask for."""

    RETRY = "retry"
    CANCEL = "cancel"
    DELETE = "delete"


@dataclass(frozen=True, kw_only=True)
class BulkResult:
    """How many jobs the action moved and how many it skipped."""

    action: BulkAction
    done: int
    skipped: int


async def apply_bulk(
    control: JobControl, action: BulkAction, jobs: list[Job], viewer: Viewer
) -> BulkResult:
    """Apply `action` to each job the viewer may act on; count the rest as skipped."""
    if action is BulkAction.RETRY:
        done = await _retry(control, jobs, viewer)
    elif action is BulkAction.CANCEL:
        done = await _each(control, jobs, viewer, action, CANCELLABLE | {JobState.RUNNING})
    else:
        done = await _each(control, jobs, viewer, action, frozenset(JobState) - {JobState.RUNNING})
    return BulkResult(action=action, done=done, skipped=len(jobs) - done)


async def _retry(control: JobControl, jobs: list[Job], viewer: Viewer) -> int:
    # Dead jobs go back in one statement per chunk (the common "retry the DLQ" case);
    # failed and cancelled ones one by one.
    dead = [j.id for j in jobs if j.status is JobState.DEAD]
    done = 0
    for start in range(0, len(dead), DEAD_RETRY_CHUNK):
        chunk = dead[start : start + DEAD_RETRY_CHUNK]
        selector = DeadJobFilter(tenant=viewer.scope, job_ids=chunk)
        done += await control.retry_dead(selector, actor=viewer.actor)
    others = [j for j in jobs if j.status in RETRYABLE_BY_USER - {JobState.DEAD}]
    return done + await _each(control, others, viewer, BulkAction.RETRY, RETRYABLE_BY_USER)


async def _each(
    control: JobControl,
    jobs: list[Job],
    viewer: Viewer,
    action: BulkAction,
    allowed: frozenset[JobState],
) -> int:
    done = 0
    for job in jobs:
        if job.status not in allowed:
            continue
        try:
            await apply_one(control, action, job, viewer)
        except ACTION_ERRORS:
            continue  # it moved since the page was drawn
        done += 1
    return done


async def apply_one(control: JobControl, action: BulkAction, job: Job, viewer: Viewer) -> None:
    """One job's action; raises `IllegalTransition` or `JobNotFound` like the store."""
    if action is BulkAction.RETRY:
        await control.retry(job.id, tenant=viewer.scope, actor=viewer.actor)
    elif action is BulkAction.CANCEL:
        await control.cancel(job.id, tenant=viewer.scope, actor=viewer.actor)
    else:
        await control.delete(job.id, tenant=viewer.scope)
