"""The create-job form: what was typed, and its validation into a `NewJob`.

live.js checks the payload is a JSON object before the form is sent; the server checks
everything again, since a form can be posted without the page's script.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from starlette.datastructures import FormData

from jobforge.domain.job import NewJob

MAX_DELAY_SECONDS = 365 * 24 * 3600


@dataclass(frozen=True, kw_only=True)
class CreateForm:
    """The form's fields as text, so a refused submission is shown again as typed."""

    type: str = ""
    queue: str = "default"
    priority: str = "0"
    payload: str = "{}"
    max_attempts: str = ""
    delay_seconds: str = "0"
    idempotency_key: str = ""

    @classmethod
    def from_form(cls, form: FormData) -> CreateForm:
        def text(name: str) -> str:
            value = form.get(name)
            return value.strip() if isinstance(value, str) else ""

        return cls(
            type=text("type"),
            queue=text("queue") or "default",
            priority=text("priority") or "0",
            payload=text("payload") or "{}",
            max_attempts=text("max_attempts"),
            delay_seconds=text("delay_seconds") or "0",
            idempotency_key=text("idempotency_key"),
        )

    def validate(
        self, *, tenant: str, now: datetime, max_payload_bytes: int
    ) -> tuple[NewJob | None, dict[str, str]]:
        """The job to submit, or None and an error message per field."""
        errors: dict[str, str] = {}
        payload = self._payload(errors, max_payload_bytes)
        priority = _int_field(self.priority, "priority", errors, lo=-1000, hi=1000)
        attempts = (
            _int_field(self.max_attempts, "max_attempts", errors, lo=1, hi=1000)
            if self.max_attempts
            else None
        )
        delay = _int_field(self.delay_seconds, "delay_seconds", errors, lo=0, hi=MAX_DELAY_SECONDS)
        if not self.type:
            errors["type"] = "Enter the job type (the handler name, e.g. email.send)."
        if errors or payload is None:
            return None, errors
        try:
            job = NewJob(
                type=self.type,
                payload=payload,
                tenant=tenant,
                queue=self.queue,
                priority=priority or 0,
                max_attempts=attempts,
                run_at=now + timedelta(seconds=delay) if delay else None,
                idempotency_key=self.idempotency_key or None,
            )
        except ValueError as exc:
            return None, {"form": str(exc)}
        return job, {}

    def _payload(self, errors: dict[str, str], max_bytes: int) -> dict[str, Any] | None:
        if len(self.payload.encode("utf-8")) > max_bytes:
            errors["payload"] = f"The payload is larger than {max_bytes} bytes."
            return None
        try:
            value = json.loads(self.payload)
        except ValueError as exc:
            errors["payload"] = f"Not valid JSON: {exc}."
            return None
        if not isinstance(value, dict):
            errors["payload"] = 'The payload must be a JSON object, like {"to": "a@b.c"}.'
            return None
        return value


def _int_field(text: str, name: str, errors: dict[str, str], *, lo: int, hi: int) -> int | None:
    try:
        value = int(text)
    except ValueError:
        errors[name] = "Enter a whole number."
        return None
    if not lo <= value <= hi:
        errors[name] = f"Enter a number from {lo} to {hi}."
        return None
    return value
