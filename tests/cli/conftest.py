"""Fixtures of the CLI tests: one `jobforge up` per module, stopped by PID at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cli_harness import UpProcess


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpProcess]:
    workdir = tmp_path_factory.mktemp("up")
    server = UpProcess.start(workdir, f"sqlite:///{workdir / 'jobforge.db'}")
    try:
        server.wait_for_banner()
        yield server
    finally:
        server.terminate()


@pytest.fixture
def api_env(up: UpProcess) -> dict[str, str]:
    """What a user exports after reading the banner."""
    return {"JOBFORGE_URL": up.url, "JOBFORGE_API_KEY": up.api_key}
