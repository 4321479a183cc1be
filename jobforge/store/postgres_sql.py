"""The PostgreSQL hot path as raw SQL for asyncpg: one statement, one round trip, per batch.

These replace the portable statements of `jobforge.store.sql.leases` and `insert_jobs` on
PostgreSQL, where SQLAlchemy's per-row compile and type processing would cost more than
the database does. Each statement does for a whole batch what the portable version does,
with the same guards: the runnable states in the claim, the lease token in every write.
"""

from __future__ import annotations

CHANNEL = "jobforge_jobs"

CLAIM = """
UPDATE jobforge_jobs AS j
SET status = 'running',
    attempts = j.attempts + 1,
    worker_id = $3,
    lease_token = gen_random_uuid(),
    lease_expires_at = now() + make_interval(secs => $4::float8),
    started_at = now(),
    updated_at = now(),
    cancel_requested = false
WHERE j.id = ANY(ARRAY(
    SELECT c.id
    FROM unnest($1::text[]) AS qn(name)
    CROSS JOIN LATERAL (
        SELECT d.id, d.priority, d.run_at
        FROM jobforge_jobs AS d
        WHERE d.queue = qn.name
          AND d.status IN ('failed', 'pending', 'scheduled')
          AND d.run_at <= now()
          AND NOT EXISTS (
              SELECT 1 FROM jobforge_queue_pauses AS p
              WHERE p.queue = d.queue AND (p.tenant = d.tenant OR p.tenant = '*')
          )
        ORDER BY d.priority, d.run_at
        LIMIT $2
        FOR UPDATE SKIP LOCKED
    ) AS c
    ORDER BY c.priority, c.run_at
    LIMIT $2
))
RETURNING j.*
"""
"""Claim up to $2 due jobs of queues $1 for worker $3, leased for $4 seconds.

`id = ANY(ARRAY(...))` makes the chosen ids a list of primary-key lookups; as `id IN (...)`
the planner may hash-join the whole table. One ordered scan of `ix_jobs_claim` per queue
(`queue = ANY(...)` would read and sort every runnable job of the queues), then the best $2
of those. A queue may lock up to $2 rows it
does not claim; they are released when the statement commits, a moment later."""

HEARTBEAT = """
WITH seen AS (
    UPDATE jobforge_workers SET last_seen_at = now() WHERE id = $3
)
UPDATE jobforge_jobs
SET lease_expires_at = now() + make_interval(secs => $2::float8)
WHERE status = 'running' AND lease_token = ANY($1::uuid[])
RETURNING id, cancel_requested
"""
"""Extend every running lease whose token is in $1 by $2 seconds; refresh worker $3."""

FINISH = """
WITH o AS (
    SELECT *
    FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], $5::text[], $6::text[],
                $7::timestamptz[])
        AS o(id, token, kind, result, message, traceback, retry_at)
)
UPDATE jobforge_jobs AS j
SET status = CASE
        WHEN o.kind <> 'failed' THEN o.kind
        WHEN o.retry_at IS NULL THEN 'dead'
        ELSE 'failed'
    END,
    result = CASE WHEN o.kind = 'completed' THEN o.result ELSE j.result END,
    attempts = CASE WHEN o.kind = 'pending' THEN greatest(j.attempts - 1, 0) ELSE j.attempts END,
    run_at = CASE
        WHEN o.kind = 'pending' THEN now()
        WHEN o.kind = 'failed' AND o.retry_at IS NOT NULL THEN o.retry_at
        ELSE j.run_at
    END,
    finished_at = CASE
        WHEN o.kind IN ('completed', 'cancelled') THEN now()
        WHEN o.kind = 'failed' AND o.retry_at IS NULL THEN now()
    END,
    errors = CASE
        WHEN o.kind = 'failed' THEN j.errors || jsonb_build_array(jsonb_build_object(
            'attempt', j.attempts, 'at', now(), 'message', o.message,
            'traceback', o.traceback, 'worker_id', j.worker_id))
        ELSE j.errors
    END,
    last_error = CASE WHEN o.kind = 'failed' THEN o.message ELSE j.last_error END,
    lease_token = NULL,
    lease_expires_at = NULL,
    cancel_requested = false,
    updated_at = now()
FROM o
WHERE j.id = ANY($1::uuid[]) AND j.id = o.id AND j.lease_token = o.token
  AND j.status = 'running'
RETURNING j.id, j.tenant, j.type, j.queue, j.status, j.attempts, j.updated_at
"""
"""Apply a batch of outcomes given as parallel arrays (kind: completed, failed, cancelled,
or pending for a released attempt), each only while its lease token is current."""

NOTIFY = f"SELECT pg_notify('{CHANNEL}', q) FROM unnest($1::text[]) AS q"
"""Wake the workers listening for the queues in $1."""

INSERT = f"""
WITH input AS (
    SELECT *
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::jsonb[],
                $7::int[], $8::timestamptz[], $9::float8[], $10::text[], $11::text[])
        WITH ORDINALITY
        AS i(id, tenant, type, queue, priority, payload, max_attempts, run_at,
             timeout_seconds, idempotency_key, trace_id, n)
), ins AS (
    INSERT INTO jobforge_jobs (
        id, tenant, type, queue, priority, payload, status, attempts, max_attempts, run_at,
        timeout_seconds, idempotency_key, errors, cancel_requested, trace_id,
        created_at, updated_at)
    SELECT id, tenant, type, queue, priority, payload,
           CASE WHEN run_at > now() THEN 'scheduled' ELSE 'pending' END,
           0, max_attempts,
           CASE WHEN run_at > now() THEN run_at ELSE now() END,
           timeout_seconds, idempotency_key, '[]'::jsonb, false, trace_id, now(), now()
    FROM input
    ORDER BY n
    ON CONFLICT DO NOTHING
    RETURNING *
)
SELECT ins.*,
       (SELECT count(*) FROM (
            SELECT pg_notify('{CHANNEL}', q.queue)
            FROM (SELECT DISTINCT queue FROM ins WHERE status = 'pending') AS q
        ) AS sent) AS notified
FROM ins
"""
"""Insert a batch given as parallel arrays, skipping rows whose (tenant, idempotency key)
or id exists, and notify each queue that got a runnable job: all in one statement, so a
batch is atomic and announced on commit without a transaction block around it."""

EXISTING_BY_KEY = """
SELECT j.*
FROM jobforge_jobs AS j
JOIN unnest($1::text[], $2::text[]) AS k(tenant, idempotency_key)
  ON j.tenant = k.tenant AND j.idempotency_key = k.idempotency_key
"""
"""The jobs holding the given (tenant, idempotency key) pairs."""
