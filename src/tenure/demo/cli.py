"""`tenure demo-data`: build the demo customer base into a home."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from tenure.demo.generate import (
    MAX_ACCOUNTS,
    MAX_MONTHS,
    MIN_ACCOUNTS,
    MIN_MONTHS,
    account_count,
    build_demo,
    wipe,
)
from tenure.kit.cli import DatabaseUrlOpt, HomeOpt, JsonOpt, console, fail, parse_date, print_json
from tenure.kit.runtime import open_runtime

app = typer.Typer(help="Demo data.", no_args_is_help=True)


class DemoLocale(StrEnum):
    ZH = "zh"
    EN = "en"


@app.command("demo-data")
def demo_data(
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
    accounts: Annotated[
        int, typer.Option(min=MIN_ACCOUNTS, max=MAX_ACCOUNTS, help="Number of customer accounts.")
    ] = 2000,
    months: Annotated[
        int, typer.Option(min=MIN_MONTHS, max=MAX_MONTHS, help="Months of history before --as-of.")
    ] = 18,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 42,
    locale: Annotated[
        DemoLocale, typer.Option(help="Language of names and texts: zh (zh-CN) or en.")
    ] = DemoLocale.ZH,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Last day of data (YYYY-MM-DD); default today.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Wipe the home's data first if it already has accounts.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Generate a realistic B2B SaaS customer base with planted churn signals."""
    day = parse_date(as_of, "--as-of")
    runtime = open_runtime(home, database_url)
    try:
        existing = account_count(runtime)
        if existing and not force:
            raise fail(
                f"{runtime.settings.home} already holds {existing} accounts; "
                "use --force to wipe it and build the demo"
            )
        if existing:
            wipe(runtime)
        if json_out:
            summary = build_demo(
                runtime, accounts=accounts, months=months, seed=seed, locale=locale.value, as_of=day
            )
            print_json(summary.to_dict())
            return
        with console.status("building the demo data set") as status:
            summary = build_demo(
                runtime, accounts=accounts, months=months, seed=seed, locale=locale.value,
                as_of=day, progress=lambda msg: status.update(msg),
            )  # fmt: skip
    finally:
        runtime.close()
    table = Table(title=f"Demo data as of {summary.as_of} (seed {summary.seed})")
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, count in {**summary.rows, "events": summary.events}.items():
        table.add_row(name, f"{count:,}")
    for name, count in summary.cohorts.items():
        table.add_row(f"cohort: {name}", f"{count:,}")
    console.print(table)
    console.print(f"ground truth: {summary.ground_truth}  ({summary.seconds:.1f} s)")
