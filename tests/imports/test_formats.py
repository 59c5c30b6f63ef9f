"""Every file format imports through the service, and its rejects come back in that format."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tenure.accounts.models import Account
from tenure.imports.readers import read_file
from tenure.imports.report import RowError
from tenure.imports.service import import_file
from tenure.kit.runtime import Runtime

RECORDS: list[dict[str, Any]] = [
    {"external_id": "A3", "name": "华东制造", "customer_since": dt.date(2023, 5, 1)},
    {"external_id": "A4", "name": "坏日期", "customer_since": "2023-02-30"},
]


def _write(path: Path, fmt: str) -> Path:
    if fmt in ("csv-utf8", "csv-gb18030"):
        lines = ["external_id,name,customer_since"] + [
            f"{r['external_id']},{r['name']},{r['customer_since']}" for r in RECORDS
        ]
        path.write_text("\n".join(lines) + "\n", encoding=fmt.split("-")[1])
    elif fmt == "xlsx":
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(list(RECORDS[0]))
        for record in RECORDS:
            value = record["customer_since"]
            cell = dt.datetime.combine(value, dt.time()) if isinstance(value, dt.date) else value
            sheet.append([record["external_id"], record["name"], cell])
        book.save(path)
    elif fmt == "json":
        path.write_text(json.dumps(RECORDS, default=str, ensure_ascii=False), encoding="utf-8")
    elif fmt == "jsonl":
        text = "".join(json.dumps(r, default=str, ensure_ascii=False) + "\n" for r in RECORDS)
        path.write_text(text, encoding="utf-8")
    else:
        dates = [str(r["customer_since"]) for r in RECORDS]
        table = pa.table(
            {"external_id": ["A3", "A4"], "name": ["华东制造", "坏日期"], "customer_since": dates}
        )
        pq.write_table(table, path)
    return path


@pytest.mark.parametrize(
    ("fmt", "suffix", "bad_row"),
    [
        ("csv-utf8", "csv", 3),
        ("csv-gb18030", "csv", 3),
        ("xlsx", "xlsx", 3),
        ("json", "json", 1),
        ("jsonl", "jsonl", 2),
        ("parquet", "parquet", 1),
    ],
)
def test_format_loads_and_rejects_round_trip(
    seeded: Runtime,
    rows: Callable[..., list[dict[str, Any]]],
    tmp_path: Path,
    fmt: str,
    suffix: str,
    bad_row: int,
) -> None:
    path = _write(tmp_path / f"accounts.{suffix}", fmt)
    summary = import_file(seeded, "accounts", path)
    assert summary.errors == [
        RowError(bad_row, "customer_since", "'2023-02-30' is not a date in format %Y-%m-%d")
    ]
    assert (summary.read, summary.inserted, summary.rejected) == (2, 1, 1)
    stored = {r["external_id"]: r for r in rows(seeded, Account)}
    assert (stored["A3"]["name"], stored["A3"]["customer_since"]) == (
        "华东制造",
        dt.date(2023, 5, 1),
    )

    assert summary.rejects_file is not None
    rejects = Path(summary.rejects_file)
    assert rejects.suffix == f".{suffix}"
    back = read_file(rejects, summary.format)  # type: ignore[arg-type]
    assert back.columns == ["external_id", "name", "customer_since", "_row", "_errors"]
    cells = dict(zip(back.columns, back.rows[0].cells, strict=True))
    assert (cells["external_id"], cells["customer_since"]) == ("A4", "2023-02-30")
    assert str(cells["_row"]) == str(bad_row)
    if fmt == "csv-gb18030":
        assert back.encoding == "gb18030"
