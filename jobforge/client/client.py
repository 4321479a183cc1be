"""`AsyncClient`: the one implementation of the jobforge API in Python.

```python
async with AsyncClient("http://127.0.0.1:8000", api_key="jf_...") as jf:
    job = await jf.create_job("email.send", {"to": "ada@example.com"})
    job = await jf.wait_for_job(job.id)
```

Every endpoint of the v1 contract is one typed method. Errors raise the exception of their
status (`jobforge.client.errors`); transient failures are retried per `RetryPolicy`. The
blocking `Client` (`jobforge.client.sync`) drives this same class.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from jobforge.client.errors import ClientError, TransportError, error_from_response
from jobforge.client.models import (
    BatchResult,
    Health,
    JobInfo,
    JobPage,
    JobRequest,
    Metrics,
    QueueInfo,
    Readiness,
    WorkerInfo,
)
from jobforge.client.retry import RetryPolicy
from jobforge.domain.states import JobState

DEFAULT_URL = "http://127.0.0.1:8000"
API = "/api/v1"

JobId = uuid.UUID | str
Filter = str | Sequence[str] | None
"""One value or several (sent as a repeated query parameter)."""
Query = list[tuple[str, str | int | float | bool | None]]


class AsyncClient:
    """Talks to a jobforge server over HTTP; use as `async with` or call `aclose()`."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"User-Agent": "jobforge-client", "Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.url = url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._http = httpx.AsyncClient(
            base_url=self.url, headers=headers, timeout=timeout, transport=transport
        )

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # -- jobs ----------------------------------------------------------------------------
    async def create_job(
        self,
        type: str,
        payload: Mapping[str, Any] | None = None,
        *,
        queue: str | None = None,
        priority: int | None = None,
        max_attempts: int | None = None,
        run_at: datetime | None = None,
        delay: float | timedelta | None = None,
        timeout_seconds: float | None = None,
        idempotency_key: str | None = None,
        trace_id: str | None = None,
        tenant: str | None = None,
    ) -> JobInfo:
        """Submit one job. With an `idempotency_key` seen before, the server returns the
        original job (`replayed=True`); `delay` is a shorthand for `run_at = now + delay`."""
        request = JobRequest(
            type=type,
            payload=dict(payload or {}),
            queue=queue,
            priority=priority,
            max_attempts=max_attempts,
            run_at=_run_at(run_at, delay),
            timeout_seconds=timeout_seconds,
            idempotency_key=idempotency_key,
            trace_id=trace_id,
            tenant=tenant,
        )
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        response = await self._request(
            "POST",
            "/jobs",
            json=request.to_json(),
            headers=headers,
            idempotent=idempotency_key is not None,
        )
        replayed = response.headers.get("idempotent-replayed", "").lower() == "true"
        return JobInfo.model_validate({**response.json(), "replayed": replayed})

    async def create_jobs(self, jobs: Iterable[JobRequest | Mapping[str, Any]]) -> BatchResult:
        """Submit up to 1,000 jobs in one transaction (all or none)."""
        requests = [j if isinstance(j, JobRequest) else JobRequest.model_validate(j) for j in jobs]
        response = await self._request(
            "POST",
            "/jobs/batch",
            json={"jobs": [r.to_json() for r in requests]},
            idempotent=all(r.idempotency_key for r in requests),
        )
        return BatchResult.model_validate(response.json())

    async def get_job(self, job_id: JobId) -> JobInfo:
        """One job with its attempt history; `NotFound` for an unknown (or another
        tenant's) job."""
        response = await self._request("GET", f"/jobs/{job_id}")
        return JobInfo.model_validate(response.json())

    async def list_jobs(
        self,
        *,
        status: Filter = None,
        type: Filter = None,
        queue: Filter = None,
        q: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
        cursor: str | None = None,
        tenant: str | None = None,
    ) -> JobPage:
        """A page of jobs, newest first. `status`, `type` and `queue` take one value or a
        list; `q` matches an id or idempotency-key prefix; `tenant` is for admin keys."""
        params = _params(
            status=status,
            type=type,
            queue=queue,
            q=q,
            created_after=created_after,
            created_before=created_before,
            tenant=tenant,
            limit=limit,
            offset=offset if cursor is None else None,
            cursor=cursor,
        )
        response = await self._request("GET", "/jobs", params=params)
        return JobPage.model_validate(response.json())

    async def iter_jobs(self, *, page_size: int = 200, **filters: Any) -> AsyncIterator[JobInfo]:
        """Every job matching `list_jobs` filters, page by page along the cursor."""
        cursor: str | None = None
        while True:
            page = await self.list_jobs(limit=page_size, cursor=cursor, **filters)
            for job in page.items:
                yield job
            if not page.next_cursor or not page.items:
                return
            cursor = page.next_cursor

    async def retry_job(self, job_id: JobId) -> JobInfo:
        """Send a failed, dead or cancelled job back to pending; `Conflict` otherwise."""
        response = await self._request("POST", f"/jobs/{job_id}/retry")
        return JobInfo.model_validate(response.json())

    async def cancel_job(self, job_id: JobId) -> JobInfo:
        """Cancel a job (a running one is asked to stop); `Conflict` if it has finished."""
        response = await self._request("POST", f"/jobs/{job_id}/cancel")
        return JobInfo.model_validate(response.json())

    async def wait_for_job(
        self, job_id: JobId, *, timeout: float = 60.0, interval: float = 0.25
    ) -> JobInfo:
        """Poll until the job is completed, dead or cancelled; `TimeoutError` after
        `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            job = await self.get_job(job_id)
            if job.finished:
                return job
            if time.monotonic() >= deadline:
                raise TimeoutError(f"job {job_id} still {job.status.value} after {timeout}s")
            await asyncio.sleep(interval)

    # -- dead letters --------------------------------------------------------------------
    async def list_dead(
        self,
        *,
        type: Filter = None,
        queue: Filter = None,
        limit: int = 50,
        offset: int = 0,
        cursor: str | None = None,
        tenant: str | None = None,
    ) -> JobPage:
        """A page of dead jobs (the dead-letter queue), newest first."""
        params = _params(
            type=type,
            queue=queue,
            tenant=tenant,
            limit=limit,
            offset=offset if cursor is None else None,
            cursor=cursor,
        )
        response = await self._request("GET", "/dlq", params=params)
        return JobPage.model_validate(response.json())

    async def retry_dead(
        self,
        *,
        types: Sequence[str] = (),
        queues: Sequence[str] = (),
        job_ids: Sequence[JobId] = (),
        tenant: str | None = None,
    ) -> int:
        """Send dead jobs back to pending (all of them, or those matching every filter);
        returns how many moved."""
        body = _selector(types=types, queues=queues, job_ids=job_ids, tenant=tenant)
        response = await self._request("POST", "/dlq/retry", json=body)
        return int(response.json()["count"])

    async def purge_dead(
        self,
        *,
        types: Sequence[str] = (),
        queues: Sequence[str] = (),
        job_ids: Sequence[JobId] = (),
        tenant: str | None = None,
    ) -> int:
        """Delete dead jobs (all of them, or those matching every filter); returns how many."""
        params = _params(
            type=list(types) or None,
            queue=list(queues) or None,
            job_id=[str(j) for j in job_ids] or None,
            tenant=tenant,
        )
        response = await self._request("DELETE", "/dlq", params=params)
        return int(response.json()["count"])

    # -- queues, metrics, workers --------------------------------------------------------
    async def list_queues(self, *, tenant: str | None = None) -> list[QueueInfo]:
        """Every queue with jobs or a pause: counts per state and pause state."""
        response = await self._request("GET", "/queues", params=_params(tenant=tenant))
        return [QueueInfo.model_validate(item) for item in response.json()["items"]]

    async def pause_queue(self, name: str, *, tenant: str | None = None) -> QueueInfo:
        """Stop workers claiming from this queue for the caller's tenant (an admin key
        pauses it for every tenant unless `tenant` is given). Running jobs finish."""
        response = await self._request(
            "POST", f"/queues/{name}/pause", params=_params(tenant=tenant), idempotent=True
        )
        return QueueInfo.model_validate(response.json())

    async def resume_queue(self, name: str, *, tenant: str | None = None) -> QueueInfo:
        """Undo `pause_queue` for the same scope."""
        response = await self._request(
            "POST", f"/queues/{name}/resume", params=_params(tenant=tenant), idempotent=True
        )
        return QueueInfo.model_validate(response.json())

    async def metrics(self, *, tenant: str | None = None) -> Metrics:
        """Counts per state and recent throughput (all tenants for an admin key, or the
        one it names)."""
        response = await self._request("GET", "/metrics", params=_params(tenant=tenant))
        return Metrics.model_validate(response.json())

    async def workers(self) -> list[WorkerInfo]:
        """Worker processes seen recently."""
        response = await self._request("GET", "/workers")
        return [WorkerInfo.model_validate(item) for item in response.json()["items"]]

    async def health(self) -> Health:
        """`GET /health`: whether the process answers (no key needed)."""
        response = await self._request("GET", "/health", prefix="")
        return Health.model_validate(response.json())

    async def ready(self) -> Readiness:
        """`GET /ready`: whether the store answers; `ServiceUnavailable` when it does not."""
        response = await self._request("GET", "/ready", prefix="", retry=False)
        return Readiness.model_validate(response.json())

    # -- transport -----------------------------------------------------------------------
    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Query | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        prefix: str = API,
        retry: bool = True,
    ) -> httpx.Response:
        """Send, retrying per the policy; return a 2xx response or raise its `ClientError`."""
        if idempotent is None:
            idempotent = method in ("GET", "HEAD")
        attempts = self.retry.attempts if retry else 1
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            try:
                response = await self._http.request(
                    method, prefix + path, params=params, json=json, headers=headers
                )
            except httpx.TransportError as exc:
                if last or not self.retry.should_retry_error(exc, idempotent=idempotent):
                    raise _transport_error(exc, self.url) from exc
                await asyncio.sleep(self.retry.wait(attempt))
                continue
            if response.is_success:
                return response
            error = error_from_response(response)
            if last or not self.retry.should_retry_status(
                response.status_code, idempotent=idempotent
            ):
                raise error
            await asyncio.sleep(self.retry.wait(attempt, getattr(error, "retry_after", None)))
        raise AssertionError("the retry loop always returns or raises")  # pragma: no cover


def _transport_error(exc: httpx.TransportError, url: str) -> ClientError:
    if isinstance(exc, httpx.ConnectError):
        return TransportError(f"cannot connect to {url}: is the server running? ({exc})")
    if isinstance(exc, httpx.TimeoutException):
        return TransportError(f"{url} did not answer in time ({type(exc).__name__})")
    return TransportError(f"{url}: {type(exc).__name__}: {exc}")


def _run_at(run_at: datetime | None, delay: float | timedelta | None) -> datetime | None:
    if delay is None:
        return run_at
    if run_at is not None:
        raise ValueError("pass run_at or delay, not both")
    seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
    return datetime.now(UTC) + timedelta(seconds=seconds)


def _params(**values: Any) -> Query:
    """Query parameters without the unset ones; a list becomes a repeated parameter."""
    params: Query = []
    for name, value in values.items():
        if value is None:
            continue
        items = [value] if isinstance(value, str | int | datetime) else list(value)
        params.extend((name, _param_text(v)) for v in items)
    return params


def _param_text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, JobState):
        return value.value
    return str(value)


def _selector(
    *, types: Sequence[str], queues: Sequence[str], job_ids: Sequence[JobId], tenant: str | None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "types": list(types),
        "queues": list(queues),
        "job_ids": [str(j) for j in job_ids],
    }
    if tenant is not None:
        body["tenant"] = tenant
    return body
