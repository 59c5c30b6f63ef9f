"""Reading files: formats, encodings, row numbers, and precise file-level errors."""

from __future__ import annotations

import codecs
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tenure.imports.readers import decode, detect_format, read_file
from tenure.imports.report import ImportFileError

CSV_TEXT = "external_id,name,region\nA1,上海星辰科技,华东\n\nA2,Beta,华北\n"


class TestCsv:
    @pytest.mark.parametrize(
        ("data", "encoding"),
        [
            (CSV_TEXT.encode("utf-8"), "utf-8"),
            (codecs.BOM_UTF8 + CSV_TEXT.encode("utf-8"), "utf-8-sig"),
            (CSV_TEXT.encode("gb18030"), "gb18030"),
            (CSV_TEXT.encode("gbk"), "gb18030"),
        ],
    )
    def test_encodings_are_detected(
        self, write: Callable[..., Path], data: bytes, encoding: str
    ) -> None:
        table = read_file(write("a.csv", data), "csv")
        assert table.encoding == encoding
        assert table.columns == ["external_id", "name", "region"]
        # header is row 1; the blank line 3 is skipped but still counted
        assert [(r.number, r.cells) for r in table.rows] == [
            (2, ["A1", "上海星辰科技", "华东"]),
            (4, ["A2", "Beta", "华北"]),
        ]

    def test_undecodable_bytes_are_named_by_offset_and_line(
        self, write: Callable[..., Path]
    ) -> None:
        path = write("bad.csv", b"external_id,name\nA1,caf\xe9\n")
        with pytest.raises(ImportFileError) as err:
            read_file(path, "csv")
        assert err.value.message == (
            "cannot decode bad.csv: byte 0xE9 at offset 23 (line 2) is not valid UTF-8, and "
            "byte 0xE9 at offset 23 (line 2) is not valid GB18030/GBK; "
            "save it as UTF-8 or pass --encoding"
        )

    def test_explicit_encoding_reports_its_own_failure(self) -> None:
        with pytest.raises(
            ImportFileError, match=r"byte 0xFF at offset 2 \(line 1\) is not valid ascii"
        ):
            decode(b"ab\xff", "x.csv", "ascii")

    def test_latin1_with_explicit_encoding(self, write: Callable[..., Path]) -> None:
        path = write("l.csv", "external_id,name\nA1,Café\n", "latin-1")
        assert read_file(path, "csv", encoding="latin-1").rows[0].cells == ["A1", "Café"]

    def test_semicolon_delimiter_is_sniffed(self, write: Callable[..., Path]) -> None:
        table = read_file(write("s.csv", "external_id;name\nA1;Acme, Inc.\n"), "csv")
        assert table.delimiter == ";"
        assert table.rows[0].cells == ["A1", "Acme, Inc."]

    def test_extra_cells_are_a_row_problem(self, write: Callable[..., Path]) -> None:
        table = read_file(write("x.csv", "a,b\n1,2,3\n4,5,\n6\n"), "csv")
        assert [(r.number, r.cells, r.problem) for r in table.rows] == [
            (2, ["1", "2"], "has 3 cells but the header has 2 columns"),
            (3, ["4", "5"], None),
            (4, ["6", ""], None),
        ]

    def test_duplicate_header_is_a_file_error(self, write: Callable[..., Path]) -> None:
        with pytest.raises(
            ImportFileError, match=r"column 'name' appears twice in the header \(columns 2 and 3\)"
        ):
            read_file(write("d.csv", "id,name,name\n1,a,b\n"), "csv")

    def test_empty_file(self, write: Callable[..., Path]) -> None:
        with pytest.raises(ImportFileError, match="the file is empty"):
            read_file(write("e.csv", ""), "csv")


