"""Read CSV, XLSX, JSON / JSON Lines and Parquet files into rows numbered as the user sees them."""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tenure.imports.mapping import FormatName
from tenure.imports.report import ImportFileError

EXTENSIONS: dict[str, FormatName] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
DELIMITERS = (",", ";", "\t", "|")
Progress = Callable[[int, int], None]


@dataclass(slots=True)
class SourceRow:
    """One data row: its number as the user sees it and its cells in column order."""

    number: int
    cells: list[Any]
    problem: str | None = None  # a defect of the row itself (e.g. more cells than columns)


@dataclass
class SourceTable:
    """The rows of one file, with what was detected about it."""

    path: Path
    format: FormatName
    columns: list[str]
    rows: list[SourceRow]
    row_label: str = "row"  # "row" (CSV/XLSX, header = row 1), "element", "line", "record"
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)


def detect_format(path: Path, override: str | None = None) -> FormatName:
    """The file's format: `override` when given, else from its extension."""
    if override:
        if override not in set(EXTENSIONS.values()):
            raise ImportFileError(
                f"unknown format {override!r}; use csv, xlsx, json, jsonl or parquet"
            )
        return override  # type: ignore[return-value,unused-ignore]
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise ImportFileError(f"{path.name}: the old .xls format is not supported; save as .xlsx")
    if suffix not in EXTENSIONS:
        raise ImportFileError(
            f"{path.name}: cannot tell the format from {suffix or 'no extension'!r}; "
            "pass --format csv|xlsx|json|jsonl|parquet"
        )
    return EXTENSIONS[suffix]


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _why(data: bytes, exc: UnicodeDecodeError, encoding: str, shift: int = 0) -> str:
    offset = exc.start + shift
    return (
        f"byte 0x{data[offset]:02X} at offset {offset} (line {_line_of(data, offset)}) "
        f"is not valid {encoding}"
    )


def decode(data: bytes, name: str, encoding: str | None = None) -> tuple[str, str]:
    """Text of `data` and the encoding used: given, else UTF-8 (BOM or not), else GB18030."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise ImportFileError(f"unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as exc:
            raise ImportFileError(f"cannot decode {name}: {_why(data, exc, encoding)}") from None
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise ImportFileError(f"cannot decode {name}: {_why(data, exc, 'UTF-8', 3)}") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise ImportFileError(f"cannot decode {name}: {_why(data, exc, 'UTF-16')}") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_exc:
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError as gb_exc:
            raise ImportFileError(
                f"cannot decode {name}: {_why(data, utf8_exc, 'UTF-8')}, and "
                f"{_why(data, gb_exc, 'GB18030/GBK')}; save it as UTF-8 or pass --encoding"
            ) from None


def _header(raw: list[Any], name: str) -> list[str]:
    columns = [str(cell).strip() if cell is not None else "" for cell in raw]
    while columns and not columns[-1]:
        columns.pop()
    if not columns:
        raise ImportFileError(f"{name}: the first row (the header) is empty")
    seen: dict[str, int] = {}
    for index, column in enumerate(columns, start=1):
        if not column:
            columns[index - 1] = column = f"(column {index})"
        if column in seen:
            raise ImportFileError(
                f"{name}: column {column!r} appears twice in the header "
                f"(columns {seen[column]} and {index})"
            )
        seen[column] = index
    return columns


def _is_blank(cells: list[Any]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def _fit(number: int, cells: list[Any], width: int, blank: Any) -> SourceRow:
    """Pad short rows; a row with non-empty cells beyond the header is a defect."""
    problem = None
    if len(cells) > width:
        extra = cells[width:]
        if not _is_blank(extra):
            problem = f"has {len(cells)} cells but the header has {width} columns"
        cells = cells[:width]
    elif len(cells) < width:
        cells = cells + [blank] * (width - len(cells))
    return SourceRow(number, cells, problem)


def sniff_delimiter(text: str) -> str:
    """The delimiter used most on the header line (comma when none)."""
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(path: Path, encoding: str | None = None, delimiter: str | None = None) -> SourceTable:
    """CSV in UTF-8 (with or without BOM), GB18030/GBK or the given encoding."""
    text, used = decode(path.read_bytes(), path.name, encoding)
    delim = delimiter or sniff_delimiter(text)
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    try:
        header = next(records, None)
        if header is None:
            raise ImportFileError(f"{path.name}: the file is empty (no header row)")
        columns = _header(header, path.name)
        rows = [
            _fit(number, cells, len(columns), "")
            for number, cells in enumerate(records, start=2)
            if not _is_blank(cells)
        ]
    except csv.Error as exc:
        raise ImportFileError(
            f"{path.name}: not valid CSV near line {records.line_num}: {exc}"
        ) from None
    return SourceTable(path, "csv", columns, rows, encoding=used, delimiter=delim)


def read_xlsx(
    path: Path, sheet: str | None = None, progress: Progress | None = None
) -> SourceTable:
    """The first sheet (or `sheet`) of a workbook; row numbers are the sheet's."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise ImportFileError(f"{path.name}: not a readable .xlsx workbook ({exc})") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise ImportFileError(
                f"{path.name}: no sheet named {sheet!r}; sheets: {', '.join(book.sheetnames)}"
            )
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        total = ws.max_row or 0
        values = ws.iter_rows(values_only=True)
        header = next(values, None)
        if header is None:
            raise ImportFileError(f"{path.name}: sheet {ws.title!r} is empty (no header row)")
        columns = _header(list(header), path.name)
        rows = []
        for number, cells in enumerate(values, start=2):
            if progress is not None and number % 5000 == 0:
                progress(number, total)
            if not _is_blank(list(cells)):
                rows.append(_fit(number, list(cells), len(columns), None))
        return SourceTable(path, "xlsx", columns, rows, sheet=ws.title)
    finally:
        book.close()


