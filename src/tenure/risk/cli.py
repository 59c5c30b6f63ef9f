"""`tenure alerts`: list and inspect the alerts raised by risk rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from tenure.kit.cli import DatabaseUrlOpt, HomeOpt, JsonOpt, print_json
from tenure.kit.console import NONE, add_columns, key_value_grid, one_line, run_read
from tenure.kit.pagination import DEFAULT_LIMIT, Page
from tenure.risk import queries
from tenure.risk.models import SEVERITIES
from tenure.risk.schemas import ALERT_STATUS_FILTERS, AlertRead

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
# Evidence keys that describe the firing rather than hold a feature value.
EVIDENCE_META = {"expression": "Expression", "as_of": "Evidence as of"}


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
    page = run_read(
        home,
        database_url,
        lambda session: queries.list_alerts(
            session,
            status=status,
            severity=severity,
            rule=rule,
            owner=owner,
            account=account,
            sort=sort,
            limit=limit,
            offset=offset,
        ),
        LIST_OPTIONS,
    )
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
    alert = run_read(home, database_url, lambda session: queries.get_alert(session, alert_id))
    if json_out:
        print_json(alert.model_dump(mode="json"))
        return
    grid = key_value_grid()
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
