"""`tenure import <entity> FILE`: load CSV, XLSX, JSON or Parquet exports into Tenure."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tenure.imports.fields import ENTITIES
from tenure.imports.report import (
    ImportFileError,
    ImportOptions,
    ImportSummary,
    ImportWriteError,
    RowError,
)
from tenure.imports.service import ProgressFn, import_file
from tenure.kit.cli import DatabaseUrlOpt, HomeOpt, JsonOpt, console, err_console, print_json
from tenure.kit.runtime import open_runtime

EXIT_REJECTED = 1  # some rows were rejected (the others were imported unless --strict)
EXIT_FILE = 2  # the file or mapping cannot be used at all; nothing was imported
EXIT_DATABASE = 3  # the database refused the write; the transaction was rolled back
SHOWN_ERRORS = 20

app = typer.Typer(
    help="Import users, accounts, contacts, subscriptions, orders, tickets, NPS, interactions "
    "and events from CSV, XLSX, JSON (Lines) or Parquet files.",
    no_args_is_help=True,
)

FileArg = Annotated[
    Path, typer.Argument(help="File to import (.csv, .xlsx, .json, .jsonl, .parquet).")
]
MappingOpt = Annotated[
    Path | None,
    typer.Option("--mapping", "-m", help="Mapping file (TOML): renames, formats, codes, defaults."),
]
FormatOpt = Annotated[
    str | None,
    typer.Option("--format", help="csv, xlsx, json, jsonl or parquet (default: from extension)."),
]
SheetOpt = Annotated[str | None, typer.Option("--sheet", help="XLSX sheet (default: the first).")]
EncodingOpt = Annotated[
    str | None,
    typer.Option("--encoding", help="Text encoding (default: detect UTF-8, UTF-8 BOM, GB18030)."),
]
DelimiterOpt = Annotated[
    str | None, typer.Option("--delimiter", help="CSV delimiter (default: detect , ; tab |).")
]
RejectsOpt = Annotated[
    Path | None,
    typer.Option("--rejects", help="Where to write rejected rows (default <home>/rejects/)."),
]
StrictOpt = Annotated[
    bool, typer.Option("--strict", help="Write nothing when any row is rejected.")
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Validate and count, but write nothing.")
]


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[ProgressFn | None]:
    if not enabled:
        yield None
        return
    columns = (
        TextColumn("{task.description:<9}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        tasks: dict[str, int] = {}

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = int(bar.add_task(phase, total=total))
            bar.update(tasks[phase], completed=done, total=total)  # type: ignore[arg-type]

        yield update


def _show(summary: ImportSummary) -> None:
    if summary.dry_run:
        note = " — dry run, nothing written"
    elif summary.rejected and not summary.committed:
        note = " — --strict: nothing written"
    else:
        note = ""
    table = Table(title=f"import {summary.entity}{note}", caption=summary.file)
    for name in ("read", "inserted", "updated", "unchanged", "rejected"):
        table.add_column(name, justify="right")
    table.add_row(
        *(
            str(getattr(summary, name))
            for name in ("read", "inserted", "updated", "unchanged", "rejected")
        )
    )
    console.print(table)
    if summary.ignored_columns:
        ignored = ", ".join(repr(c) for c in summary.ignored_columns)
        console.print(f"ignored columns (not mapped): {ignored}")
    for error in summary.errors[:SHOWN_ERRORS]:
        err_console.print(
            error.text(summary.row_label), markup=False, highlight=False, soft_wrap=True
        )
    if len(summary.errors) > SHOWN_ERRORS:
        err_console.print(f"… and {len(summary.errors) - SHOWN_ERRORS} more errors")
    if summary.rejects_file:
        err_console.print(
            f"rejected rows written to {summary.rejects_file}", markup=False, soft_wrap=True
        )


def run_import(
    entity: str,
    file: Path,
    options: ImportOptions,
    *,
    home: Path | None,
    database_url: str | None,
    json_out: bool,
) -> None:
    """Run one import and exit with 0 (all rows imported), 1, 2 or 3 (see docs/importing.md)."""
    runtime = open_runtime(home, database_url)
    try:
        with _progress_bar(not json_out) as progress:
            summary = import_file(runtime, entity, file, options, progress)
    except ImportFileError as exc:
        failed = ImportSummary(entity, str(file), errors=exc.problems)
        if json_out:
            print_json(failed.to_dict())
        else:
            err_console.print(f"[red]error:[/red] {exc.message}", highlight=False)
        raise typer.Exit(EXIT_FILE) from None
    except ImportWriteError as exc:
        if json_out:
            failed = ImportSummary(entity, str(file), errors=[RowError(None, None, exc.message)])
            print_json(failed.to_dict())
        else:
            err_console.print(f"[red]error:[/red] {exc.message}", highlight=False)
        raise typer.Exit(EXIT_DATABASE) from None
    finally:
        runtime.close()
    if json_out:
        print_json(summary.to_dict())
    else:
        _show(summary)
    if summary.rejected:
        raise typer.Exit(EXIT_REJECTED)


def _command(entity: str) -> Callable[..., None]:
    def command(
        file: FileArg,
        mapping: MappingOpt = None,
        format: FormatOpt = None,
        sheet: SheetOpt = None,
        encoding: EncodingOpt = None,
        delimiter: DelimiterOpt = None,
        rejects: RejectsOpt = None,
        strict: StrictOpt = False,
        dry_run: DryRunOpt = False,
        json_out: JsonOpt = False,
        home: HomeOpt = None,
        database_url: DatabaseUrlOpt = None,
    ) -> None:
        options = ImportOptions(
            mapping=mapping,
            format=format,
            sheet=sheet,
            encoding=encoding,
            delimiter=delimiter,
            rejects=rejects,
            strict=strict,
            dry_run=dry_run,
        )
        run_import(entity, file, options, home=home, database_url=database_url, json_out=json_out)

    return command


for _name, _spec in ENTITIES.items():
    app.command(
        _name,
        help=f"Import {_spec.description} from FILE (upsert by {_spec.key}). "
        f"See `tenure import fields {_name}` for the columns.",
    )(_command(_name))


@app.command("fields")
def fields(
    entity: Annotated[str, typer.Argument(help="Entity: " + ", ".join(ENTITIES))],
    json_out: JsonOpt = False,
) -> None:
    """List the columns an entity's file may have: type, required, allowed values."""
    spec = ENTITIES.get(entity)
    if spec is None:
        known = ", ".join(ENTITIES)
        err_console.print(f"[red]error:[/red] unknown entity {entity!r}; one of {known}")
        raise typer.Exit(EXIT_FILE)
    rows: list[dict[str, Any]] = [
        {
            "name": f.name,
            "required": f.required,
            "type": f.type_label(),
            "description": f.description,
        }
        for f in spec.fields
    ]
    if json_out:
        print_json({"entity": spec.name, "key": spec.key, "fields": rows})
        return
    table = Table(title=f"{spec.name}: {spec.description} (key: {spec.key})")
    for column in ("field", "required", "type", "description"):
        table.add_column(column)
    for row in rows:
        required = "yes" if row["required"] else ""
        table.add_row(str(row["name"]), required, str(row["type"]), str(row["description"]))
    console.print(table)
