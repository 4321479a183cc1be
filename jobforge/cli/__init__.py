"""The `jobforge` command: one typer app, one module per command group.

Each module below registers its commands on `app` (or adds a sub-typer) when imported.
"""

from __future__ import annotations

import typer

app = typer.Typer(help="jobforge: durable background jobs.", no_args_is_help=True)

# Imported for their side effect of registering commands; the order is the help order.
from jobforge.cli import (  # noqa: E402, F401
    api_cmd,
    dlq,
    enqueue,
    jobs,
    load_test,
    migrate,
    tenants,
    up,
    worker,
)

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
