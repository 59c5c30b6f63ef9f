"""`tenure surveys`: send NPS invitations, send the reminders due, list, show the figures."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from tenure.accounts.service import resolve_account_id
from tenure.auth.audit import record
from tenure.db import transaction
from tenure.errors import TenureError
from tenure.kit.cli import DatabaseUrlOpt, HomeOpt, JsonOpt, console, fail, print_json
from tenure.kit.console import NONE, run_read
from tenure.kit.pagination import DEFAULT_LIMIT, Page
from tenure.kit.runtime import open_runtime
from tenure.surveys.invitations import invite, resolve_contacts, send_reminders
from tenure.surveys.reports import STATUSES, list_invitations, send_result, survey_stats
from tenure.surveys.schemas import InvitationRead, NpsSendResult, SurveyStats

app = typer.Typer(
    help="NPS surveys: invitations, reminders, response figures.", no_args_is_help=True
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _cell(value: object) -> str:
    return NONE if value is None else escape(str(value))


def _send_tables(result: NpsSendResult) -> None:
    sent = Table(title=f"{len(result.invitations)} invitations queued", header_style="bold")
    for column in ("ID", "Contact", "Channel", "Language", "Valid until"):
        sent.add_column(column)
    for inv in result.invitations:
        sent.add_row(
            str(inv.id),
            _cell(inv.contact_name or inv.contact_external_id),
            _cell(inv.channel),
            inv.locale,
            inv.expires_at.strftime("%Y-%m-%d %H:%M"),
        )
    console.print(sent)
    if result.skipped:
        skipped = Table(title=f"{len(result.skipped)} contacts skipped", header_style="bold")
        for column in ("Contact", "Reason", "Why"):
            skipped.add_column(column)
        for s in result.skipped:
            skipped.add_row(escape(s.contact_external_id), s.reason, escape(s.message))
        console.print(skipped)


@app.command("send")
def send_command(
    account: Annotated[str, typer.Argument(help="The account's id or external id.")],
    contact: Annotated[
        list[str] | None,
        typer.Option("--contact", help="A contact's id or external id (repeat; default all)."),
    ] = None,
    channel: Annotated[
        str | None, typer.Option(help="Channel kind (email, wecom, …); default each contact's.")
    ] = None,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Invite an account's contacts to the NPS survey (one queued message each)."""
    runtime = open_runtime(home, database_url)
    now = _now()
    try:
        with transaction(runtime.sessions) as session:
            account_id = resolve_account_id(session, account)
            contact_ids = resolve_contacts(session, account_id, contact) if contact else None
            invited = invite(
                session, config=runtime.config.engagement, home=runtime.settings.home,
                account_id=account_id, contact_ids=contact_ids, channel=channel,
                source="survey:cli", now=now,
            )  # fmt: skip
            record(
                session, actor="cli", action="survey.send", entity="account",
                entity_id=account_id,
                after={
                    "invitations": [i.id for i in invited],
                    "skipped": {str(s.contact_id): s.reason for s in invited.skipped},
                },
            )  # fmt: skip
            result = send_result(session, invited, now)
    except TenureError as exc:
        raise fail(exc.message) from None
    finally:
        runtime.close()
    if json_out:
        print_json(result.model_dump(mode="json"))
    else:
        _send_tables(result)


@app.command("remind")
def remind_command(
    home: HomeOpt = None, database_url: DatabaseUrlOpt = None, json_out: JsonOpt = False
) -> None:
    """Queue the reminders due now to contacts who have not answered."""
    runtime = open_runtime(home, database_url)
    try:
        with transaction(runtime.sessions) as session:
            count = send_reminders(
                session, runtime.config.engagement, _now(), home=runtime.settings.home
            )
    finally:
        runtime.close()
    if json_out:
        print_json({"reminders": count})
    else:
        console.print(f"{count} reminders queued")


@app.command("list")
def list_command(
    account: Annotated[str | None, typer.Option(help="Only this account's.")] = None,
    status: Annotated[str | None, typer.Option(help=f"One of {', '.join(STATUSES)}.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = DEFAULT_LIMIT,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List survey invitations, newest first."""

    def fetch(session: Session) -> Page[InvitationRead]:
        account_id = resolve_account_id(session, account) if account else None
        return list_invitations(session, account_id=account_id, status=status, limit=limit)

    page = run_read(home, database_url, fetch, {"status": "--status", "limit": "--limit"})
    if json_out:
        print_json(page.model_dump(mode="json"))
        return
    table = Table(title=f"Survey invitations ({page.total})", header_style="bold")
    for column in ("ID", "Account", "Contact", "Channel", "Status", "Sent", "Reminders", "Score"):
        table.add_column(column)
    for inv in page.items:
        table.add_row(
            str(inv.id), escape(inv.account_external_id),
            _cell(inv.contact_name or inv.contact_external_id), _cell(inv.channel), inv.status,
            inv.sent_at.strftime("%Y-%m-%d %H:%M"), str(inv.reminders_sent), _cell(inv.score),
        )  # fmt: skip
    console.print(table)


@app.command("stats")
def stats_command(
    account: Annotated[str | None, typer.Option(help="Only this account's invitations.")] = None,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Invitations sent and answered, the response rate and the NPS."""

    def fetch(session: Session) -> SurveyStats:
        account_id = resolve_account_id(session, account) if account else None
        return survey_stats(session, account_id)

    stats = run_read(home, database_url, fetch)
    if json_out:
        print_json(stats.model_dump(mode="json"))
        return
    table = Table(title="NPS surveys" + (f" · {escape(account)}" if account else ""))
    table.add_column("measure")
    table.add_column("value", justify="right")
    rate = None if stats.response_rate is None else f"{stats.response_rate:.0%}"
    nps = None if stats.nps is None else f"{stats.nps:+.1f}"
    for name, value in (
        ("sent", stats.sent), ("responded", stats.responded), ("pending", stats.pending),
        ("expired", stats.expired), ("response rate", rate), ("promoters", stats.promoters),
        ("passives", stats.passives), ("detractors", stats.detractors), ("NPS", nps),
    ):  # fmt: skip
        table.add_row(name, _cell(value))
    console.print(table)
