"""Write rejected rows, with `_row` and `_errors`, in a file that can be fixed and re-imported."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tenure.imports.mapping import RESERVED_COLUMNS, FormatName
from tenure.imports.readers import EXTENSIONS, SourceRow, SourceTable
from tenure.imports.report import ImportSummary, RowError
from tenure.imports.validate import Candidate

SUFFIX: dict[str, str] = {
    "csv": "csv",
    "xlsx": "xlsx",
    "json": "json",
    "jsonl": "jsonl",
    "parquet": "parquet",
}


def default_rejects_path(
    directory: Path, entity: str, fmt: str, now: dt.datetime | None = None
) -> Path:
    """<directory>/<entity>-<timestamp>.<extension of the input format>."""
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S-%f")
    return directory / f"{entity}-{stamp}.{SUFFIX.get(fmt, 'csv')}"


def rejects_format(path: Path, source_format: FormatName) -> FormatName:
    """The format to write: from `path`'s extension, else the input's."""
    return EXTENSIONS.get(path.suffix.lower(), source_format)


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def write_rejects(
    path: Path,
    table: SourceTable,
    rejected: Sequence[tuple[SourceRow, str]],
    fmt: FormatName | None = None,
) -> Path:
    """Write each rejected row's original cells plus `_row` and `_errors` to `path`."""
    fmt = fmt or rejects_format(path, table.format)
    path.parent.mkdir(parents=True, exist_ok=True)
    keep = [i for i, name in enumerate(table.columns) if name not in RESERVED_COLUMNS]
    header = [table.columns[i] for i in keep] + list(RESERVED_COLUMNS)
    records = [([row.cells[i] for i in keep], row.number, errors) for row, errors in rejected]
    if fmt == "csv":
        # Same encoding and delimiter as the input, so spreadsheet users reopen it the same way.
        same = table.format == "csv" and table.encoding not in (None, "utf-16")
        encoding = table.encoding if same and table.encoding else "utf-8-sig"
        with path.open("w", encoding=encoding, newline="") as out:
            writer = csv.writer(out, delimiter=table.delimiter or ",")
            writer.writerow(header)
            for cells, number, errors in records:
                writer.writerow(
                    ["" if c is None else _json_value(c) for c in cells] + [number, errors]
                )
    elif fmt == "xlsx":
        import openpyxl

        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet(table.sheet or "rejects")
        sheet.append(header)
        for cells, number, errors in records:
            sheet.append([*cells, number, errors])
        book.save(path)
    elif fmt in ("json", "jsonl"):
        objects = [
            {
                **{h: _json_value(c) for h, c in zip(header, cells, strict=False) if c is not None},
                "_row": number,
                "_errors": errors,
            }
            for cells, number, errors in records
        ]
        with path.open("w", encoding="utf-8") as out:
            if fmt == "json":
                json.dump(objects, out, ensure_ascii=False, indent=1, default=str)
            else:
                for obj in objects:
                    out.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = [
            dict(zip(header, [*cells, number, errors], strict=True))
            for cells, number, errors in records
        ]
        pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def finish_rejects(
    summary: ImportSummary,
    table: SourceTable,
    rows: list[Candidate],
    rejects_path: Path,
) -> list[Candidate]:
    """Count and write the rejected rows; return the accepted ones."""
    rejected = [c for c in rows if c.errors]
    order = {name: index for index, name in enumerate(table.columns)}
    for cand in rejected:
        cand.errors.sort(key=lambda e: order.get(e.column or "", -1))
    summary.rejected = len(rejected)
    summary.errors = [e for c in rejected for e in c.errors]
    if rejected:
        cells = [
            (c.source, "; ".join(RowError(None, e.column, e.message).text() for e in c.errors))
            for c in rejected
        ]
        summary.rejects_file = str(write_rejects(rejects_path, table, cells))
    return [c for c in rows if not c.errors]
