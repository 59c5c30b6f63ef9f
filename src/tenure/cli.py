"""The `tenure` command: every capability reachable from the shell."""

from __future__ import annotations

import typer

from tenure.config_cli import app as config_app

app = typer.Typer(
    name="tenure",
    help="Tenure: open-source customer success platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(config_app, name="config")


def main() -> None:
    """Entry point of the `tenure` console script."""
    app()
