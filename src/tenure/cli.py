"""The `tenure` command: every capability reachable from the shell."""

from __future__ import annotations

import typer

from tenure.accounts.cli import app as accounts_app
from tenure.auth.cli import tokens_app, users_app
from tenure.config_cli import app as config_app
from tenure.demo.cli import demo_data
from tenure.imports.cli import app as import_app
from tenure.risk.cli import app as alerts_app
from tenure.scoring import cli as scoring_cli
from tenure.scoring.portfolio import portfolio
from tenure.server_cli import serve, worker

app = typer.Typer(
    name="tenure",
    help="Tenure: open-source customer success platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(config_app, name="config")
app.add_typer(import_app, name="import")
app.add_typer(accounts_app, name="accounts")
app.add_typer(alerts_app, name="alerts")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.command("score")(scoring_cli.score)
app.command("backfill")(scoring_cli.backfill)
app.command("portfolio")(portfolio)
app.command("demo-data")(demo_data)
app.command("serve")(serve)
app.command("worker")(worker)


def main() -> None:
    """Entry point of the `tenure` console script."""
    app()
