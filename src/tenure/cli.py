"""The `tenure` command: every capability reachable from the shell."""

from __future__ import annotations

import typer

from tenure.accounts.cli import app as accounts_app
from tenure.auth.cli import tokens_app, users_app
from tenure.channels.cli import app as channels_app
from tenure.config_cli import app as config_app
from tenure.content.cli import talk_tracks_app, templates_app
from tenure.demo.cli import demo_data
from tenure.engagement.cli import outbox_app, playbooks_app, tasks_app
from tenure.imports.cli import app as import_app
from tenure.risk.cli import app as alerts_app
from tenure.scoring import cli as scoring_cli
from tenure.scoring.portfolio import portfolio
from tenure.server_cli import serve, worker
from tenure.surveys.cli import app as surveys_app

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
app.add_typer(playbooks_app, name="playbooks")
app.add_typer(tasks_app, name="tasks")
app.add_typer(outbox_app, name="outbox")
app.add_typer(channels_app, name="channels")
app.add_typer(templates_app, name="templates")
app.add_typer(talk_tracks_app, name="talk-tracks")
app.add_typer(surveys_app, name="surveys")
app.command("score")(scoring_cli.score)
app.command("backfill")(scoring_cli.backfill)
app.command("portfolio")(portfolio)
app.command("demo-data")(demo_data)
app.command("serve")(serve)
app.command("worker")(worker)


def main() -> None:
    """Entry point of the `tenure` console script."""
    app()
