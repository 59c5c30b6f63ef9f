"""`tenure outbox list | dispatch | retry | cancel`: the outbox from the shell."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tenure.db import transaction
from tenure.engagement import dispatcher, outbox_admin
from tenure.engagement.schemas_outbox import OUTBOX_STATUSES, OutboxDetail, OutboxRead
from tenure.errors import TenureError
from tenure.kit.cli import DatabaseUrlOpt, HomeOpt, JsonOpt, fail, print_json
from tenure.kit.console import NONE, add_columns, one_line, run_read
from tenure.kit.pagination import DEFAULT_LIMIT, Page
from tenure.kit.runtime import open_runtime

ACTOR = "cli"
STATUS_STYLES: dict[str, str] = {
    "queued": "default",
    "sending": "blue",
    "sent": "green",
    "failed": "yellow",
    "dead": "bold red",
    "cancelled": "dim",
}
LIST_OPTIONS = {
    "status": "--status",
    "account": "--account",
    "limit": "--limit",
    "offset": "--offset",
}
MessageArg = Annotated[int, typer.Argument(metavar="ID", help="Outbox message id.")]


def _status_text(status: str) -> str:
    return f"[{STATUS_STYLES.get(status, 'default')}]{escape(status)}[/]"


def _recipient_text(message: OutboxRead) -> str:
    parts = [
        str(message.recipient[k]) for k in ("name", "email", "mobile") if message.recipient.get(k)
    ]
    return escape(" ".join(parts)) if parts else NONE


def _outbox_table(page: Page[OutboxRead]) -> Table:
    first = page.offset + 1 if page.items else 0
    caption = f"{first}–{page.offset + len(page.items)} of {page.total} messages"
    if page.offset + len(page.items) < page.total:
        caption += f" · next page: --offset {page.offset + len(page.items)}"
    table = Table(title="Outbox", caption=caption, header_style="bold")
    add_columns(
        table,
        [("ID", "right"), ("Status", "left"), ("Channel", "left"), ("Account", "shrink"),
         ("Recipient", "shrink"), ("Subject", "shrink"), ("Attempts", "right"),
         ("Next attempt", "left"), ("Last error", "shrink")],
    )  # fmt: skip
    for m in page.items:
        due = m.next_attempt_at if m.status in ("queued", "failed") else None
        table.add_row(
            str(m.id),
            _status_text(m.status),
            escape(m.channel),
            one_line(escape(m.account_external_id) if m.account_external_id else NONE),
            one_line(_recipient_text(m)),
            one_line(escape(m.subject)),
            str(m.attempts),
            due.isoformat(sep=" ", timespec="seconds") if due else NONE,
            one_line(escape(m.last_error) if m.last_error else NONE),
        )
    return table


def list_command(
    status: Annotated[
        str | None, typer.Option(help=f"Only this status: {', '.join(OUTBOX_STATUSES)}.")
    ] = None,
    account: Annotated[
        str | None, typer.Option(help="Only messages of this account (id or external id).")
    ] = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel (email, …).")] = None,
    source: Annotated[
        str | None, typer.Option(help="Only this source; a prefix when it ends with ':'.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Messages per page.")] = DEFAULT_LIMIT,
    offset: Annotated[int, typer.Option(help="Messages to skip.")] = 0,
    json_out: JsonOpt = False,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """List outbox messages, newest first."""
    page = run_read(
        home,
        database_url,
        lambda session: outbox_admin.list_outbox(
            session,
            status=status,
            account=account,
            channel=channel,
            source=source,
            limit=limit,
            offset=offset,
        ),
        LIST_OPTIONS,
    )
    if json_out:
        print_json(page.model_dump(mode="json"))
    else:
        Console().print(_outbox_table(page))


def dispatch_command(
    loop: Annotated[
        bool, typer.Option("--loop", help="Keep dispatching until interrupted (Ctrl-C).")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, help="Messages claimed per batch.")] = 100,
    lease: Annotated[
        float,
        typer.Option(min=1, help="Seconds a claim holds before another dispatcher may retake it."),
    ] = 60.0,
    interval: Annotated[
        float, typer.Option(min=0.05, help="With --loop: seconds to wait when nothing is due.")
    ] = 2.0,
    json_out: JsonOpt = False,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Deliver due messages: every one due now, or with --loop until interrupted."""
    runtime = open_runtime(home, database_url)
    total = dispatcher.DispatchResult()
    try:
        while True:
            result = dispatcher.dispatch(runtime, limit=limit, lease_seconds=lease)
            for name in ("sent", "failed", "dead", "skipped"):
                setattr(total, name, getattr(total, name) + getattr(result, name))
            if loop and result.claimed and not json_out:
                typer.echo(_summary(result), err=True)
            if result.claimed < limit:  # nothing more due now
                if not loop:
                    break
                time.sleep(interval)
    except KeyboardInterrupt:  # Ctrl-C in --loop: report what was done, exit cleanly
        pass
    finally:
        runtime.close()
    if json_out:
        print_json(vars(total))
    else:
        typer.echo(_summary(total))


def _summary(result: dispatcher.DispatchResult) -> str:
    return (
        f"sent {result.sent}, failed {result.failed} (will retry), dead {result.dead},"
        f" skipped {result.skipped}"
    )


def _change(
    home: HomeOpt, database_url: DatabaseUrlOpt, message_id: int, action: str
) -> OutboxDetail:
    runtime = open_runtime(home, database_url)
    change = outbox_admin.retry if action == "retry" else outbox_admin.cancel
    try:
        with transaction(runtime.sessions) as session:
            return change(session, message_id, actor=ACTOR)
    except TenureError as exc:
        raise fail(exc.message) from None
    finally:
        runtime.close()


def retry_command(
    message_id: MessageArg,
    json_out: JsonOpt = False,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Queue a dead or failed message again, due now, with its attempts reset."""
    message = _change(home, database_url, message_id, "retry")
    if json_out:
        print_json(message.model_dump(mode="json"))
    else:
        typer.echo(f"message {message.id} is queued again")


def cancel_command(
    message_id: MessageArg,
    json_out: JsonOpt = False,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Cancel a queued or failed message so it is never sent."""
    message = _change(home, database_url, message_id, "cancel")
    if json_out:
        print_json(message.model_dump(mode="json"))
    else:
        typer.echo(f"message {message.id} is cancelled")
