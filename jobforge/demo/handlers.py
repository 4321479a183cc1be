"""The demo handlers of DESIGN.md, and the app `jobforge worker`/`up` load by default.

- `email.send` succeeds after about a second and returns who it was sent to.
- `report.generate` takes 2-5 s and fails about 30% of the time, to show retries.
- `image.process` has deliberately no handler: its jobs go straight to `dead` with
  "no handler registered for job type 'image.process'".
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from jobforge.app import JobForge
from jobforge.worker.registry import TaskContext

forge = JobForge()


class ReportFailed(Exception):
    """The demo report generator's simulated, retryable failure."""


@forge.task("email.send", queue="emails", max_attempts=5, timeout=30)
async def send_email(payload: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    """Pretend to send an email."""
    await asyncio.sleep(float(payload.get("delay", 1.0)))
    to = payload.get("to", "someone@example.com")
    ctx.logger.info("email sent", to=to)
    return {"sent_to": to, "subject": payload.get("subject", "")}


@forge.task("report.generate", queue="reports", timeout=60)
async def generate_report(payload: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    """Pretend to build a report: slow, and sometimes failing."""
    seconds = random.uniform(2.0, 5.0)
    await asyncio.sleep(seconds)
    if random.random() < float(payload.get("failure_rate", 0.3)):
        raise ReportFailed(f"report {payload.get('name', 'report')!r} failed after {seconds:.1f} s")
    return {"report": payload.get("name", "report"), "seconds": round(seconds, 2), "rows": 1000}
