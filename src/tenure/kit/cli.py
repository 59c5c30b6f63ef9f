"""Options every command shares, and output helpers for tables and `--json`."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

HomeOpt = Annotated[
    Path | None,
    typer.Option(
        "--home",
        envvar="TENURE_HOME",
        help="Folder of the data set (database, events, tenure.toml). Default ~/.tenure.",
        show_default=False,
    ),
]
DatabaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="TENURE_DATABASE_URL",
        help="SQLAlchemy URL of the operational store; default the SQLite file in --home.",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (the API's field names).")]

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(data: Any) -> str:
    """JSON text for `data`, with dates as ISO strings."""
    return json.dumps(data, default=_default, ensure_ascii=False)


def print_json(data: Any) -> None:
    """Print `data` as one line of JSON on stdout (no rich markup)."""
    typer.echo(dumps(data))


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print `message` to stderr and return the Exit to raise."""
    err_console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


def parse_date(value: str | None, option: str) -> dt.date | None:
    """Parse an ISO date given on the command line, naming the option when it is wrong."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None
