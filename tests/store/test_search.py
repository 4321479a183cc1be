"""The dashboard's free-text search: ids, keys, payload content and error text, on both
backends, case-insensitive, wildcards literal, combined with the other filters."""

from __future__ import annotations

import uuid
from datetime import timedelta

from jobforge.domain.outcomes import Failed
from jobforge.domain.states import JobState
from jobforge.store import Store
from jobforge.store.params import ListJobsParams
from tests.store.helpers import claim, enqueue_one


async def _failed_with(store: Store, message: str, traceback: str) -> uuid.UUID:
    job = await enqueue_one(store, queue="search-failures", payload={"n": 1})
    [running] = await claim(store, queues=("search-failures",))
    assert running.lease_token is not None
    retry_at = (await store.now()) + timedelta(hours=1)
    outcome = Failed(
        job_id=job.id,
        lease_token=running.lease_token,
        message=message,
        traceback=traceback,
        retry_at=retry_at,
    )
    await store.finish_attempts([outcome])
    return job.id


async def test_search_finds_payload_error_key_and_id(store: Store) -> None:
    to_zed = await enqueue_one(store, payload={"to": "Zed@Example.com", "n": 42})
    accented = await enqueue_one(store, payload={"city": "Zürich", "quote": 'say "hi"'})
    keyed = await enqueue_one(store, idempotency_key="invoice-2026-0042")
    smtp = await _failed_with(store, "SMTP refused connection", "Traceback: smtplib.SMTPError")
    plain = await enqueue_one(store, payload={"x": 1})

    async def ids(search: str, **filters: object) -> set[uuid.UUID]:
        params = ListJobsParams(tenant=None, search=search, **filters)  # type: ignore[arg-type]
        page = await store.list_jobs(params)
        assert page.total == len(page.items)
        return {j.id for j in page.items}

    assert await ids("zed@example") == {to_zed.id}  # payload, any case
    assert await ids("ZÜRICH") <= {accented.id}  # non-ASCII: at least never a wrong job
    assert await ids("Zürich") == {accented.id}
    assert await ids('say "hi"') == {accented.id}  # quotes inside a JSON string
    assert await ids("2026-0042") == {keyed.id}  # anywhere in the key
    assert await ids("smtp refused") == {smtp}  # last error
    assert await ids("smtplib") == {smtp}  # a traceback in the attempt history
    assert await ids(str(plain.id)[:8]) == {plain.id}  # id prefix
    assert await ids(str(plain.id).upper()) == {plain.id}
    assert await ids("%") == set()  # wildcards are literal
    assert await ids("e_2026") == set()  # `_` is no wildcard either ("e-2026" exists)
    assert await ids("nothing like this") == set()
    # Combined with the other filters, and scoped by tenant.
    assert await ids("smtp", statuses=[JobState.FAILED]) == {smtp}
    assert await ids("smtp", statuses=[JobState.PENDING]) == set()
    assert (await store.list_jobs(ListJobsParams(tenant="other", search="zed"))).total == 0


async def test_search_pages_with_a_cursor(store: Store) -> None:
    made = [await enqueue_one(store, payload={"batch": "needle", "i": i}) for i in range(5)]
    await enqueue_one(store, payload={"batch": "hay"})
    first = await store.list_jobs(ListJobsParams(tenant=None, search="needle", limit=3))
    assert first.total == 5 and first.next_cursor is not None
    rest = await store.list_jobs(
        ListJobsParams(tenant=None, search="needle", limit=3, cursor=first.next_cursor)
    )
    found = [j.id for j in first.items + rest.items]
    assert found == [j.id for j in reversed(made)]
