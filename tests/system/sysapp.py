"""The handlers the system tests run in real worker processes (`--app sysapp:forge`).

Every handler records what it did as a line in `$SYS_EFFECTS_DIR/effects-<pid>.log`
(`<job id> <attempt> <pid> <unix time> <start|done>`), so the test counts side effects
without trusting the worker's own bookkeeping.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from jobforge.app import JobForge
from jobforge.worker.registry import TaskContext

forge = JobForge()


def record(ctx: TaskContext, what: str) -> None:
    path = Path(os.environ["SYS_EFFECTS_DIR"]) / f"effects-{os.getpid()}.log"
    with path.open("a") as f:
        f.write(f"{ctx.job_id} {ctx.attempt} {os.getpid()} {time.time():.6f} {what}\n")


@forge.task("sys.noop")
async def noop(payload: dict[str, Any], ctx: TaskContext) -> None:
    record(ctx, "done")


@forge.task("sys.sleep")
async def sleep(payload: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    record(ctx, "start")
    await asyncio.sleep(float(payload["seconds"]))
    record(ctx, "done")
    return {"pid": os.getpid()}


@forge.task("sys.hold_first")
async def hold_first(payload: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    """The first attempt takes `seconds`; later attempts finish at once."""
    record(ctx, "start")
    if ctx.attempt == 1:
        await asyncio.sleep(float(payload["seconds"]))
    record(ctx, "done")
    return {"pid": os.getpid(), "attempt": ctx.attempt}


@forge.task("sys.fail", backoff_base=0.3, backoff_max=10, backoff_jitter=False)
async def fail(payload: dict[str, Any], ctx: TaskContext) -> None:
    record(ctx, "start")
    raise ValueError(f"failure number {ctx.attempt}")


@forge.task("sys.poison")
def poison(payload: dict[str, Any], ctx: TaskContext) -> None:
    """Kills the worker process that runs it, every time."""
    record(ctx, "start")
    os._exit(1)
