"""System tests start real worker processes; every one is killed by PID at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from system_procs import Workers, workers


@pytest.fixture
def procs(store_url: str, tmp_path: Path) -> Iterator[Workers]:
    with workers(store_url, tmp_path) as group:
        yield group
