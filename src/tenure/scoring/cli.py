"""`tenure score` and `tenure backfill`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tenure.events.store import EventStore
from tenure.kit.cli import DatabaseUrlOpt, HomeOpt, JsonOpt, console, parse_date, print_json
from tenure.kit.runtime import Runtime, open_runtime
from tenure.scoring.service import ScoreRun, as_of_dates, score_accounts

AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Score as of the end of this day (YYYY-MM-DD); default today."),
]


def run_score(runtime: Runtime, as_of: dt.date, *, playbooks: bool = True) -> ScoreRun:
    """Score `as_of` in one transaction on `runtime` (see `score_accounts`)."""
    store = EventStore(runtime.settings.events_path)
    with runtime.sessions() as session, session.begin():
        return score_accounts(
            session, store=store, config=runtime.config, as_of=as_of, playbooks=playbooks
        )


def _summary(run: ScoreRun) -> Table:
    table = Table(title=f"Scored {run.accounts} accounts as of {run.as_of}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name, count in run.quadrants.items():
        table.add_row(f"quadrant {name}", str(count))
    for name, count in run.stages.items():
        table.add_row(f"stage {name}", str(count))
    table.add_row("alerts opened", str(run.alerts_opened))
    table.add_row("playbook runs started", str(run.playbook_runs))
    table.add_row("alerts still firing", str(run.alerts_refreshed))
    table.add_row("alerts closed", str(run.alerts_closed))
    table.add_row("seconds", f"{sum(run.seconds.values()):.2f}")
    return table


def score(
    as_of: AsOfOpt = None,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Score every account as of a date: value, RFM, lifecycle, health, risk alerts."""
    day = parse_date(as_of, "--as-of") or dt.date.today()
    runtime = open_runtime(home, database_url)
    try:
        run = run_score(runtime, day)
    finally:
        runtime.close()
    if json_out:
        print_json(run.as_dict())
    else:
        console.print(_summary(run))


def backfill(
    start: Annotated[str, typer.Option("--from", help="First as-of date (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", help="Last as-of date (YYYY-MM-DD).")],
    every: Annotated[
        str, typer.Option(help="Step between as-of dates: day, week or month.")
    ] = "day",
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Score every as-of date in a range, oldest first, so history and alerts build up."""
    first = parse_date(start, "--from")
    last = parse_date(end, "--to")
    assert first is not None and last is not None
    try:
        dates = as_of_dates(first, last, every)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    runtime = open_runtime(home, database_url)
    runs: list[ScoreRun] = []
    try:
        with Progress(
            TextColumn("[bold]backfill[/bold] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=json_out,
        ) as bar:
            task = bar.add_task("", total=len(dates))
            for day in dates:
                bar.update(task, description=day.isoformat())
                # Only the newest date triggers playbooks: the past ones are history.
                runs.append(run_score(runtime, day, playbooks=day == dates[-1]))
                bar.advance(task)
    finally:
        runtime.close()
    opened = sum(r.alerts_opened for r in runs)
    closed = sum(r.alerts_closed for r in runs)
    if json_out:
        print_json(
            {
                "from": first.isoformat(),
                "to": last.isoformat(),
                "every": every,
                "runs": len(runs),
                "alerts_opened": opened,
                "alerts_closed": closed,
                "last": runs[-1].as_dict() if runs else None,
            }
        )
    else:
        console.print(f"{len(runs)} runs; {opened} alerts opened, {closed} closed")
        if runs:
            console.print(_summary(runs[-1]))
