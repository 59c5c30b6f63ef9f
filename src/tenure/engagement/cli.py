"""`tenure playbooks`, `tenure outbox` and `tenure tasks` commands (see docs/engagement.md)."""

from __future__ import annotations

import typer

playbooks_app = typer.Typer(
    help="Playbooks: list, show, runs, install the shipped ones.", no_args_is_help=True
)
outbox_app = typer.Typer(
    help="The outbox: list messages, dispatch, retry, cancel.", no_args_is_help=True
)
tasks_app = typer.Typer(help="Tasks and cases for CSMs.", no_args_is_help=True)
