"""`tenure accounts`: list accounts with their latest scores and show one in full."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from tenure.accounts import service
from tenure.accounts.schemas import (
    HEALTH_BANDS,
    QUADRANT_LABELS,
    STAGE_LABELS,
    AccountDetail,
    AccountSummary,
    health_band,
)
from tenure.kit.cli import DatabaseUrlOpt, HomeOpt, JsonOpt, print_json
from tenure.kit.console import NONE, add_columns, key_value_grid, one_line, run_read
from tenure.kit.pagination import DEFAULT_LIMIT, Page
from tenure.risk.cli import evidence_text, severity_text

app = typer.Typer(help="List and inspect accounts.", no_args_is_help=True)

BAND_STYLES = {"healthy": "green", "watch": "yellow", "at_risk": "red"}
BAND_LABELS = {"healthy": "healthy", "watch": "watch", "at_risk": "at risk"}
SENTIMENT_STYLES = {"positive": "green", "neutral": "default", "negative": "red"}
SPARKS = "▁▂▃▄▅▆▇█"
BAR_WIDTH = 20
LIST_OPTIONS = {
    "quadrant": "--quadrant",
    "stage": "--stage",
    "health_band": "--health",
    "status": "--status",
    "sort": "--sort",
    "limit": "--limit",
    "offset": "--offset",
}


def _text(value: Any) -> str:
    return NONE if value is None or value == "" else escape(str(value))


def _label(code: str | None, labels: dict[str, str] | None = None) -> str:
    if code is None:
        return NONE
    return escape((labels or {}).get(code) or code.replace("_", " ").capitalize())


def _num(value: float | None, digits: int = 0) -> str:
    return NONE if value is None else f"{value:,.{digits}f}"


def _health(score: float | None) -> str:
    band = health_band(score)
    if score is None or band is None:
        return NONE
    return f"[{BAND_STYLES[band]}]{score:.0f}[/]"


def _change(change: float | None) -> str:
    if change is None:
        return NONE
    style = "green" if change > 0 else "red" if change < 0 else "dim"
    return f"[{style}]{change:+.1f}[/]"


def _alerts(count: int, top: str | None) -> str:
    return f"{count} {severity_text(top)}" if count else "[dim]0[/dim]"


def _owner(summary: AccountSummary) -> str:
    return escape(summary.owner.name) if summary.owner else NONE


def _accounts_table(page: Page[AccountSummary], sort: str) -> Table:
    shown = page.offset + len(page.items)
    caption = (
        f"{page.offset + 1 if page.items else 0}–{shown} of {page.total} accounts · sort {sort}"
    )
    if shown < page.total:
        caption += f" · next page: --offset {shown}"
    table = Table(title="Accounts", caption=caption, header_style="bold")
    add_columns(
        table,
        [("ID", "right"), ("Account", "shrink"), ("Owner", "shrink"), ("Quadrant", "shrink"),
         ("Stage", "left"), ("Health", "right"), ("Δ", "right"), ("Value", "right"),
         ("RFM", "left"), ("ARR", "right"), ("Alerts", "left")],
    )  # fmt: skip
    for a in page.items:
        table.add_row(
            str(a.id),
            one_line(f"{escape(a.name)} [dim]{escape(a.external_id)}[/dim]"),
            one_line(_owner(a)),
            one_line(_label(a.quadrant, QUADRANT_LABELS)),
            _label(a.lifecycle_stage, STAGE_LABELS),
            _health(a.health_score),
            _change(a.health_change),
            _num(a.value_score),
            _text(a.rfm_code),
            _num(a.arr),
            _alerts(a.open_alerts, a.top_severity),
        )
    return table


@app.command("list")
def list_command(
    quadrant: Annotated[
        str | None, typer.Option(help=f"Value quadrant: {', '.join(QUADRANT_LABELS)}.")
    ] = None,
    stage: Annotated[
        str | None, typer.Option(help=f"Lifecycle stage: {', '.join(STAGE_LABELS)}.")
    ] = None,
    health: Annotated[
        str | None,
        typer.Option(help=f"Health band: {', '.join(HEALTH_BANDS)} (>= 70, 40-70, < 40)."),
    ] = None,
    owner: Annotated[str | None, typer.Option(help="Owner's user external id or e-mail.")] = None,
    at_risk: Annotated[
        bool | None,
        typer.Option("--at-risk/--no-at-risk", help="Only accounts with (or without) open alerts."),
    ] = None,
    status: Annotated[
        str | None, typer.Option(help=f"Account status: {', '.join(service.ACCOUNT_STATUSES)}.")
    ] = None,
    search: Annotated[
        str | None, typer.Option(help="Part of the name or external id (any case).")
    ] = None,
    sort: Annotated[
        str,
        typer.Option(
            help=f"Sort key, '-' prefix for descending: {', '.join(service.ACCOUNT_SORT_KEYS)}."
        ),
    ] = "health_score",
    limit: Annotated[int, typer.Option(help="Accounts per page.")] = DEFAULT_LIMIT,
    offset: Annotated[int, typer.Option(help="Accounts to skip.")] = 0,
    json_out: JsonOpt = False,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """List accounts with their latest scores; lowest health first by default."""
    page = run_read(
        home,
        database_url,
        lambda session: service.list_accounts(
            session,
            quadrant=quadrant,
            stage=stage,
            health_band=health,
            owner=owner,
            at_risk=at_risk,
            status=status,
            search=search,
            sort=sort,
            limit=limit,
            offset=offset,
        ),
        LIST_OPTIONS,
    )
    if json_out:
        print_json(page.model_dump(mode="json"))
    else:
        Console().print(_accounts_table(page, sort))


@app.command("show")
def show_command(
    key: Annotated[str, typer.Argument(metavar="ID", help="Account id or external id.")],
    json_out: JsonOpt = False,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Show one account: profile, scores and their breakdown, alerts, timeline, contracts."""
    detail = run_read(home, database_url, lambda session: service.get_account(session, key))
    if json_out:
        print_json(detail.model_dump(mode="json"))
        return
    out = Console()
    for part in _detail_parts(detail):
        out.print(part)


