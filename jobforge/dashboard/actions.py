"""Bulk actions on jobs, always through `JobControl` so the API and the dashboard mean the
same thing by "retry" and "cancel" and publish the same events.

A selection of any size is one store call per verb (a few statements per 500 jobs), never
a round trip per job. A job the action cannot apply to (a completed job asked to cancel, a
job deleted in the meantime) is skipped and counted, never an error for the whole selection.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from jobforge.control import JobControl
from jobforge.dashboard.auth import Viewer
from jobforge.domain.job import Job


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
    control: JobControl, action: BulkAction, job_ids: Sequence[uuid.UUID], viewer: Viewer
) -> BulkResult:
    """Apply `action` to the jobs the viewer may act on; count the rest as skipped."""
    ids = list(dict.fromkeys(job_ids))
    if action is BulkAction.RETRY:
        done = len(await control.retry_many(ids, tenant=viewer.scope, actor=viewer.actor))
    elif action is BulkAction.CANCEL:
        done = len(await control.cancel_many(ids, tenant=viewer.scope, actor=viewer.actor))
    else:
        done = await control.delete_many(ids, tenant=viewer.scope)
    return BulkResult(action=action, done=done, skipped=len(ids) - done)


async def apply_one(control: JobControl, action: BulkAction, job: Job, viewer: Viewer) -> None:
    """One job's action; raises `IllegalTransition` or `JobNotFound` like the store."""
    if action is BulkAction.RETRY:
        await control.retry(job.id, tenant=viewer.scope, actor=viewer.actor)
    elif action is BulkAction.CANCEL:
        await control.cancel(job.id, tenant=viewer.scope, actor=viewer.actor)
    else:
        await control.delete(job.id, tenant=viewer.scope)
