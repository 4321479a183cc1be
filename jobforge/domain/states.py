"""Job states and the one table of legal transitions.

```
            enqueue (run now)          enqueue (run later)
                  |                          |
                  v                          v
   +-------->  pending  <--- run_at due --- scheduled
   |              | claim (attempts += 1, fresh lease)
   |              v
   |           running ----> completed
   |           |  |  \\
   |  backoff  |  |   \\----> cancelled (cancel requested, handler stopped)
   |   v       |  v
   +--- failed <--+--> dead (no attempts left, non-retryable, or lease lost on the last attempt)
   |                    |
   +---- manual retry --+-- (also from cancelled)
```

Every change of a job's state goes through `ensure_transition`, so an illegal move is an
`IllegalTransition` error and never a silent overwrite. The store's guarded UPDATE statements
encode the same table in their WHERE clauses (a row only moves from a state listed here).
"""

from __future__ import annotations

from enum import StrEnum

from jobforge.domain.errors import IllegalTransition


class JobState(StrEnum):
    """Where a job is in its life, and who moves it in and out of each state."""

    PENDING = "pending"
    """Due to run. Entered on enqueue (no delay) or manual retry; left when a worker's
    fetcher claims it (-> running) or a user cancels it."""

    SCHEDULED = "scheduled"
    """Enqueued with a future `run_at`. The claim query treats it as pending once `run_at`
    is reached; a user may cancel it."""

    RUNNING = "running"
    """Claimed by a worker, which holds the lease token. Left when the worker's completer
    records an outcome, or when the lease rescuer finds the lease expired."""

    COMPLETED = "completed"
    """The handler returned; the result is stored. Final."""

    FAILED = "failed"
    """The last attempt failed and a retry is due at `run_at` (backoff). Claimed again by a
    fetcher once due; a user may cancel or retry it at once."""

    DEAD = "dead"
    """The dead-letter queue: attempts exhausted or a non-retryable error. Left only by a
    manual retry (or purged)."""

    CANCELLED = "cancelled"
    """Stopped by a user. Left only by a manual retry."""


RUNNABLE: frozenset[JobState] = frozenset({JobState.PENDING, JobState.SCHEDULED, JobState.FAILED})
"""States a fetcher may claim from (once `run_at` is due)."""

FINAL: frozenset[JobState] = frozenset({JobState.COMPLETED, JobState.DEAD, JobState.CANCELLED})
"""States no worker will move a job out of."""

RETRYABLE_BY_USER: frozenset[JobState] = frozenset(
    {JobState.FAILED, JobState.DEAD, JobState.CANCELLED}
)
"""States a manual retry moves back to pending."""

CANCELLABLE: frozenset[JobState] = frozenset(
    {JobState.PENDING, JobState.SCHEDULED, JobState.FAILED}
)
"""States a cancel moves to `cancelled` at once (a running job is asked to stop instead)."""

TRANSITIONS: dict[JobState | None, frozenset[JobState]] = {
    None: frozenset({JobState.PENDING, JobState.SCHEDULED}),
    JobState.SCHEDULED: frozenset({JobState.PENDING, JobState.RUNNING, JobState.CANCELLED}),
    JobState.PENDING: frozenset({JobState.RUNNING, JobState.CANCELLED}),
    # running -> pending is a worker releasing an attempt it could not finish within the
    # shutdown grace period (the attempt is refunded), so a deploy does not burn retries.
    JobState.RUNNING: frozenset(
        {JobState.COMPLETED, JobState.FAILED, JobState.DEAD, JobState.CANCELLED, JobState.PENDING}
    ),
    JobState.FAILED: frozenset({JobState.RUNNING, JobState.CANCELLED, JobState.PENDING}),
    JobState.DEAD: frozenset({JobState.PENDING}),
    JobState.CANCELLED: frozenset({JobState.PENDING}),
    JobState.COMPLETED: frozenset(),
}
"""The only legal moves. `None` is "not yet stored". Scheduled -> running is the implicit
scheduled -> pending -> running of a claim once `run_at` is due."""


def can_transition(source: JobState | None, target: JobState) -> bool:
    """Whether moving a job from `source` to `target` is legal."""
    return target in TRANSITIONS[source]


def ensure_transition(source: JobState | None, target: JobState) -> None:
    """Raise `IllegalTransition` unless `source -> target` is in `TRANSITIONS`."""
    if not can_transition(source, target):
        raise IllegalTransition(source, target)


def sources_of(target: JobState) -> frozenset[JobState]:
    """Every stored state from which `target` may legally be reached."""
    return frozenset(s for s, targets in TRANSITIONS.items() if s is not None and target in targets)