def _profile(d: AccountDetail) -> Panel:
    grid = key_value_grid()
    owner = f"{escape(d.owner.name)} [dim]{escape(d.owner.email)}[/dim]" if d.owner else NONE
    size = " · ".join(
        x for x in [d.size, f"{d.employees:,} employees" if d.employees else None] if x
    )
    rows = [
        ("Industry", _text(d.industry)),
        ("Region", _text(d.region)),
        ("Size", _text(size or None)),
        ("Owner", owner),
        ("Status", _text(d.status)),
        ("Customer since", _text(d.customer_since)),
        ("ARR", _num(d.arr)),
        ("Strategic goal", _label(d.strategic_goal)),
        ("Industry influence", _num(d.industry_influence)),
        ("Innovation synergy", _num(d.innovation_synergy)),
        ("Growth potential", _num(d.growth_potential)),
    ]
    if d.churn_date or d.churn_reason:
        rows.append(("Churned", f"{_text(d.churn_date)} {_text(d.churn_reason)}"))
    rows.extend((escape(str(k)), _text(v)) for k, v in d.attributes.items())
    for name, value in rows:
        grid.add_row(name, value)
    return Panel(grid, title=f"{escape(d.name)} [dim]{escape(d.external_id)} · id {d.id}[/dim]")


def _sparkline(values: list[float]) -> str:
    return "".join(SPARKS[min(int(max(v, 0) / 100 * len(SPARKS)), len(SPARKS) - 1)] for v in values)


def _scores(d: AccountDetail) -> Panel:
    grid = key_value_grid()
    band = health_band(d.health_score)
    band_text = f" [{BAND_STYLES[band]}]{BAND_LABELS[band]}[/]" if band else ""
    grid.add_row(
        "Health", f"{_health(d.health_score)}{band_text}  change {_change(d.health_change)}"
    )
    grid.add_row(
        "Value",
        f"{_num(d.value_score)}  "
        f"(current {_num(d.current_value)}, potential {_num(d.potential_value)})",
    )
    grid.add_row("Quadrant", _label(d.quadrant, QUADRANT_LABELS))
    grid.add_row("Lifecycle stage", _label(d.lifecycle_stage, STAGE_LABELS))
    rfm = d.rfm
    grid.add_row(
        "RFM",
        f"{escape(rfm.code)}  (recency {rfm.recency}, frequency {rfm.frequency}, "
        f"monetary {rfm.monetary})"
        if rfm
        else NONE,
    )
    if d.health_trend:
        first, last = d.health_trend[0].as_of, d.health_trend[-1].as_of
        spark = _sparkline([p.health_score for p in d.health_trend])
        grid.add_row("Health trend", f"{spark}  [dim]{first} → {last}[/dim]")
    title = f"Scores as of {d.as_of}" if d.as_of else "Scores (not scored yet)"
    return Panel(grid, title=title)


def _bar(points: float | None, weight: float | None) -> str:
    if points is None or not weight:
        return ""
    filled = round(BAR_WIDTH * max(0.0, min(points / (weight * 100), 1.0)))
    return "█" * filled + "[dim]" + "░" * (BAR_WIDTH - filled) + "[/dim]"


