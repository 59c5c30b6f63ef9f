"""`tenure alerts`: list and inspect the alerts raised by risk rules."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from sqlalchemy.orm import Session

from tenure.errors import ResourceNotFound
from tenure.kit.cli import DatabaseUrlOpt, HomeOpt, JsonOpt, fail, print_json
from tenure.kit.pagination import DEFAULT_LIMIT, InvalidQuery, Page
from tenure.kit.runtime import open_runtime
from tenure.risk import queries
from tenure.risk.schemas import ALERT_STATUS_FILTERS, SEVERITIES, AlertRead

app = typer.Typer(help="List and inspect risk alerts.", no_args_is_help=True)

SEVERITY_STYLES: dict[str, str] = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
}
STATUS_STYLES: dict[str, str] = {
    "open": "bold",
    "acknowledged": "blue",
    "resolved": "green",
    "dismissed": "dim",
    "closed": "dim green",
}
NONE = "[dim]—[/dim]"
# Evidence keys that describe the firing rather than hold a feature value.
EVIDENCE_META = {"expression": "Expression", "as_of": "Evidence as of"}


@contextmanager
def read_session(home: Path | None, database_url: str | None) -> Iterator[Session]:
    """A session on the home's database for read commands; the runtime closes afterwards."""
    runtime = open_runtime(home, database_url)
    try:
        with runtime.sessions() as session:
            yield session
    finally:
        runtime.close()


def severity_text(severity: str | None) -> str:
    """Rich markup of a severity, coloured by how bad it is."""
    if severity is None:
        return NONE
    return f"[{SEVERITY_STYLES.get(severity, 'default')}]{escape(severity)}[/]"


def status_text(status: str) -> str:
    """Rich markup of an alert status."""
    return f"[{STATUS_STYLES.get(status, 'default')}]{escape(status)}[/]"


def _value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def evidence_text(evidence: Mapping[str, Any]) -> str:
    """The feature values of an alert's evidence as ``name=value`` pairs."""
    pairs = [
        f"{name}={_value_text(v)}" for name, v in evidence.items() if name not in EVIDENCE_META
    ]
    return escape(", ".join(pairs)) if pairs else NONE


def bad_option(exc: InvalidQuery, options: Mapping[str, str]) -> typer.BadParameter:
    """A usage error (exit 2) naming the command-line option behind a rejected query value."""
    return typer.BadParameter(exc.message, param_hint=options.get(exc.parameter, exc.parameter))


def add_columns(table: Table, columns: Sequence[tuple[str, str]]) -> None:
    """Add (header, kind) columns: kind "right" or "left" never narrows, "shrink" gives way.

    On a narrow terminal only the "shrink" columns get narrower (the widest first); fill
    them with `one_line` cells so each row stays one line, cut with "…".
    """
    for name, kind in columns:
        justify: Literal["left", "right"] = "right" if kind == "right" else "left"
        table.add_column(name, justify=justify, no_wrap=kind != "shrink")


def one_line(markup: str) -> Text:
    """A table cell that never wraps: cut with "…" when its column is too narrow."""
    text = Text.from_markup(markup)
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text


def _owner_text(alert: AlertRead) -> str:
    return escape(alert.owner.name) if alert.owner else NONE


def _alerts_table(page: Page[AlertRead]) -> Table:
    first = page.offset + 1 if page.items else 0
    caption = f"{first}–{page.offset + len(page.items)} of {page.total} alerts"
    if page.offset + len(page.items) < page.total:
        caption += f" · next page: --offset {page.offset + len(page.items)}"
    table = Table(title="Alerts", caption=caption, header_style="bold")
    add_columns(
        table,
        [("ID", "right"), ("Severity", "left"), ("Status", "left"), ("Account", "shrink"),
         ("Rule", "shrink"), ("Opened", "left"), ("Last seen", "left"), ("Owner", "shrink"),
         ("Evidence", "shrink")],
    )  # fmt: skip
    for alert in page.items:
        table.add_row(
            str(alert.id),
            severity_text(alert.severity),
            status_text(alert.status),
            one_line(
                f"{escape(alert.account_name)} [dim]{escape(alert.account_external_id)}[/dim]"
            ),
            one_line(escape(alert.rule_name)),
            alert.opened_as_of.isoformat(),
            alert.last_seen_as_of.isoformat(),
            one_line(_owner_text(alert)),
            one_line(evidence_text(alert.evidence)),
        )
    return table


