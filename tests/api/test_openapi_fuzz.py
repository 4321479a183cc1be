"""Schemathesis over the app's own `/openapi.json`: no 5xx, and every response as documented.

The app under test is the one `jobforge api` serves (`create_app_from_settings`: its own
store, event bus and rate limiter, opened and closed by its lifespan) on a migrated, empty
database, called in-process over ASGI with a real tenant's API key. Schemathesis runs every
operation of the schema and applies all its checks to each response: no server error, a
documented status code, content type and headers, a body that matches the documented
schema, invalid input refused, valid input not refused, authentication not ignored, and
405s that name the allowed methods.

On SQLite it runs every phase: the schema's examples, the coverage phase (boundary values
and each way to break each parameter, deterministically) and random fuzzing, valid and
invalid. On PostgreSQL, whose column types, JSONB and text rules differ most from SQLite's,
it runs the examples and a shorter random phase, and skips the coverage phase, to keep this
file within about a minute.

The schema is loaded once, at import (building the app opens nothing, and the document
needs no database); each test gets a fresh app over a fresh database behind `CURRENT`, the
ASGI app the schema points at, so the requests that checks send on their own (without the
key, with another method) reach it too. The API key is made once per run and registered in
each fresh database, so schemathesis knows it as the credential of the schema's bearer
scheme and tests authentication itself.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from starlette.types import Receive, Scope, Send

from jobforge.api.app import create_app, create_app_from_settings
from jobforge.control import JobControl
from jobforge.domain.tenants import digest_api_key, display_prefix, generate_api_key
from jobforge.events.memory import InProcessEventBus
from jobforge.store import open_store
from tests.api.conftest import API, Api, api_settings

API_KEY = generate_api_key()
TENANT = "acme"


class CurrentApp:
    """The ASGI app schemathesis talks to: it passes everything, lifespan included, to the
    app of the test that is running."""

    def __init__(self) -> None:
        self.app: FastAPI | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "no test is running"
        await self.app(scope, receive, send)


def _openapi_document() -> dict[str, Any]:
    # Building the app opens nothing (the store is lazy), and the document needs no store.
    store = open_store("sqlite:///:memory:")
    bus = InProcessEventBus()
    return create_app(api_settings(), store, bus, JobControl(store, bus)).openapi()


CURRENT = CurrentApp()
DOCUMENT = _openapi_document()
AUTH = {"auth": {"openapi": {"HTTPBearer": {"bearer": API_KEY}}}}


def _schema(**config: Any) -> Any:
    loaded = schemathesis.openapi.from_dict(
        DOCUMENT, config=schemathesis.Config.from_dict({**AUTH, **config})
    )
    loaded.app = CURRENT  # what `from_asgi` does after fetching the document
    return loaded


every_phase = _schema()
without_coverage = _schema(phases={"coverage": {"enabled": False}})

FUZZ_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    # One app and database per operation, shared by its examples on purpose: what earlier
    # examples created (jobs, pauses) is there for later ones to list, retry and cancel.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)


async def _register_key(url: str) -> None:
    store = open_store(url)
    try:
        await store.create_tenant(TENANT, is_admin=False)
        await store.add_api_key(
            TENANT, digest=digest_api_key(API_KEY), prefix=display_prefix(API_KEY)
        )
    finally:
        await store.close()


@pytest.fixture
def app_under_test(store_url: str) -> Iterator[FastAPI]:
    """The production app over this test's database, where `API_KEY` is a tenant's key.
    Schemathesis runs the app's lifespan in its own event loop on the first request and
    ends it when the test ends (in its pytest plugin's teardown), which closes the store,
    bus and limiter in the loop that opened them."""
    asyncio.run(_register_key(store_url))
    CURRENT.app = create_app_from_settings(api_settings(database_url=store_url))
    try:
        yield CURRENT.app
    finally:
        CURRENT.app = None


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
@every_phase.parametrize()
@FUZZ_SETTINGS
def test_api_conforms_to_its_schema(case: schemathesis.Case, app_under_test: FastAPI) -> None:
    call_and_validate(case)


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
@without_coverage.parametrize()
@settings(FUZZ_SETTINGS, max_examples=10)
def test_api_conforms_to_its_schema_on_postgres(
    case: schemathesis.Case, app_under_test: FastAPI
) -> None:
    call_and_validate(case)


def call_and_validate(case: schemathesis.Case) -> None:
    response = case.call()
    refused_rightly = _forged_cursor_refused(case, response) or _keys_disagree(case, response)
    excluded = [positive_data_acceptance] if refused_rightly else []
    case.validate_response(response, excluded_checks=excluded)


def _forged_cursor_refused(case: schemathesis.Case, response: schemathesis.Response) -> bool:
    """A `cursor` is an opaque token: only one this API issued (a page's `next_cursor`)
    leads anywhere, and any other is refused with 400 `invalid_cursor`. JSON Schema cannot
    say "a value the server returned earlier", so schemathesis draws schema-valid cursors
    that the API rightly refuses; `positive_data_acceptance` is wrong about exactly those
    responses, and every other check still applies to them."""
    if response.status_code != 400 or not (case.query or {}).get("cursor"):
        return False
    return bool(response.json()["error"]["code"] == "invalid_cursor")


def _keys_disagree(case: schemathesis.Case, response: schemathesis.Response) -> bool:
    """An idempotency key may come in the `Idempotency-Key` header or the body (both are
    documented), and when both are given they must be equal: one request, one key. JSON
    Schema cannot relate a header to a body field, so schemathesis sends two different
    keys as valid data; the 422 naming `body.idempotency_key` is the documented answer."""
    header = (case.headers or {}).get("Idempotency-Key")
    body = case.body.get("idempotency_key") if isinstance(case.body, dict) else None
    if response.status_code != 422 or header is None or body is None or header == body:
        return False
    fields = [d["field"] for d in response.json()["error"]["details"]]
    return fields == ["body.idempotency_key"]


# What schemathesis found, pinned down whatever the fuzzer happens to draw next time.

ON_SQLITE = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)


@ON_SQLITE
async def test_a_405_allows_every_method_of_the_resource(api: Api) -> None:
    client = await api.tenant_client("acme")
    cases = [
        ("OPTIONS", f"{API}/jobs", "GET, HEAD, POST"),  # two routes share the path
        ("GET", f"{API}/jobs/batch", "POST"),  # not a job id: its own resource
        ("HEAD", f"{API}/jobs/batch", "POST"),
        ("PUT", f"{API}/jobs/batch", "POST"),
        ("DELETE", f"{API}/queues/emails/pause", "POST"),
        ("PUT", "/health", "GET, HEAD"),
    ]
    for method, path, allow in cases:
        response = await client.request(method, path)
        assert response.status_code == 405, (method, path, response.text)
        assert response.headers["allow"] == allow, (method, path)
        if method != "HEAD":
            assert response.json()["error"]["code"] == "method_not_allowed"


@ON_SQLITE
async def test_booleans_and_text_are_not_numbers(api: Api) -> None:
    """Pydantic alone would take `true` for 1 and "5" for 5."""
    client = await api.tenant_client("acme")
    for field in ("priority", "max_attempts", "timeout_seconds"):
        for value in (True, False, "5"):
            response = await client.post(f"{API}/jobs", json={"type": "t", field: value})
            assert response.status_code == 422, (field, value, response.text)
            fields = [d["field"] for d in response.json()["error"]["details"]]
            assert fields == [f"body.{field}"]
    fine = await client.post(
        f"{API}/jobs", json={"type": "t", "priority": 5.0, "max_attempts": 2, "timeout_seconds": 3}
    )
    assert fine.status_code == 201, fine.text
    assert (fine.json()["priority"], fine.json()["timeout_seconds"]) == (5, 3.0)


@ON_SQLITE
async def test_numbers_are_not_date_times(api: Api) -> None:
    """Pydantic alone would read `0.5` as half a second after the Unix epoch."""
    client = await api.tenant_client("acme")
    for value in ("0.5", "1700000000", "-1"):
        response = await client.get(f"{API}/jobs", params={"created_before": value})
        assert response.status_code == 422, (value, response.text)
        fields = [d["field"] for d in response.json()["error"]["details"]]
        assert fields == ["query.created_before"]
    for run_at in (1_700_000_000, 0.5, "1700000000"):
        response = await client.post(f"{API}/jobs", json={"type": "t", "run_at": run_at})
        assert response.status_code == 422, (run_at, response.text)
        fields = [d["field"] for d in response.json()["error"]["details"]]
        assert fields == ["body.run_at"]
    dated = await client.post(f"{API}/jobs", json={"type": "t", "run_at": "2999-01-01"})
    assert dated.status_code == 201, dated.text
    assert dated.json()["run_at"].startswith("2999-01-01T00:00:00")


def test_the_documented_payload_refuses_what_the_api_refuses() -> None:
    """NUL characters (PostgreSQL cannot store them) are refused in payload keys and text
    at any depth, and the schema says so rather than promising any JSON object."""
    components = DOCUMENT["components"]["schemas"]
    payload = components["JobCreate"]["properties"]["payload"]
    value = components["JsonValue"]
    assert payload["type"] == "object"
    assert payload["additionalProperties"] == {"$ref": "#/components/schemas/JsonValue"}
    patterns = [payload["propertyNames"]["pattern"]]
    for option in value["anyOf"]:
        if option.get("type") == "string":
            patterns.append(option["pattern"])
        if option.get("type") == "object":
            patterns.append(option["propertyNames"]["pattern"])
            assert option["additionalProperties"] == {"$ref": "#/components/schemas/JsonValue"}
        if option.get("type") == "array":
            assert option["items"] == {"$ref": "#/components/schemas/JsonValue"}
    assert len(patterns) == 3
    for pattern in patterns:
        assert re.fullmatch(pattern, "any text, ünïcödé, \n and all")
        assert not re.fullmatch(pattern, "nul\x00inside")
