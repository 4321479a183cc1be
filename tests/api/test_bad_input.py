"""Bad input is always a 4xx in the error envelope: 400 malformed JSON, 413 too large,
422 naming the field, 404/405 from routing — never a 500."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.api.conftest import API, Api


@pytest.fixture(params=["sqlite"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """Validation happens before any store call, so one backend suffices here; payloads
    that reach the store (huge integers, unicode) round-trip on both in test_jobs.py."""
    shutil.copyfile(sqlite_template, tmp_path / "jobforge.db")
    return f"sqlite:///{tmp_path / 'jobforge.db'}"


def assert_envelope(response, status: int, code: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code
    return error  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"type": "t",}', b"not json", b'{"type": "t"} trailing', b"\xff\xfe", b"[" * 60_000],
)
async def test_malformed_json_is_400(api: Api, raw: bytes) -> None:
    client = await api.tenant_client("acme")
    for path in ("/jobs", "/jobs/batch", "/dlq/retry"):
        response = await client.post(
            f"{API}{path}", content=raw, headers={"content-type": "application/json"}
        )
        assert_envelope(response, 400, "invalid_json")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body.type"),
        ({"type": ""}, "body.type"),
        ({"type": "has space"}, "body.type"),
        ({"type": "t" * 201}, "body.type"),
        ({"type": "t", "payload": []}, "body.payload"),
        ({"type": "t", "payload": "text"}, "body.payload"),
        ({"type": "t", "payload": None}, "body.payload"),
        ({"type": "t", "queue": "a/b c"}, "body.queue"),
        ({"type": "t", "priority": 2**63}, "body.priority"),
        ({"type": "t", "priority": 1.5}, "body.priority"),
        ({"type": "t", "priority": "high"}, "body.priority"),
        ({"type": "t", "max_attempts": 0}, "body.max_attempts"),
        ({"type": "t", "max_attempts": 10**30}, "body.max_attempts"),
        ({"type": "t", "timeout_seconds": -1}, "body.timeout_seconds"),
        ({"type": "t", "timeout_seconds": 1e308}, "body.timeout_seconds"),
        ({"type": "t", "run_at": "yesterday"}, "body.run_at"),
        ({"type": "t", "run_at": "9999-12-31T23:59:59-10:00"}, "body.run_at"),
        ({"type": "t", "run_at": "0001-01-01T00:00:00+10:00"}, "body.run_at"),
        ({"type": "t", "trace_id": "x" * 65}, "body.trace_id"),
        ({"type": "t", "tenant": "no spaces"}, "body.tenant"),
        ({"type": "t", "unknown": 1}, "body.unknown"),
        ({"type": "t", "payload": {"bad": "nul\u0000byte"}}, "payload.bad"),
        ({"type": "t", "payload": {"deep": {"er": ["ok", "\ud800"]}}}, "payload.deep.er[1]"),
        ({"type": "t", "payload": {"k\u0000": 1}}, "payload"),
    ],
)
async def test_wrong_fields_are_422_naming_the_field(
    api: Api, body: dict[str, object], field: str
) -> None:
    client = await api.tenant_client("acme")
    raw = json.dumps(body).encode()
    response = await client.post(
        f"{API}/jobs", content=raw, headers={"content-type": "application/json"}
    )
    error = assert_envelope(response, 422, "validation_error")
    assert field in [d["field"] for d in error["details"]], error
    assert field in error["message"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
async def test_non_finite_numbers_are_422(api: Api, literal: str) -> None:
    client = await api.tenant_client("acme")
    raw = f'{{"type": "t", "payload": {{"x": [1, {literal}]}}}}'.encode()
    response = await client.post(
        f"{API}/jobs", content=raw, headers={"content-type": "application/json"}
    )
    error = assert_envelope(response, 422)
    assert error["details"][0]["field"] == "payload.x[1]"


async def test_deep_nesting_is_refused(api: Api) -> None:
    client = await api.tenant_client("acme")
    nested: object = "leaf"
    for _ in range(100):
        nested = {"a": nested}
    response = await client.post(f"{API}/jobs", json={"type": "t", "payload": nested})
    error = assert_envelope(response, 422)
    assert "nested deeper" in error["message"]


async def test_payload_over_the_limit_is_413(make_api) -> None:  # type: ignore[no-untyped-def]
    api = await make_api(max_payload_bytes=1000)
    client = await api.tenant_client("acme")
    just_fits = {"s": "x" * (1000 - len('{"s":""}'))}
    assert (
        await client.post(f"{API}/jobs", json={"type": "t", "payload": just_fits})
    ).status_code == 201
    over = {"s": "x" * 1000}
    error = assert_envelope(
        await client.post(f"{API}/jobs", json={"type": "t", "payload": over}),
        413,
        "payload_too_large",
    )
    assert error["details"]["limit"] == 1000
    multibyte = {"s": "é" * 600}  # 1,200 bytes in UTF-8
    assert_envelope(await client.post(f"{API}/jobs", json={"type": "t", "payload": multibyte}), 413)
    batch = {"jobs": [{"type": "t"}, {"type": "t", "payload": over}]}
    assert_envelope(await client.post(f"{API}/jobs/batch", json=batch), 413)
    assert (await client.get(f"{API}/jobs")).json()["total"] == 1


async def test_default_payload_limit_is_256_kib(api: Api) -> None:
    assert api.settings.max_payload_bytes == 262_144
    client = await api.tenant_client("acme")
    over = {"s": "x" * 262_144}
    assert_envelope(await client.post(f"{API}/jobs", json={"type": "t", "payload": over}), 413)


async def test_body_too_large_by_content_length_is_413_unread(make_api) -> None:  # type: ignore[no-untyped-def]
    api = await make_api(max_payload_bytes=1000)
    client = await api.tenant_client("acme")
    raw = b'{"type": "t", "payload": {"s": "' + b"x" * 100_000 + b'"}}'
    response = await client.post(
        f"{API}/jobs", content=raw, headers={"content-type": "application/json"}
    )
    error = assert_envelope(response, 413, "payload_too_large")
    assert error["details"]["limit"] < 100_000


async def test_body_too_large_without_content_length_is_413(make_api) -> None:  # type: ignore[no-untyped-def]
    api = await make_api(max_payload_bytes=1000)
    client = await api.tenant_client("acme")

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"type": "t", "payload": {"s": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}}'

    response = await client.post(
        f"{API}/jobs", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_envelope(response, 413, "payload_too_large")


async def test_lying_content_length_is_measured(make_api) -> None:  # type: ignore[no-untyped-def]
    api = await make_api(max_payload_bytes=1000)
    client = await api.tenant_client("acme")
    raw = b'{"type": "t", "payload": {"s": "' + b"x" * 10_000 + b'"}}'
    response = await client.post(
        f"{API}/jobs",
        content=raw,
        headers={"content-type": "application/json", "content-length": "10"},
    )
    assert response.status_code in (400, 413)


@pytest.mark.parametrize(
    ("method", "path", "params", "field"),
    [
        ("GET", "/jobs/not-a-uuid", {}, "path.job_id"),
        ("POST", "/jobs/123/retry", {}, "path.job_id"),
        ("POST", "/jobs/zzz/cancel", {}, "path.job_id"),
        ("GET", "/jobs", {"status": "sleeping"}, "query.status.0"),
        ("GET", "/jobs", {"limit": "many"}, "query.limit"),
        ("GET", "/jobs", {"offset": "-1"}, "query.offset"),
        ("GET", "/jobs", {"offset": str(2**70)}, "query.offset"),
        ("GET", "/jobs", {"created_after": "tuesday"}, "query.created_after"),
        ("GET", "/jobs", {"created_before": "9999-12-31T23:59:59-12:00"}, "query.created_before"),
        ("GET", "/jobs", {"q": "nul\u0000"}, "query.q"),
        ("GET", "/jobs", {"type": "bad type"}, "query.type.0"),
        ("GET", "/jobs", {"cursor": "not a cursor!"}, "query.cursor"),
        ("GET", "/dlq", {"limit": "1000"}, "query.limit"),
        ("DELETE", "/dlq", {"job_id": "nope"}, "query.job_id.0"),
        ("POST", "/queues/bad name/pause", {}, "path.name"),
        ("GET", "/queues", {"tenant": "bad tenant"}, "query.tenant"),
    ],
)
async def test_bad_parameters_are_422(
    api: Api, method: str, path: str, params: dict[str, str], field: str
) -> None:
    client = await api.tenant_client("acme")
    response = await client.request(method, f"{API}{path}", params=params)
    error = assert_envelope(response, 422, "validation_error")
    assert field in [d["field"] for d in error["details"]], error


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "MjAyNi0xMS0yM1QwOTozMDo0NC45Njk5MTkrMDA6MDB8bm90LWEtdXVpZA",
        "Zm9v",
        "AAAA",
        "====",
    ],
)
async def test_forged_cursors_are_400(api: Api, cursor: str) -> None:
    client = await api.tenant_client("acme")
    await api.submit(client)
    response = await client.get(f"{API}/jobs", params={"cursor": cursor})
    assert_envelope(response, 400, "invalid_cursor")


async def test_wrong_content_type_is_422(api: Api) -> None:
    client = await api.tenant_client("acme")
    response = await client.post(
        f"{API}/jobs", content=b"type=t", headers={"content-type": "text/plain"}
    )
    assert_envelope(response, 422)


async def test_dlq_retry_body_must_be_an_object(api: Api) -> None:
    client = await api.tenant_client("acme")
    for body in ([], "x", {"types": "t"}, {"job_ids": ["nope"]}, {"other": 1}):
        assert_envelope(await client.post(f"{API}/dlq/retry", json=body), 422)


async def test_routing_errors_use_the_envelope(api: Api) -> None:
    client = await api.tenant_client("acme")
    assert_envelope(await client.get(f"{API}/nowhere"), 404, "not_found")
    assert_envelope(await client.get("/nowhere"), 404, "not_found")
    not_allowed = await client.put(f"{API}/jobs")
    assert_envelope(not_allowed, 405, "method_not_allowed")
    assert not_allowed.headers["allow"]
