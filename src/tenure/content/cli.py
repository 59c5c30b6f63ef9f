"""`tenure templates` and `tenure talk-tracks` commands (see docs/engagement.md)."""

from __future__ import annotations

import typer

templates_app = typer.Typer(
    help="Message templates: list, show, preview, import.", no_args_is_help=True
)
talk_tracks_app = typer.Typer(
    help="The talk-track library: search, show, import.", no_args_is_help=True
)