def _health_table(d: AccountDetail) -> Table:
    table = Table(title="Health score: contribution of each measure", header_style="bold")
    for name in ("Measure", "Value", "Score", "Weight", "Points", ""):
        table.add_column(name, justify="left" if name in ("Measure", "") else "right")
    for feature, part in d.health_breakdown.items():
        weight = f"{part.weight:.0%}" if part.weight is not None else NONE
        table.add_row(
            escape(feature),
            NONE if part.value is None else f"{part.value:.4g}",
            _health(part.score),
            weight,
            _num(part.points, 1),
            _bar(part.points, part.weight),
        )
    return table


def _flatten(data: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _value_table(d: AccountDetail) -> Table:
    table = Table(title="Value score breakdown", header_style="bold")
    table.add_column("Measure")
    table.add_column("Score", justify="right")
    for name, value in _flatten(d.value_breakdown):
        shown = f"{value:,.1f}" if isinstance(value, int | float) else escape(json.dumps(value))
        table.add_row(escape(name), shown)
    return table


def _alerts_table(d: AccountDetail) -> Table:
    table = Table(title=f"Open alerts ({len(d.alerts)})", header_style="bold")
    for name in ("ID", "Severity", "Rule", "Status", "Since", "Evidence"):
        table.add_column(name)
    for a in d.alerts:
        table.add_row(
            str(a.id),
            severity_text(a.severity),
            escape(a.rule_name),
            escape(a.status),
            a.opened_as_of.isoformat(),
            evidence_text(a.evidence),
        )
    return table


def _timeline(d: AccountDetail) -> Table:
    table = Table(title="Recent interactions (newest first)", header_style="bold")
    for name in ("When", "Channel", "Direction", "Type", "Contact", "Summary", "Sentiment"):
        table.add_column(name)
    for i in d.recent_interactions:
        sentiment = (
            f"[{SENTIMENT_STYLES.get(i.sentiment, 'default')}]{escape(i.sentiment)}[/]"
            if i.sentiment
            else NONE
        )
        table.add_row(
            i.occurred_at.strftime("%Y-%m-%d %H:%M"),
            escape(i.channel),
            escape(i.direction),
            escape(i.type),
            _text(i.contact_name),
            _text(i.summary),
            sentiment,
        )
    return table


def _contacts(d: AccountDetail) -> Table:
    table = Table(title="Contacts", header_style="bold")
    for name in ("Name", "Title", "Role", "E-mail", "Phone", "Channel", "Format", "Opt-out"):
        table.add_column(name)
    for c in d.contacts:
        opt_out = "all" if c.opted_out_all else ", ".join(map(str, c.opt_out_channels)) or None
        table.add_row(
            escape(c.name),
            _text(c.title),
            _label(c.role),
            _text(c.email),
            _text(c.phone),
            _text(c.channel_preference),
            _text(c.format_preference),
            _text(opt_out),
        )
    return table


def _subscriptions(d: AccountDetail) -> Table:
    today = dt.date.today()
    table = Table(title="Subscriptions", header_style="bold")
    for name in ("Product", "Status", "Start", "End", "ARR", "Auto-renew"):
        table.add_column(name, justify="right" if name == "ARR" else "left")
    for s in d.subscriptions:
        end = _text(s.end_date)
        if s.end_date is not None and s.end_date < today and s.status == "active":
            end = f"[red]{s.end_date} (ended)[/red]"
        table.add_row(
            escape(s.product),
            escape(s.status),
            s.start_date.isoformat(),
            end,
            f"{s.arr:,.0f} {escape(s.currency)}",
            "yes" if s.auto_renew else "no",
        )
    return table


def _feedback(d: AccountDetail) -> str:
    t = d.tickets
    line = f"[bold]Tickets[/bold] {t.total} ({t.open} open, {t.complaints} complaints)"
    if t.last_opened_at:
        line += f", last opened {t.last_opened_at:%Y-%m-%d}"
    if d.last_nps:
        nps = d.last_nps
        line += f"   [bold]Last NPS answer[/bold] {nps.score}/10 on {nps.responded_at:%Y-%m-%d}"
        if d.last_nps.comment:
            line += f": {escape(d.last_nps.comment)}"
    else:
        line += "   [dim]no NPS answer yet[/dim]"
    return line


def _detail_parts(d: AccountDetail) -> list[Any]:
    parts: list[Any] = [Group(_profile(d), _scores(d))]
    sections: list[tuple[bool, Any, str]] = [
        (bool(d.health_breakdown), _health_table, "No health breakdown yet."),
        (bool(d.value_breakdown), _value_table, "No value breakdown yet."),
        (bool(d.alerts), _alerts_table, "No open alerts."),
        (bool(d.recent_interactions), _timeline, "No interactions recorded."),
        (bool(d.contacts), _contacts, "No contacts."),
        (bool(d.subscriptions), _subscriptions, "No subscriptions."),
    ]
    for present, render, empty in sections:
        parts.append(render(d) if present else f"[dim]{empty}[/dim]")
    parts.append(_feedback(d))
    return parts
