"""Encoding event batches for transports with a message size limit.

PostgreSQL refuses a NOTIFY payload of 8000 bytes or more, so a batch is split into chunks
that each stay under a byte budget; Redis has no such limit, but the same chunking keeps one
huge publish from stalling every subscriber while it is parsed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import structlog

from jobforge.events.types import JobEvent

log = structlog.get_logger(__name__)


def encode_chunks(events: Sequence[JobEvent], *, max_bytes: int) -> Iterator[str]:
    """JSON arrays of events, each encoded array shorter than `max_bytes` (UTF-8).

    An event that alone exceeds the budget cannot be sent and is logged and skipped: an
    event is a notification, and the store still holds the job's truth.
    """
    parts: list[str] = []
    size = 2  # the enclosing brackets
    for event in events:
        item = json.dumps(event.to_json(), separators=(",", ":"), ensure_ascii=False)
        item_size = len(item.encode("utf-8")) + 1  # and its comma
        if item_size + 2 >= max_bytes:
            log.warning("event too large to publish", job_id=str(event.job_id), size=item_size)
            continue
        if parts and size + item_size >= max_bytes:
            yield "[" + ",".join(parts) + "]"
            parts, size = [], 2
        parts.append(item)
        size += item_size
    if parts:
        yield "[" + ",".join(parts) + "]"


def decode_chunk(payload: str | bytes) -> list[JobEvent]:
    """The events of one chunk; malformed entries are logged and skipped, never raised."""
    try:
        items: Any = json.loads(payload)
    except ValueError:
        log.warning("malformed event payload ignored")
        return []
    if not isinstance(items, list):
        return []
    events: list[JobEvent] = []
    for item in items:
        try:
            events.append(JobEvent.from_json(item))
        except (KeyError, TypeError, ValueError):
            log.warning("malformed event ignored")
    return events
