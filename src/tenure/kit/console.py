"""Read commands' plumbing: a session per command, query errors as CLI errors, table cells."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, TypeVar

import typer
from rich.table import Table
from rich.text import Text
from sqlalchemy.orm import Session

from tenure.errors import ResourceNotFound
from tenure.kit.cli import fail
from tenure.kit.pagination import InvalidQuery
from tenure.kit.runtime import open_runtime

T = TypeVar("T")
NONE = "[dim]—[/dim]"


@contextmanager
def read_session(home: Path | None, database_url: str | None) -> Iterator[Session]:
    """A session on the home's database for read commands; the runtime closes afterwards."""
    runtime = open_runtime(home, database_url)
    try:
        with runtime.sessions() as session:
            yield session
    finally:
        runtime.close()


def bad_option(exc: InvalidQuery, options: Mapping[str, str]) -> typer.BadParameter:
    """A usage error (exit 2) naming the command-line option behind a rejected query value."""
    return typer.BadParameter(exc.message, param_hint=options.get(exc.parameter, exc.parameter))


def run_read(
    home: Path | None,
    database_url: str | None,
    fetch: Callable[[Session], T],
    options: Mapping[str, str] | None = None,
) -> T:
    """Run `fetch` in a read session: a bad filter exits 2 naming its option, not found 1."""
    with read_session(home, database_url) as session:
        try:
            return fetch(session)
        except InvalidQuery as exc:
            raise bad_option(exc, options or {}) from None
        except ResourceNotFound as exc:
            raise fail(exc.message) from None


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


def key_value_grid() -> Table:
    """A borderless two-column grid: bold names on the left, values on the right."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    return grid
