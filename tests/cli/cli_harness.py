"""Run `jobforge` commands in-process (typer's CliRunner) against a real `jobforge up`.

`UpProcess` starts `jobforge up --port 0` as a subprocess on a SQLite file, reads the URL and
the first API key from its banner, and is stopped (SIGTERM, then kill) by its PID.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner, Result

from jobforge.cli import app

REPO = Path(__file__).resolve().parents[2]
BANNER_END = "Press Ctrl-C to stop."
QUICK_ENV = {
    "JOBFORGE_LOG_FORMAT": "json",
    "JOBFORGE_BACKOFF_BASE_SECONDS": "0.1",
    "JOBFORGE_BACKOFF_MAX_SECONDS": "0.5",
    "JOBFORGE_SHUTDOWN_GRACE_SECONDS": "10",
    "JOBFORGE_RATE_LIMIT_TENANT_PER_SECOND": "10000",
    "JOBFORGE_RATE_LIMIT_TENANT_BURST": "10000",
}


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any JOBFORGE_ setting (the tests say what they want)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBFORGE_")}
    env.update(extra)
    return env


@dataclass
class UpProcess:
    """A running `jobforge up`; `url` and `api_key` come from its banner."""

    proc: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path
    url: str = ""
    api_key: str = ""

    @classmethod
    def start(
        cls, workdir: Path, database_url: str, *, env: dict[str, str] | None = None
    ) -> UpProcess:
        stdout, stderr = workdir / "up.out", workdir / "up.err"
        full_env = clean_env(**QUICK_ENV, JOBFORGE_DATABASE_URL=database_url, **(env or {}))
        with stdout.open("wb") as out, stderr.open("wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "jobforge", "up", "--port", "0"],
                cwd=workdir,
                env=full_env,
                stdout=out,
                stderr=err,
            )
        return cls(proc=proc, stdout=stdout, stderr=stderr)

    def wait_for_banner(self, timeout: float = 30.0) -> str:
        """The banner once printed; fills in `url` and, on a first start, `api_key`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.stdout.read_text()
            if BANNER_END in text:
                self.url = re.search(r"API\s+(http://\S+)/api/v1", text).group(1)  # type: ignore[union-attr]
                key = re.search(r"API key: (jf_\S+)", text)
                self.api_key = key.group(1) if key else ""
                return text
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no banner from jobforge up:\n{text}\n{self.logs()}")

    def logs(self) -> str:
        return self.stderr.read_text(errors="replace")[-4000:]

    def terminate(self, timeout: float = 20.0) -> int:
        """SIGTERM, and the exit code once it has stopped (killed if it does not)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"jobforge up ignored SIGTERM:\n{self.logs()}") from None


def run_cli(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    """`jobforge ARGS` in this process, with only the given JOBFORGE_ variables set."""
    names = [k for k in os.environ if k.startswith("JOBFORGE_")]
    unset: dict[str, str | None] = dict.fromkeys(names)
    return CliRunner().invoke(app, list(args), env={**unset, **(env or {})}, input=input)
