"""The top-level package: its public names, and a client import that stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import jobforge


def test_public_names_resolve() -> None:
    for name in jobforge.__all__:
        assert getattr(jobforge, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = jobforge.Nope  # type: ignore[attr-defined]


def test_the_sdk_does_not_load_the_server_side() -> None:
    code = (
        "import sys, jobforge.client\n"
        "heavy = [m for m in ('sqlalchemy', 'fastapi', 'jobforge.store', 'jobforge.worker')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
