"""`WorkerPool`: P worker processes under one supervisor.

Each child is a full single-process worker (`jobforge worker --processes 1`), started in its
own session so a terminal's Ctrl-C reaches only the supervisor, which forwards it exactly
once. A child that exits while the pool is not stopping crashed (or was killed): it is
restarted, with a growing delay if it keeps dying young, so a crash loop does not spin.

SIGTERM or SIGINT: forward SIGTERM to every child and wait for them to drain; a second
signal is forwarded too, which makes the children force their shutdown. Exit status 0 when
every child exited 0.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import FrameType

import structlog

from jobforge.domain.errors import ConfigError

log = structlog.get_logger(__name__)

POLL_SECONDS = 0.2
MIN_RESTART_DELAY = 0.5
MAX_RESTART_DELAY = 10.0
HEALTHY_AFTER_SECONDS = 10.0
"""A child that lived this long resets its restart delay."""


@dataclass(kw_only=True)
class _Slot:
    index: int
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    delay: float = MIN_RESTART_DELAY
    restart_at: float = 0.0
    exit_code: int | None = None


class WorkerPool:
    """Runs `processes` copies of `command`, restarting any that crash."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        processes: int,
        env: Mapping[str, str] | None = None,
    ) -> None:
        if processes < 1:
            raise ConfigError(f"processes must be at least 1, got {processes}")
        self._command = list(command)
        self._env = dict(env) if env is not None else None
        self._slots = [_Slot(index=i) for i in range(processes)]
        self._signals = 0
        self._forwarded = 0
        self.restarts = 0
        self._final_codes: list[int] = []

    @property
    def pids(self) -> list[int]:
        return [s.process.pid for s in self._slots if s.process and s.process.poll() is None]

    def run(self) -> int:
        """Supervise until signalled and every child has exited; returns the exit status."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in _SIGNALS}
        try:
            for slot in self._slots:
                self._spawn(slot)
            while not self._finished():
                self._forward_signals()
                self._reap()
                time.sleep(POLL_SECONDS)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        # Judge the shutdown by the children that were running when it began: one that
        # crashed earlier (and was waiting for its restart) was already dealt with.
        codes = self._final_codes
        log.info("worker pool stopped", exit_codes=codes, restarts=self.restarts)
        return 0 if all(code == 0 for code in codes) else 1

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # Only count here; forwarding happens in the loop, outside the signal handler.
        self._signals += 1

    def _forward_signals(self) -> None:
        while self._forwarded < self._signals:
            self._forwarded += 1
            log.info("forwarding shutdown to workers", signal_number=self._forwarded)
            for slot in self._slots:
                if slot.process is not None and slot.process.poll() is None:
                    slot.process.send_signal(signal.SIGTERM)

    def _reap(self) -> None:
        now = time.monotonic()
        for slot in self._slots:
            proc = slot.process
            if proc is None:
                if not self._signals and now >= slot.restart_at:
                    self._spawn(slot)
                continue
            code = proc.poll()
            if code is None:
                continue
            slot.process, slot.exit_code = None, code
            if self._signals:
                # Killed by the SIGTERM we forwarded: it had not yet installed its handlers,
                # which it does before claiming anything, so it held no job. A clean stop.
                self._final_codes.append(0 if code == -signal.SIGTERM else code)
                continue
            lived = now - slot.started
            slot.delay = (
                MIN_RESTART_DELAY
                if lived >= HEALTHY_AFTER_SECONDS
                else min(slot.delay * 2, MAX_RESTART_DELAY)
            )
            slot.restart_at = now + slot.delay
            log.warning(
                "worker process died; restarting", pid=proc.pid, exit_code=code, delay=slot.delay
            )

    def _spawn(self, slot: _Slot) -> None:
        env = dict(os.environ if self._env is None else self._env)
        env["JOBFORGE_WORKER_INDEX"] = str(slot.index)
        slot.process = subprocess.Popen(self._command, env=env, start_new_session=True)  # noqa: S603
        if slot.started:
            self.restarts += 1
        slot.started = time.monotonic()
        slot.exit_code = None
        log.info("worker process started", pid=slot.process.pid, index=slot.index)

    def _finished(self) -> bool:
        return bool(self._signals) and all(s.process is None for s in self._slots)


_SIGNALS = (signal.SIGTERM, signal.SIGINT)
