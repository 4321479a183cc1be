"""Turning bursts of events into a few small messages per second, per tenant.

At 5,000 completions per second a browser cannot take one message per event, and does not
need to: it shows each job's latest state and the counts. `EventCoalescer` keeps, per tenant
and per flush interval, the latest event of each job (at most `max_jobs`, the most recent)
and a count per event name, so a burst of any size becomes one message per interval.
`ThroughputRing` keeps completed and failed attempts per second for the live chart.
"""

from __future__ import annotations

import json
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from jobforge.events.types import EventName, JobEvent

DEFAULT_MAX_JOBS = 200


@dataclass
class _TenantWindow:
    latest: OrderedDict[str, JobEvent] = field(default_factory=OrderedDict)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    dropped: int = 0


@dataclass(frozen=True)
class CoalescedBatch:
    """What happened during one interval, ready to be sent to each client's scope."""

    windows: dict[str, _TenantWindow]
    max_jobs: int

    def __bool__(self) -> bool:
        return bool(self.windows)

    def message_for(self, tenant: str | None) -> str | None:
        """The JSON message a client sees: one tenant's window, or all of them (`None`,
        an admin). None when nothing happened in that scope."""
        if tenant is not None:
            window = self.windows.get(tenant)
            return None if window is None else _encode([window], self.max_jobs)
        return _encode(list(self.windows.values()), self.max_jobs)


def _encode(windows: list[_TenantWindow], max_jobs: int) -> str:
    counts: dict[str, int] = defaultdict(int)
    latest: list[JobEvent] = []
    dropped = 0
    for window in windows:
        for name, n in window.counts.items():
            counts[name] += n
        latest.extend(window.latest.values())
        dropped += window.dropped
    latest.sort(key=lambda e: e.at)
    if len(latest) > max_jobs:
        dropped += len(latest) - max_jobs
        latest = latest[-max_jobs:]
    message: dict[str, Any] = {
        "type": "events",
        "counts": dict(counts),
        "total": sum(counts.values()),
        "jobs": [e.to_json() for e in latest],
        "truncated": dropped,
    }
    return json.dumps(message, separators=(",", ":"))


class EventCoalescer:
    """Accumulates events until `drain()`; memory is bounded by tenants x `max_jobs`."""

    def __init__(self, *, max_jobs: int = DEFAULT_MAX_JOBS) -> None:
        if max_jobs < 1:
            raise ValueError(f"max_jobs must be at least 1, got {max_jobs}")
        self._max_jobs = max_jobs
        self._windows: dict[str, _TenantWindow] = {}

    def add(self, events: Iterable[JobEvent]) -> None:
        """Fold events into the current interval."""
        for event in events:
            window = self._windows.get(event.tenant)
            if window is None:
                window = self._windows[event.tenant] = _TenantWindow()
            key = str(event.job_id)
            window.latest.pop(key, None)
            window.latest[key] = event
            if len(window.latest) > self._max_jobs:
                window.latest.popitem(last=False)
                window.dropped += 1
            window.counts[event.event.value] += 1

    def drain(self) -> CoalescedBatch:
        """The interval's batch; the coalescer starts a new interval."""
        windows, self._windows = self._windows, {}
        return CoalescedBatch(windows=windows, max_jobs=self._max_jobs)


FAILED_EVENTS = frozenset({EventName.FAILED, EventName.DLQ})
WINDOW_SECONDS = 15 * 60


class ThroughputRing:
    """Completed and failed attempts per second over the last `window` seconds, per tenant.

    Fed by every event this process receives from the bus, and `seed`ed once from the
    store's history when the process starts, so a restart does not blank the chart.
    """

    def __init__(self, *, window: int = WINDOW_SECONDS) -> None:
        self._window = window
        self._seconds: dict[str, dict[int, list[int]]] = defaultdict(dict)
        self._newest = 0
        self._seeded_upto = 0

    def seed(self, samples: Iterable[tuple[str, int, int, int]], *, upto: int) -> None:
        """Take `(tenant, second, completed, failed)` counts from history for every second
        up to `upto`, replacing what live events counted for those seconds (history
        includes them); events of those seconds arriving later are not counted again."""
        for per_second in self._seconds.values():
            for second in [s for s in per_second if s <= upto]:
                del per_second[second]
        for tenant, second, completed, failed in samples:
            if second <= upto and (completed or failed):
                self._seconds[tenant][second] = [completed, failed]
        self._seeded_upto = max(self._seeded_upto, upto)
        self._newest = max(self._newest, upto)
        self._prune()

    def add(self, events: Iterable[JobEvent]) -> None:
        """Count completions and failures at the second each happened."""
        for event in events:
            if event.event is EventName.COMPLETED:
                slot = 0
            elif event.event in FAILED_EVENTS:
                slot = 1
            else:
                continue
            second = int(event.at.timestamp())
            if second <= self._newest - self._window or second <= self._seeded_upto:
                continue
            per_second = self._seconds[event.tenant]
            counts = per_second.get(second)
            if counts is None:
                counts = per_second[second] = [0, 0]
            counts[slot] += 1
            if second > self._newest:
                self._newest = second
                self._prune()

    def series(self, tenant: str | None, now: int) -> list[tuple[int, int, int]]:
        """`(second, completed, failed)` for each of the last `window` seconds up to `now`,
        oldest first, zeros included; `tenant=None` sums every tenant."""
        tenants = list(self._seconds.values()) if tenant is None else [self._seconds[tenant]]
        if tenant is not None and not self._seconds[tenant]:
            del self._seconds[tenant]  # do not keep an empty entry for a mere read
        out = []
        for second in range(now - self._window + 1, now + 1):
            completed = failed = 0
            for per_second in tenants:
                counts = per_second.get(second)
                if counts is not None:
                    completed += counts[0]
                    failed += counts[1]
            out.append((second, completed, failed))
        return out

    def _prune(self) -> None:
        horizon = self._newest - self._window
        for per_second in self._seconds.values():
            for second in [s for s in per_second if s <= horizon]:
                del per_second[second]
