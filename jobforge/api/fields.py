"""The field types of the v1 API's models: names, keys, UTC datetimes, JSON numbers and
JSON payloads, each with the bounds that keep bad input a 4xx rather than a database error.

Names are short printable identifiers, integers fit the columns, floats are finite, and
datetimes are converted to UTC up front (an offset near year 1 or 9999 would overflow
later). Payload contents are checked by `jobforge.api.payloads`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    GetJsonSchemaHandler,
    RootModel,
    TypeAdapter,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

NAME_PATTERN = r"^[A-Za-z0-9_.:/-]{1,200}$"
KEY_PATTERN = r"^[!-~]{1,255}$"
TRACE_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
TENANT_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
MAX_BATCH = 1000
INT32_MAX = 2**31 - 1


def _to_utc(value: datetime) -> datetime:
    # Naive times are taken as UTC (the store accepts aware times only); the conversion
    # itself can overflow at the edges of the calendar, which must be a 422, not a 500.
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("datetime out of range once converted to UTC") from exc


_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_8601_only(value: Any) -> Any:
    # Pydantic would also read a number, or text holding one, as a Unix timestamp: `0.5`
    # would quietly mean 1970. The documented format is an ISO 8601 date-time, so only
    # text that starts like one gets as far as the parser.
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise ValueError("expected an ISO 8601 date-time such as 2026-11-23T10:00:00Z")


UtcDatetime = Annotated[datetime, BeforeValidator(_iso_8601_only), AfterValidator(_to_utc)]
"""An ISO 8601 date-time, converted to UTC (taken as UTC when it has no offset)."""


def _json_number(value: Any) -> Any:
    # Lax validation would take `true` for 1 and "5" for 5; in JSON neither is a number.
    if isinstance(value, bool | str):
        raise ValueError("expected a JSON number")
    return value


JsonNumber = BeforeValidator(_json_number)
"""Put in the `Annotated` of a numeric body field: booleans and text are refused."""
JobType = Annotated[str, Field(pattern=NAME_PATTERN, examples=["email.send"])]
QueueName = Annotated[str, Field(pattern=NAME_PATTERN, examples=["default"])]
TenantName = Annotated[str, Field(pattern=TENANT_PATTERN, examples=["acme"])]
IdempotencyKey = Annotated[str, Field(pattern=KEY_PATTERN, examples=["order-1234-receipt"])]

NUL_FREE_PATTERN = r"^[^\u0000]*$"
JsonText = Annotated[str, Field(pattern=NUL_FREE_PATTERN)]


class _OnlyMatchingKeys:
    """Pydantic documents a dict with patterned keys by `patternProperties`, which says
    nothing about keys that do not match; `propertyNames` refuses those, as the API does."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        patterns = schema.pop("patternProperties", {})
        if len(patterns) == 1:
            [(pattern, value)] = patterns.items()
            schema["propertyNames"] = {"pattern": pattern}
            schema["additionalProperties"] = value
        return schema


class JsonValue(
    RootModel[
        None
        | bool
        | int
        | float
        | JsonText
        | list["JsonValue"]
        | Annotated[dict[JsonText, "JsonValue"], _OnlyMatchingKeys()]
    ]
):
    """Any JSON value a payload may hold: text without NUL characters (PostgreSQL cannot
    store them) or lone surrogates, numbers that are finite, nesting at most 64 deep."""


class DocumentedAs:
    """Document a field as `documented` while validating it as its own type: the payload is
    checked by `jobforge.api.payloads` (errors that name the offending path, and a size
    limit), but /docs and schema-driven clients should see what that check accepts."""

    def __init__(self, documented: Any) -> None:
        self.documented = documented

    def __get_pydantic_json_schema__(
        self, _core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(TypeAdapter(self.documented).core_schema)


JsonObject = Annotated[dict[JsonText, JsonValue], _OnlyMatchingKeys()]
"""How a payload is documented: a JSON object of `JsonValue`s, keys without NUL characters."""
