"""`Client`: the blocking face of `AsyncClient`, for scripts, notebooks and web views.

It is not a second implementation. Each method runs the matching `AsyncClient` coroutine on
a private event loop in a background thread, and blocks until it finishes. The loop lives in
its own thread so the client also works where a loop is already running (a notebook, an
async framework calling sync code), which `asyncio.run` would refuse.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import weakref
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, Concatenate, ParamSpec, TypeVar

from jobforge.client.client import DEFAULT_URL, AsyncClient
from jobforge.client.models import JobInfo
from jobforge.client.retry import RetryPolicy

P = ParamSpec("P")
R = TypeVar("R")


class _LoopThread:
    """An event loop running forever in a daemon thread, until `stop()`."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="jobforge-client", daemon=True
        )
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, R]) -> R:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


def _blocking(
    method: Callable[Concatenate[AsyncClient, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[Client, P], R]:
    """The blocking twin of an `AsyncClient` method, with its signature and docstring."""

    @functools.wraps(method)
    def call(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._loop.run(method(self._async, *args, **kwargs))

    return call


class Client:
    """Blocking jobforge client; use as `with Client(url, api_key) as jf:` or call `close()`.

    Takes the same arguments and has the same methods as `AsyncClient`.
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._loop = _LoopThread()
        self._async = AsyncClient(url, api_key, timeout=timeout, retry=retry)
        self.url = self._async.url
        # Stop the thread even if the caller forgets close(); the callback holds no `self`.
        self._finalizer = weakref.finalize(self, self._loop.stop)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool and stop the background loop."""
        if not self._finalizer.alive:
            return
        self._loop.run(self._async.aclose())
        self._finalizer()

    create_job = _blocking(AsyncClient.create_job)
    create_jobs = _blocking(AsyncClient.create_jobs)
    get_job = _blocking(AsyncClient.get_job)
    list_jobs = _blocking(AsyncClient.list_jobs)
    retry_job = _blocking(AsyncClient.retry_job)
    cancel_job = _blocking(AsyncClient.cancel_job)
    wait_for_job = _blocking(AsyncClient.wait_for_job)
    list_dead = _blocking(AsyncClient.list_dead)
    retry_dead = _blocking(AsyncClient.retry_dead)
    purge_dead = _blocking(AsyncClient.purge_dead)
    list_queues = _blocking(AsyncClient.list_queues)
    pause_queue = _blocking(AsyncClient.pause_queue)
    resume_queue = _blocking(AsyncClient.resume_queue)
    metrics = _blocking(AsyncClient.metrics)
    workers = _blocking(AsyncClient.workers)
    health = _blocking(AsyncClient.health)
    ready = _blocking(AsyncClient.ready)

    def iter_jobs(self, *, page_size: int = 200, **filters: Any) -> Iterator[JobInfo]:
        """Every job matching `list_jobs` filters, page by page along the cursor."""
        cursor: str | None = None
        while True:
            page = self.list_jobs(limit=page_size, cursor=cursor, **filters)
            yield from page.items
            if not page.next_cursor or not page.items:
                return
            cursor = page.next_cursor
