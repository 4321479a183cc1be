"""The query parameters of job listings (`GET /jobs`, `GET /dlq`) and the page they fetch."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from jobforge.api.auth import Principal
from jobforge.api.deps import ApiServices
from jobforge.api.errors import ApiError
from jobforge.api.fields import INT32_MAX, JobType, QueueName, TenantName, UtcDatetime
from jobforge.api.schemas import JobList, JobOut
from jobforge.domain.states import JobState
from jobforge.store.params import ListJobsParams

MAX_LIMIT = 500
CURSOR_PATTERN = r"^[A-Za-z0-9_=.:~+/-]{1,512}$"


class JobFilters(BaseModel):
    """Filters and paging of a job listing; repeat `type` or `queue` to match any of
    several values."""

    type: list[JobType] = Field(default_factory=list, max_length=50)
    queue: list[QueueName] = Field(default_factory=list, max_length=50)
    q: str | None = Field(
        default=None,
        pattern=r"^[!-~]{1,255}$",
        description="Prefix of a job id or of an idempotency key.",
    )
    created_after: UtcDatetime | None = None
    created_before: UtcDatetime | None = None
    tenant: TenantName | None = Field(default=None, description="Admin keys only.")
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    offset: int = Field(default=0, ge=0, le=INT32_MAX)
    cursor: str | None = Field(
        default=None, pattern=CURSOR_PATTERN, description="`next_cursor` of the previous page."
    )


class ListFilters(JobFilters):
    """`JobFilters` plus `status` (repeat it to match any of several states)."""

    status: list[JobState] = Field(default_factory=list, max_length=7)


async def fetch_page(
    services: ApiServices,
    principal: Principal,
    filters: JobFilters,
    *,
    statuses: Sequence[JobState],
) -> JobList:
    """The page of jobs the filters select, within what the principal may see."""
    params = ListJobsParams(
        tenant=principal.scope_for(filters.tenant),
        statuses=tuple(statuses),
        types=tuple(filters.type),
        queues=tuple(filters.queue),
        q=filters.q,
        created_after=filters.created_after,
        created_before=filters.created_before,
        limit=filters.limit,
        offset=filters.offset,
        cursor=filters.cursor,
    )
    try:
        page = await services.store.list_jobs(params)
    except (ValueError, TypeError, KeyError) as exc:
        # Only a cursor carries client-made structure the store has to decode; anything
        # else failing this way is a bug and must surface as one.
        if filters.cursor is None:
            raise
        raise ApiError(
            400,
            "invalid_cursor",
            "cursor is not a next_cursor this API returned",
            details=[{"field": "query.cursor", "message": str(exc), "type": "value_error"}],
        ) from exc
    return JobList(
        items=[JobOut.from_domain(job) for job in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        next_cursor=page.next_cursor,
    )
