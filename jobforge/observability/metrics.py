"""Every Prometheus collector of jobforge, declared in one place so names are greppable.

Collectors live in prometheus-client's default registry: a process exposes one `/metrics`
page however many apps, workers or stores it builds (tests build many apps, which is why
nothing here is created per app). Label values are bounded sets (queue names, states,
route templates, outcomes), never tenants, job ids or raw paths, so the series count stays
small.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

__all__ = [
    "CONTENT_TYPE_LATEST",
    "HTTP_REQUESTS",
    "HTTP_REQUEST_SECONDS",
    "JOBS_BY_STATE",
    "JOBS_SUBMITTED",
    "JOB_DURATION_SECONDS",
    "JOB_OUTCOMES",
    "RATE_LIMITED",
    "RATE_LIMITER_ERRORS",
    "STORE_CALL_SECONDS",
    "WORKERS_ALIVE",
    "render_latest",
]

# -- API ------------------------------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "jobforge_http_requests_total",
    "HTTP requests served, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "jobforge_http_request_seconds",
    "Time to serve an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
JOBS_SUBMITTED = Counter(
    "jobforge_jobs_submitted_total",
    "Jobs created through the API (idempotent replays excluded), by queue.",
    ["queue"],
)
RATE_LIMITED = Counter(
    "jobforge_rate_limited_total",
    "Requests refused with 429, by limit (tenant or ip).",
    ["limit"],
)
RATE_LIMITER_ERRORS = Counter(
    "jobforge_rate_limiter_errors_total",
    "Rate-limit checks that could not reach Redis, by what was done (allowed or refused).",
    ["action"],
)

# -- store and queue state (refreshed when /metrics is scraped) -------------------------------
JOBS_BY_STATE = Gauge(
    "jobforge_jobs",
    "Jobs currently in the store, by queue and state (all tenants).",
    ["queue", "state"],
)
WORKERS_ALIVE = Gauge(
    "jobforge_workers_alive",
    "Worker processes that heartbeated within one lease period.",
)
STORE_CALL_SECONDS = Histogram(
    "jobforge_store_call_seconds",
    "Time spent in one Store call, by operation.",
    ["operation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0),
)

# -- worker --------------------------------------------------------------------------------
JOB_OUTCOMES = Counter(
    "jobforge_job_outcomes_total",
    "Finished attempts, by queue and outcome (completed, failed, dead, cancelled, released).",
    ["queue", "outcome"],
)
JOB_DURATION_SECONDS = Histogram(
    "jobforge_job_duration_seconds",
    "Handler run time of one attempt, by queue.",
    ["queue"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)


def render_latest() -> bytes:
    """The Prometheus text exposition of every collector in the default registry."""
    return generate_latest()
