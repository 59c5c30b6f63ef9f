"""`tenure surveys` commands (see docs/engagement.md)."""

from __future__ import annotations

import typer

app = typer.Typer(help="surveys", no_args_is_help=True)
