"""`JobForge`: the app object users register handlers on, and the composition root.

```python
forge = JobForge()

@forge.task("email.send", queue="emails", max_attempts=5, timeout=30)
async def send_email(payload, ctx):
    ...
```

`jobforge worker --app mymodule:forge` finds it by that path. The app holds no business
logic: it collects handlers and builds the store and worker from `Settings`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from jobforge.config import Settings
from jobforge.domain.backoff import Backoff
from jobforge.domain.errors import ConfigError
from jobforge.domain.job import JsonObject, NewJob
from jobforge.events import EventBus
from jobforge.store.protocol import Store
from jobforge.worker.registry import Handler, HandlerRegistry, HandlerSpec, TaskContext
from jobforge.worker.worker import Worker, WorkerConfig

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_APP = "jobforge.demo.handlers:forge"
"""The app `jobforge worker` and `jobforge up` load when `--app` is not given."""

__all__ = ["DEFAULT_APP", "JobForge", "TaskContext", "load_app"]


class JobForge:
    """A registry of job handlers, each with its retry policy, plus composition helpers."""

    def __init__(self) -> None:
        self.registry = HandlerRegistry()

    def task(
        self,
        name: str,
        *,
        queue: str | None = None,
        max_attempts: int | None = None,
        timeout: float | None = None,
        backoff_base: float | None = None,
        backoff_max: float | None = None,
        backoff_jitter: bool = True,
        retry: bool = True,
    ) -> Callable[[F], F]:
        """Decorator: register the function as the handler of job type `name`.

        `backoff_base`/`backoff_max` set this type's retry curve (exponential, full jitter
        unless `backoff_jitter=False`); unset, the worker's configured backoff applies.
        `retry=False` sends every failure straight to `dead`.
        """

        def decorate(fn: F) -> F:
            self.register(
                name,
                fn,
                queue=queue,
                max_attempts=max_attempts,
                timeout=timeout,
                backoff_base=backoff_base,
                backoff_max=backoff_max,
                backoff_jitter=backoff_jitter,
                retry=retry,
            )
            return fn

        return decorate

    def register(
        self,
        name: str,
        fn: Handler,
        *,
        queue: str | None = None,
        max_attempts: int | None = None,
        timeout: float | None = None,
        backoff_base: float | None = None,
        backoff_max: float | None = None,
        backoff_jitter: bool = True,
        retry: bool = True,
    ) -> None:
        """Register `fn(payload, ctx)` as the handler of job type `name`."""
        self.registry.add(
            HandlerSpec(
                name=name,
                fn=fn,
                queue=queue,
                max_attempts=max_attempts,
                timeout=timeout,
                backoff=_backoff(backoff_base, backoff_max, backoff_jitter),
                retry=retry,
            )
        )

    def include(self, other: JobForge) -> None:
        """Add every handler of another app (e.g. the demo handlers) to this one."""
        self.registry.merge(other.registry)

    @property
    def queues(self) -> list[str]:
        """Queues named by the registered handlers."""
        return sorted({s.queue for s in self.registry if s.queue})

    def new_job(self, name: str, payload: JsonObject | None = None, **fields: Any) -> NewJob:
        """A `NewJob` of type `name` carrying its handler's queue, max_attempts and timeout
        unless `fields` say otherwise."""
        spec = self.registry.get(name)
        if spec is not None:
            defaults = {
                "queue": spec.queue,
                "max_attempts": spec.max_attempts,
                "timeout_seconds": spec.timeout,
            }
            for key, value in defaults.items():
                if value is not None:
                    fields.setdefault(key, value)
        return NewJob(type=name, payload=payload or {}, **fields)

    # -- composition ------------------------------------------------------------------------
    def worker_queues(self, settings: Settings) -> list[str]:
        """Queues a worker serves by default: `JOBFORGE_QUEUES` if set, else the default
        list plus every queue a handler names."""
        if "queues" in settings.model_fields_set:
            return settings.queue_list
        return sorted(set(settings.queue_list) | set(self.queues))

    def worker_config(
        self,
        settings: Settings,
        *,
        queues: Sequence[str] | None = None,
        concurrency: int | None = None,
        **overrides: Any,
    ) -> WorkerConfig:
        if concurrency is not None:
            overrides["concurrency"] = concurrency
        return WorkerConfig.from_settings(
            settings, queues=list(queues or self.worker_queues(settings)), **overrides
        )

    def build_worker(
        self,
        store: Store,
        settings: Settings,
        *,
        bus: EventBus | None = None,
        queues: Sequence[str] | None = None,
        concurrency: int | None = None,
        **overrides: Any,
    ) -> Worker:
        """A `Worker` running this app's handlers on `store` (not started)."""
        config = self.worker_config(settings, queues=queues, concurrency=concurrency, **overrides)
        return Worker(store, self.registry, config, bus=bus)


def open_store(settings: Settings) -> Store:
    """The store named by `settings.database_url`."""
    from jobforge.store import open_store as _open

    return _open(settings.database_url, default_max_attempts=settings.default_max_attempts)


def load_app(path: str | None) -> JobForge:
    """Import `module:attribute` (default: the demo app) and return the `JobForge` there."""
    path = path or DEFAULT_APP
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"--app must look like 'module:object', got {path!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import app module {module_name!r}: {exc}") from exc
    obj: Any = module
    for part in attr.split("."):
        obj = getattr(obj, part, None)
    if not isinstance(obj, JobForge):
        raise ConfigError(f"{path!r} is not a JobForge app (got {type(obj).__name__})")
    return obj


def _backoff(base: float | None, cap: float | None, jitter: bool) -> Backoff | None:
    if base is None and cap is None and jitter:
        return None
    default = Backoff()
    cap = cap if cap is not None else max(default.cap, base or 0.0)
    base = base if base is not None else min(default.base, cap)
    return Backoff(base=base, cap=cap, jitter=jitter)
