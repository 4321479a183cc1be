"""Checks on a job's payload that JSON Schema cannot express, so bad input stays a 4xx.

Python's JSON parser accepts things neither database stores: `NaN`/`Infinity`, strings with
NUL characters (PostgreSQL text and JSONB refuse `\\u0000`) and lone surrogates (not
encodable as UTF-8). Each is refused here with the path of the offending value. Size is
measured on the compact UTF-8 encoding the store writes, against `max_payload_bytes`.
"""

from __future__ import annotations

import json
import math
from typing import Any

from jobforge.api.errors import ApiError

MAX_DEPTH = 64
"""Deeper nesting is refused: a handler has no use for it, and serialisers recurse."""


def encoded_size(payload: dict[str, Any]) -> int:
    """Bytes of the payload as stored: compact JSON, UTF-8."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return len(text.encode("utf-8"))


def check_payload(payload: dict[str, Any], *, max_bytes: int, field: str = "payload") -> None:
    """Raise a 422 `ApiError` for unstorable values, a 413 one for an oversized payload."""
    problem = _find_problem(payload, field)
    if problem is not None:
        where, why = problem
        raise ApiError(
            422,
            "validation_error",
            f"invalid {where}: {why}",
            details=[{"field": where, "message": why, "type": "value_error"}],
        )
    size = encoded_size(payload)
    if size > max_bytes:
        raise ApiError(
            413,
            "payload_too_large",
            f"{field} is {size} bytes; the limit is {max_bytes}",
            details={"field": field, "size": size, "limit": max_bytes},
        )


def _find_problem(root: Any, field: str) -> tuple[str, str] | None:
    # Iterative walk: a recursive one would itself hit Python's recursion limit on input
    # nested deeply enough, which is exactly the input we are trying to refuse politely.
    stack: list[tuple[Any, str, int]] = [(root, field, 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            return path, f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str) or not _storable(key):
                    return path, "object keys must be text without NUL or lone surrogates"
                stack.append((item, f"{path}.{key[:64]}", depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            return path, "numbers must be finite (no NaN or Infinity)"
        elif isinstance(value, str) and not _storable(value):
            return path, "text must not contain NUL characters or lone surrogates"
    return None


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
