"""The handlers `bench/throughput.py` runs in its worker process."""

from __future__ import annotations

from typing import Any

from jobforge.app import JobForge
from jobforge.worker.registry import TaskContext

forge = JobForge()


@forge.task("bench.noop")
async def noop(payload: dict[str, Any], ctx: TaskContext) -> None:
    return None