class TestXlsx:
    def _book(self, path: Path) -> Path:
        book = openpyxl.Workbook()
        first = book.active
        assert first is not None
        first.title = "Accounts"
        first.append(["external_id", "name", "customer_since"])
        first.append(["A1", "Acme", dt.datetime(2024, 1, 5)])
        first.append([None, None, None])
        first.append([1001, "Numeric id", "2024-02-01"])
        other = book.create_sheet("Other")
        other.append(["external_id", "name"])
        other.append(["B1", "Other sheet"])
        book.save(path)
        return path

    def test_first_sheet_with_sheet_row_numbers(self, tmp_path: Path) -> None:
        table = read_file(self._book(tmp_path / "a.xlsx"), "xlsx")
        assert table.sheet == "Accounts"
        assert [(r.number, r.cells) for r in table.rows] == [
            (2, ["A1", "Acme", dt.datetime(2024, 1, 5)]),
            (4, [1001, "Numeric id", "2024-02-01"]),
        ]

    def test_named_sheet(self, tmp_path: Path) -> None:
        table = read_file(self._book(tmp_path / "a.xlsx"), "xlsx", sheet="Other")
        assert [(r.number, r.cells) for r in table.rows] == [(2, ["B1", "Other sheet"])]

    def test_unknown_sheet_lists_the_sheets(self, tmp_path: Path) -> None:
        with pytest.raises(ImportFileError, match="no sheet named 'Nope'; sheets: Accounts, Other"):
            read_file(self._book(tmp_path / "a.xlsx"), "xlsx", sheet="Nope")


class TestJsonAndParquet:
    def test_json_array_rows_are_element_indexes(self, write: Callable[..., Path]) -> None:
        data = [{"external_id": "A1", "name": "Acme"}, {"external_id": "A2", "region": "north"}]
        table = read_file(write("a.json", json.dumps(data)), "json")
        assert table.format == "json" and table.row_label == "element"
        assert table.columns == ["external_id", "name", "region"]
        assert [(r.number, r.cells) for r in table.rows] == [
            (0, ["A1", "Acme", None]),
            (1, ["A2", None, "north"]),
        ]

    def test_json_lines_rows_are_line_numbers(self, write: Callable[..., Path]) -> None:
        text = '{"external_id": "A1"}\n\n{"external_id": "A2"}\n'
        table = read_file(write("a.json", text), "json")  # detected from the content
        assert table.format == "jsonl" and table.row_label == "line"
        assert [(r.number, r.cells) for r in table.rows] == [(1, ["A1"]), (3, ["A2"])]

    def test_invalid_json_line(self, write: Callable[..., Path]) -> None:
        with pytest.raises(ImportFileError, match="line 2 is not valid JSON"):
            read_file(write("a.jsonl", '{"a": 1}\n{"a": \n'), "jsonl")

    def test_non_object_element(self, write: Callable[..., Path]) -> None:
        with pytest.raises(ImportFileError, match="element 1 is not an object"):
            read_file(write("a.json", '[{"a": 1}, 2]'), "json")

    def test_parquet(self, tmp_path: Path) -> None:
        path = tmp_path / "a.parquet"
        pq.write_table(pa.table({"external_id": ["A1", "A2"], "employees": [10, None]}), path)
        table = read_file(path, "parquet")
        assert table.row_label == "record"
        assert [(r.number, r.cells) for r in table.rows] == [(0, ["A1", 10]), (1, ["A2", None])]


class TestDetectFormat:
    @pytest.mark.parametrize(
        ("name", "fmt"),
        [
            ("a.csv", "csv"),
            ("a.TSV", "csv"),
            ("a.xlsx", "xlsx"),
            ("a.json", "json"),
            ("a.ndjson", "jsonl"),
            ("a.parquet", "parquet"),
        ],
    )
    def test_by_extension(self, name: str, fmt: str) -> None:
        assert detect_format(Path(name)) == fmt

    def test_override_wins(self) -> None:
        assert detect_format(Path("export.dat"), "json") == "json"

    def test_unknown_extension(self) -> None:
        with pytest.raises(
            ImportFileError, match=r"cannot tell the format from '\.dat'; pass --format"
        ):
            detect_format(Path("export.dat"))

    def test_old_xls(self) -> None:
        with pytest.raises(ImportFileError, match=r"old \.xls format is not supported"):
            detect_format(Path("export.xls"))