def _objects(path: Path, items: list[Any], label: str, start: int) -> SourceTable:
    columns: dict[str, None] = {}
    for number, item in enumerate(items, start=start):
        if not isinstance(item, dict):
            raise ImportFileError(f"{path.name}: {label} {number} is not an object")
        columns.update(dict.fromkeys(item))
    names = [str(name) for name in columns]
    rows = [
        SourceRow(number, [item.get(name) for name in columns])
        for number, item in enumerate(items, start=start)
        if item
    ]
    return SourceTable(
        path, "json" if label == "element" else "jsonl", names, rows, row_label=label
    )


def read_json(path: Path, encoding: str | None = None, lines: bool | None = None) -> SourceTable:
    """A JSON array of objects (rows = element index) or JSON Lines (rows = line number)."""
    text, used = decode(path.read_bytes(), path.name, encoding)
    if lines is None:
        lines = not text.lstrip().startswith("[")
    if not lines:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportFileError(
                f"{path.name}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from None
        if not isinstance(data, list):
            raise ImportFileError(f"{path.name}: expected an array of objects or JSON Lines")
        table = _objects(path, data, "element", 0)
    else:
        items: list[Any] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                items.append({})
                continue
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ImportFileError(
                    f"{path.name}: line {number} is not valid JSON (column {exc.colno}: {exc.msg})"
                ) from None
        table = _objects(path, items, "line", 1)
    table.encoding = used
    return table


def read_parquet(path: Path) -> SourceTable:
    """A Parquet file; rows are numbered by record index from 0."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        data = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise ImportFileError(f"{path.name}: not a readable Parquet file ({exc})") from None
    columns = [str(name) for name in data.column_names]
    rows = [
        SourceRow(number, list(record.values()))
        for number, record in enumerate(data.to_pylist())
        if not _is_blank(list(record.values()))
    ]
    return SourceTable(path, "parquet", columns, rows, row_label="record")


def read_file(
    path: Path,
    fmt: FormatName,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    progress: Progress | None = None,
) -> SourceTable:
    """Read `path` in format `fmt`."""
    if not path.is_file():
        raise ImportFileError(f"{path} does not exist or is not a file")
    if fmt == "csv":
        return read_csv(path, encoding, delimiter)
    if fmt == "xlsx":
        return read_xlsx(path, sheet, progress)
    if fmt in ("json", "jsonl"):
        return read_json(path, encoding, lines=True if fmt == "jsonl" else None)
    return read_parquet(path)
