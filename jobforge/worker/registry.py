"""`HandlerRegistry`: job type -> handler, and how each kind of handler is invoked.

Async handlers run on the worker's event loop; sync handlers run in a thread pool sized to
the worker's concurrency, so a blocking handler never stalls the loop (and with it the
heartbeats that keep every other job's lease alive).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import threading
import uuid
from asyncio import Future
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import structlog

from jobforge.domain.backoff import Backoff
from jobforge.domain.errors import ConfigError
from jobforge.domain.job import Job, JsonObject

Handler = Callable[[JsonObject, "TaskContext"], Any]
"""A handler takes the job's payload and a `TaskContext`; it may be sync or async."""


@dataclass(frozen=True, kw_only=True)
class TaskContext:
    """What a handler knows about the attempt it is running."""

    job: Job

    @property
    def job_id(self) -> uuid.UUID:
        return self.job.id

    @property
    def attempt(self) -> int:
        """1 for the first attempt; counted when the job was claimed."""
        return self.job.attempts

    @property
    def max_attempts(self) -> int:
        return self.job.max_attempts

    @functools.cached_property
    def logger(self) -> Any:
        """A structlog logger bound to the job (built on first use: most handlers never log)."""
        return structlog.get_logger("jobforge.handler").bind(
            job_id=str(self.job.id), job_type=self.job.type, attempt=self.job.attempts
        )


@dataclass(frozen=True, kw_only=True)
class HandlerSpec:
    """A registered handler and its per-type policy.

    `queue`, `max_attempts` and `timeout` are the defaults a job of this type gets when it is
    built through the app (`JobForge.new_job`); once stored, the job's own `max_attempts` and
    `timeout_seconds` rule, so the worker and the lease rescuer always agree on when a job is
    dead. `backoff` is the retry curve (None: the worker's default); `retry=False` sends every
    failure straight to `dead`.
    """

    name: str
    fn: Handler
    queue: str | None = None
    max_attempts: int | None = None
    timeout: float | None = None
    backoff: Backoff | None = None
    retry: bool = True
    is_async: bool = field(init=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise ConfigError("a handler needs a non-empty job type name")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ConfigError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.timeout is not None and self.timeout <= 0:
            raise ConfigError(f"timeout must be positive, got {self.timeout}")
        object.__setattr__(self, "is_async", inspect.iscoroutinefunction(self.fn))


class HandlerRegistry:
    """Handlers by job type."""

    def __init__(self) -> None:
        self._specs: dict[str, HandlerSpec] = {}

    def add(self, spec: HandlerSpec) -> None:
        """Register a handler; registering the same type twice is a configuration error."""
        if spec.name in self._specs:
            raise ConfigError(f"a handler for job type {spec.name!r} is already registered")
        self._specs[spec.name] = spec

    def get(self, job_type: str) -> HandlerSpec | None:
        return self._specs.get(job_type)

    def __contains__(self, job_type: object) -> bool:
        return job_type in self._specs

    def __iter__(self) -> Iterator[HandlerSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def merge(self, other: HandlerRegistry) -> None:
        """Add every handler of `other` (duplicates are an error, as with `add`)."""
        for spec in other:
            self.add(spec)


class HandlerInvoker:
    """Calls handlers: async ones on the loop, sync ones in a bounded thread pool."""

    def __init__(self, *, threads: int) -> None:
        if threads < 1:
            raise ConfigError(f"threads must be at least 1, got {threads}")
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._in_threads = 0
        self._lock = threading.Lock()

    def call_sync(self, spec: HandlerSpec, payload: JsonObject, ctx: TaskContext) -> Future[Any]:
        """Run a sync handler in the pool; the future resolves when its thread returns."""
        # Copy the context so contextvars (trace ids, structlog bindings) reach the thread.
        call = functools.partial(
            contextvars.copy_context().run, self._counted, spec.fn, payload, ctx
        )
        return asyncio.wrap_future(self._thread_pool().submit(call))

    @property
    def threads_busy(self) -> int:
        """Sync handlers running in a thread right now. A thread cannot be interrupted, so a
        worker that gives up on one (timeout, shutdown) must know it is still there."""
        with self._lock:
            return self._in_threads

    def shutdown(self) -> None:
        """Stop accepting work; threads still inside a handler finish in the background."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _counted(self, fn: Handler, payload: JsonObject, ctx: TaskContext) -> Any:
        with self._lock:
            self._in_threads += 1
        try:
            return fn(payload, ctx)
        finally:
            with self._lock:
                self._in_threads -= 1

    def _thread_pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="jobforge-handler")
        return self._pool