LIST_OPTIONS = {
    "status": "--status",
    "severity": "--severity",
    "sort": "--sort",
    "limit": "--limit",
    "offset": "--offset",
}


@app.command("list")
def list_command(
    status: Annotated[
        str,
        typer.Option(
            help=f"One of: {', '.join(ALERT_STATUS_FILTERS)} (open = open or acknowledged)."
        ),
    ] = "open",
    severity: Annotated[
        str | None, typer.Option(help=f"Only this severity: {', '.join(SEVERITIES)}.")
    ] = None,
    rule: Annotated[str | None, typer.Option(help="Only alerts of this rule id.")] = None,
    owner: Annotated[
        str | None, typer.Option(help="Only alerts owned by this user (external id or e-mail).")
    ] = None,
    account: Annotated[
        str | None, typer.Option(help="Only alerts of this account (id or external id).")
    ] = None,
    sort: Annotated[
        str,
        typer.Option(
            help=f"Sort key, '-' prefix for descending: {', '.join(queries.ALERT_SORT_KEYS)}."
        ),
    ] = "-severity",
    limit: Annotated[int, typer.Option(help="Alerts per page.")] = DEFAULT_LIMIT,
    offset: Annotated[int, typer.Option(help="Alerts to skip.")] = 0,
    json_out: JsonOpt = False,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """List alerts: open ones by default, most severe and newest first."""
    with read_session(home, database_url) as session:
        try:
            page = queries.list_alerts(
                session,
                status=status,
                severity=severity,
                rule=rule,
                owner=owner,
                account=account,
                sort=sort,
                limit=limit,
                offset=offset,
            )
        except InvalidQuery as exc:
            raise bad_option(exc, LIST_OPTIONS) from None
        except ResourceNotFound as exc:
            raise fail(exc.message) from None
    if json_out:
        print_json(page.model_dump(mode="json"))
    else:
        # A Console per run measures this run's terminal (or $COLUMNS), not the importer's.
        Console().print(_alerts_table(page))


@app.command("show")
def show_command(
    alert_id: Annotated[int, typer.Argument(metavar="ID", help="Alert id.")],
    json_out: JsonOpt = False,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Show one alert with the evidence that fired it."""
    with read_session(home, database_url) as session:
        try:
            alert = queries.get_alert(session, alert_id)
        except ResourceNotFound as exc:
            raise fail(exc.message) from None
    if json_out:
        print_json(alert.model_dump(mode="json"))
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row(
        "Account", f"{escape(alert.account_name)} [dim]{escape(alert.account_external_id)}[/dim]"
    )
    grid.add_row("Rule", f"{escape(alert.rule_name)} [dim]({escape(alert.rule_id)})[/dim]")
    grid.add_row("Category", escape(alert.category))
    grid.add_row("Severity", severity_text(alert.severity))
    grid.add_row("Status", status_text(alert.status))
    grid.add_row("Owner", _owner_text(alert))
    grid.add_row("Opened", alert.opened_as_of.isoformat())
    grid.add_row("Last seen", alert.last_seen_as_of.isoformat())
    grid.add_row("Closed", alert.closed_as_of.isoformat() if alert.closed_as_of else NONE)
    for key, label in EVIDENCE_META.items():
        if alert.evidence.get(key) is not None:
            grid.add_row(label, escape(str(alert.evidence[key])))
    evidence = Table(title="Evidence", header_style="bold")
    evidence.add_column("Feature")
    evidence.add_column("Value", justify="right")
    for name, value in alert.evidence.items():
        if name not in EVIDENCE_META:
            evidence.add_row(escape(name), escape(_value_text(value)))
    out = Console()
    out.print(Panel(grid, title=f"Alert {alert.id}", expand=False))
    out.print(evidence)
