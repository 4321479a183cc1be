"""The jobs page's filters, read from and written back to the URL.

Filters live in the query string (never in the session), so reload, back and a shared link
all show the same list. Bad values are ignored rather than refused: a hand-edited URL still
shows a page, with the filter it could understand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from jobforge.domain.states import JobState
from jobforge.store.params import ListJobsParams

RANGES: dict[str, timedelta] = {
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}
RANGE_LABELS = {
    "": "any time",
    "15m": "last 15 minutes",
    "1h": "last hour",
    "24h": "last 24 hours",
    "7d": "last 7 days",
}
PER_PAGE_CHOICES = (25, 50, 100)
MAX_TEXT = 200


@dataclass(frozen=True, kw_only=True)
class JobFilters:
    """What the jobs table shows: filters, search text and page."""

    statuses: tuple[JobState, ...] = ()
    type: str = ""
    queue: str = ""
    tenant: str = ""
    q: str = ""
    range: str = ""
    created_from: str = ""
    created_to: str = ""
    page: int = 1
    per_page: int = 50

    @classmethod
    def parse(cls, query: Mapping[str, str], statuses: Sequence[str], *, admin: bool) -> JobFilters:
        """Filters from a query string (`statuses` is its repeated `status` values)."""
        known = {s.value for s in JobState}
        return cls(
            statuses=tuple(JobState(s) for s in dict.fromkeys(statuses) if s in known),
            type=_text(query.get("type")),
            queue=_text(query.get("queue")),
            tenant=_text(query.get("tenant")) if admin else "",
            q=_text(query.get("q")),
            range=r if (r := query.get("range", "")) in RANGES else "",
            created_from=_datetime_text(query.get("from")),
            created_to=_datetime_text(query.get("to")),
            page=_int(query.get("page"), 1, lo=1, hi=1_000_000),
            per_page=p if (p := _int(query.get("per_page"), 50)) in PER_PAGE_CHOICES else 50,
        )

    @property
    def active(self) -> bool:
        """Whether any filter (not merely the page) is set."""
        return bool(
            self.statuses or self.type or self.queue or self.tenant or self.q or self.range
        ) or bool(self.created_from or self.created_to)

    def params(self, *, scope: str | None, now: datetime) -> ListJobsParams:
        """The store listing for these filters within the viewer's scope."""
        after = _parse_datetime(self.created_from)
        if self.range:
            cutoff = now - RANGES[self.range]
            after = max(after, cutoff) if after else cutoff
        return ListJobsParams(
            # Only an admin (scope None) may narrow to a tenant; anyone else sees their own.
            tenant=(self.tenant or None) if scope is None else scope,
            statuses=self.statuses,
            types=(self.type,) if self.type else (),
            queues=(self.queue,) if self.queue else (),
            search=self.q or None,
            created_after=after,
            created_before=_parse_datetime(self.created_to),
            limit=self.per_page,
        )

    def query(self, **changes: object) -> str:
        """This filter as a query string, with some fields changed (e.g. `page=2`)."""
        values: dict[str, object] = {
            "type": self.type,
            "queue": self.queue,
            "tenant": self.tenant,
            "q": self.q,
            "range": self.range,
            "from": self.created_from,
            "to": self.created_to,
            "per_page": self.per_page if self.per_page != 50 else "",
            "page": self.page if self.page != 1 else "",
        }
        values.update(changes)
        pairs: list[tuple[str, str]] = [("status", s.value) for s in self.statuses]
        pairs += [(k, str(v)) for k, v in values.items() if v not in ("", None)]
        return urlencode(pairs)


def _text(value: str | None) -> str:
    return (value or "").strip()[:MAX_TEXT]


def _int(value: str | None, default: int, *, lo: int = 1, hi: int = 10_000) -> int:
    try:
        return min(max(int(value or default), lo), hi)
    except ValueError:
        return default


def _datetime_text(value: str | None) -> str:
    text = _text(value)
    return text if _parse_datetime(text) else ""


def _parse_datetime(text: str) -> datetime | None:
    """A `datetime-local` input's value, read as UTC (the dashboard shows times in UTC)."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
