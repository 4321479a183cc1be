"""Start, signal and always clean up real `jobforge worker` processes (by PID)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

FAST_ENV = {
    "JOBFORGE_LEASE_SECONDS": "2",
    "JOBFORGE_HEARTBEAT_SECONDS": "0.5",
    "JOBFORGE_RESCUE_INTERVAL_SECONDS": "0.25",
    "JOBFORGE_POLL_INTERVAL_SECONDS": "0.05",
    "JOBFORGE_BACKOFF_BASE_SECONDS": "0.1",
    "JOBFORGE_BACKOFF_MAX_SECONDS": "0.5",
    "JOBFORGE_SHUTDOWN_GRACE_SECONDS": "20",
    "JOBFORGE_LOG_FORMAT": "json",
}


@dataclass
class Effect:
    job_id: str
    attempt: int
    pid: int
    at: float
    what: str


@dataclass
class Workers:
    """Worker processes started by one test; `close()` kills every one still alive."""

    url: str
    tmp: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def effects_dir(self) -> Path:
        path = self.tmp / "effects"
        path.mkdir(exist_ok=True)
        return path

    def start(
        self,
        *,
        concurrency: int = 10,
        processes: int = 1,
        queues: str = "default",
        env: dict[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"worker-{len(self.procs)}.log").open("wb")
        command = [
            sys.executable, "-m", "jobforge", "worker", "--app", "sysapp:forge",
            "--queues", queues, "--concurrency", str(concurrency), "--processes", str(processes),
        ]  # fmt: skip
        full_env = {
            **os.environ,
            **FAST_ENV,
            "JOBFORGE_DATABASE_URL": self.url,
            "SYS_EFFECTS_DIR": str(self.effects_dir),
            "PYTHONPATH": f"{REPO / 'tests' / 'system'}{os.pathsep}{REPO}",
            **(env or {}),
        }
        proc = subprocess.Popen(command, cwd=REPO, env=full_env, stdout=log, stderr=log)
        self.procs.append(proc)
        return proc

    def log_of(self, proc: subprocess.Popen[bytes]) -> str:
        return (self.tmp / f"worker-{self.procs.index(proc)}.log").read_text(errors="replace")

    def effects(self) -> list[Effect]:
        found = []
        for path in self.effects_dir.glob("effects-*.log"):
            for line in path.read_text().splitlines():
                job_id, attempt, pid, at, what = line.split()
                found.append(Effect(job_id, int(attempt), int(pid), float(at), what))
        return found

    async def wait_effects(self, what: str, count: int, timeout: float = 30.0) -> list[Effect]:
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.effects() if e.what == what]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} of {count} {what!r} effects in {timeout} s")
            await asyncio.sleep(0.05)

    async def wait_exit(self, proc: subprocess.Popen[bytes], timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while (code := proc.poll()) is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"worker {proc.pid} still running after {timeout} s")
            await asyncio.sleep(0.05)
        return code

    async def pause(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGSTOP `proc` at a moment it holds no SQLite write lock.

        SQLite has one writer per file: a process paused inside a write transaction stalls
        every other process on that file, whatever protocol runs on top. So on SQLite, pause,
        check that the file is writable, and if not, resume and try again a moment later.
        """
        path = sqlite_path(self.url)
        for _ in range(100):
            os.kill(proc.pid, signal.SIGSTOP)
            if path is None or writable(path):
                return
            os.kill(proc.pid, signal.SIGCONT)
            await asyncio.sleep(0.013)
        raise AssertionError("could not pause the worker outside a write transaction")

    def close(self) -> None:
        for proc in self.procs:
            for pid in [*descendants(proc.pid), proc.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)


def descendants(pid: int) -> list[int]:
    """PIDs of every process below `pid` (pool children run in their own sessions)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: list[int] = []
    queue = [pid]
    while queue:
        children = parents.get(queue.pop(), [])
        found.extend(children)
        queue.extend(children)
    return found


@contextlib.contextmanager
def workers(url: str, tmp: Path) -> Iterator[Workers]:
    group = Workers(url=url, tmp=tmp)
    try:
        yield group
    finally:
        group.close()


def sqlite_path(url: str) -> str | None:
    return url.removeprefix("sqlite:///") if url.startswith("sqlite:") else None


def writable(path: str) -> bool:
    con = sqlite3.connect(path, timeout=0.2, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        con.close()
