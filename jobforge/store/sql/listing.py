"""Listing `jobforge_jobs`: filters, free-text search, offset and keyset pages.

Listings are newest first, `(created_at, id)` descending, which every listing index ends
in. The free-text `search` (the dashboard's search box) looks inside payloads and error
text: it cannot use an index and reads every row the other filters leave, so it is meant
for people narrowing a list, not for hot paths.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Text,
    Uuid,
    cast,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from jobforge.domain.job import Job
from jobforge.domain.states import JobState
from jobforge.store.params import JobPage, ListJobsParams
from jobforge.store.sql.jobs import row_to_job
from jobforge.store.tables import UtcDateTime, jobs

MAX_PAGE = 500


def encode_cursor(job: Job) -> str:
    """An opaque keyset cursor: the (created_at, id) of the last job of a page."""
    raw = f"{job.created_at.isoformat()}|{job.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The position a cursor encodes; `ValueError` for a cursor jobforge did not make."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, job_id = raw.split("|", 1)
        return datetime.fromisoformat(created), uuid.UUID(job_id)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"invalid cursor {cursor!r}") from exc


def _id_prefix(conn: AsyncConnection, q: str) -> ColumnElement[bool]:
    # The text form of a UUID differs by dialect: PostgreSQL renders it with dashes, SQLite
    # stores 32 hex digits. Compare each with the prefix in its own form.
    if conn.dialect.name == "sqlite":
        return cast(jobs.c.id, String).startswith(q.replace("-", "").lower(), autoescape=True)
    return cast(jobs.c.id, String).startswith(q.lower(), autoescape=True)


def _json_forms(needle: str) -> list[str]:
    """The needle as it may appear inside stored JSON text: as typed (PostgreSQL renders
    JSONB with Unicode as is) and JSON-escaped (SQLite stores `\\u00e9` for `é`, and both
    escape quotes and backslashes inside strings)."""
    escaped = json.dumps(needle)[1:-1]
    return [needle] if escaped == needle else [needle, escaped]


def search_clause(conn: AsyncConnection, needle: str) -> ColumnElement[bool]:
    """Case-insensitive: an id prefix, or the needle anywhere in the idempotency key, the
    payload, the last error, or any attempt's message or traceback."""
    payload, errors = cast(jobs.c.payload, Text), cast(jobs.c.errors, Text)
    terms: list[ColumnElement[bool]] = [
        _id_prefix(conn, needle),
        jobs.c.idempotency_key.icontains(needle, autoescape=True),
        jobs.c.last_error.icontains(needle, autoescape=True),
    ]
    for form in _json_forms(needle):
        terms.append(payload.icontains(form, autoescape=True))
        terms.append(errors.icontains(form, autoescape=True))
    return or_(*terms)


def _list_where(conn: AsyncConnection, p: ListJobsParams) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if p.tenant is not None:
        where.append(jobs.c.tenant == p.tenant)
    if p.statuses:
        where.append(jobs.c.status.in_([JobState(s).value for s in p.statuses]))
    if p.types:
        where.append(jobs.c.type.in_(list(p.types)))
    if p.queues:
        where.append(jobs.c.queue.in_(list(p.queues)))
    if p.q:
        key = jobs.c.idempotency_key.startswith(p.q, autoescape=True)
        where.append(or_(_id_prefix(conn, p.q), key))
    if p.search:
        where.append(search_clause(conn, p.search))
    if p.created_after is not None:
        where.append(jobs.c.created_at > p.created_after)
    if p.created_before is not None:
        where.append(jobs.c.created_at < p.created_before)
    return where


async def list_jobs(conn: AsyncConnection, p: ListJobsParams) -> JobPage:
    """A page of jobs, newest first (created_at desc, id desc), by keyset cursor or offset."""
    limit = max(1, min(p.limit, MAX_PAGE))
    where = _list_where(conn, p)
    page: Select[Any] = select(jobs).where(*where)
    offset = p.offset
    if p.cursor:
        created, last_id = decode_cursor(p.cursor)
        # A row comparison, which both dialects turn into an index range (an OR does not).
        position = tuple_(literal(created, UtcDateTime()), literal(last_id, Uuid()))
        page = page.where(tuple_(jobs.c.created_at, jobs.c.id) < position)
        offset = 0
    page = page.order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(limit).offset(offset)
    items = tuple(row_to_job(r._mapping) for r in await conn.execute(page))
    total = None
    if p.with_total:
        count = select(func.count()).select_from(jobs).where(*where)
        total = int((await conn.execute(count)).scalar_one())
    next_cursor = encode_cursor(items[-1]) if len(items) == limit else None
    return JobPage(items=items, total=total, limit=limit, offset=offset, next_cursor=next_cursor)
