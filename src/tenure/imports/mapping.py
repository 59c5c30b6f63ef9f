"""Mapping files (TOML): how a foreign export's columns and codes become Tenure fields."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tenure.imports.fields import EntitySpec
from tenure.imports.report import ImportFileError, RowError

FormatName = Literal["csv", "xlsx", "json", "jsonl", "parquet"]
Scalar = str | bool | int | float | dt.date | dt.datetime
RESERVED_COLUMNS = ("_row", "_errors")
TOP_LEVEL = ("entity", "ignore", "attributes")  # written to rejects files; ignored on re-import


class MappingError(ImportFileError):
    """The mapping file is invalid; `keys` lists every (key, message) pair."""

    def __init__(self, path: Path | None, keys: list[tuple[str, str]]) -> None:
        self.path = path
        self.keys = keys
        where = f"mapping {path}: " if path else "mapping: "
        message = where + "; ".join(f"{key}: {msg}" for key, msg in keys)
        super().__init__(message, [RowError(None, None, f"{where}{k}: {m}") for k, m in keys])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceOptions(_Strict):
    """How to read the file, when its extension or content does not say."""

    format: FormatName | None = None
    encoding: str | None = None
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    sheet: str | None = None
    timezone: str | None = None  # zone of date-times that carry no offset (default UTC)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r}") from None
        return value


class Mapping(_Strict):
    """Column renames, date formats, value codes, defaults and extra columns of one export."""

    entity: str | None = None
    source: SourceOptions = Field(default_factory=lambda: SourceOptions())
    columns: dict[str, str] = Field(default_factory=dict)  # foreign column → field ("" drops it)
    ignore: list[str] = Field(default_factory=list)
    formats: dict[str, str | list[str]] = Field(default_factory=dict)
    values: dict[str, dict[str, Scalar]] = Field(default_factory=dict)
    defaults: dict[str, Scalar] = Field(default_factory=dict)
    attributes: list[str] | dict[str, str] = Field(default_factory=list)

    def formats_of(self, field: str) -> list[str]:
        """The strptime patterns configured for `field` (empty: ISO 8601)."""
        value = self.formats.get(field, [])
        return [value] if isinstance(value, str) else list(value)

    def attribute_columns(self) -> dict[str, str]:
        """Foreign column → key in attributes/properties; "*" keeps every unmapped column."""
        if isinstance(self.attributes, list):
            return {column: column for column in self.attributes}
        return dict(self.attributes)

    @property
    def zone(self) -> ZoneInfo | None:
        return ZoneInfo(self.source.timezone) if self.source.timezone else None

    def check(self, spec: EntitySpec, path: Path | None = None) -> None:
        """Raise MappingError naming every key that does not fit entity `spec`."""
        problems: list[tuple[str, str]] = []
        names = ", ".join(spec.by_name)
        if self.entity is not None and self.entity != spec.name:
            problems.append(("entity", f"this mapping is for {self.entity!r}, not {spec.name!r}"))
        for column, target in self.columns.items():
            if target and target not in spec.by_name:
                problems.append(
                    (
                        f"columns.{column}",
                        f"{target!r} is not a field of {spec.name}; fields: {names}",
                    )
                )
        for section in ("formats", "values", "defaults"):
            for field in getattr(self, section):
                if field not in spec.by_name:
                    problems.append(
                        (f"{section}.{field}", f"not a field of {spec.name}; fields: {names}")
                    )
        for field in self.formats:
            kind = spec.by_name[field].kind if field in spec.by_name else None
            if kind is not None and kind not in ("date", "datetime"):
                problems.append((f"formats.{field}", f"{field} is a {kind}, not a date"))
        if self.attributes and spec.extras_field is None:
            problems.append(("attributes", f"{spec.name} keep no custom attributes"))
        if problems:
            raise MappingError(path, problems)


def _loc(parts: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in parts if not str(part).startswith(("list[", "dict[")))


def parse_mapping(data: dict[str, Any], path: Path | None = None) -> Mapping:
    """Validate mapping `data` (a parsed TOML document)."""
    # A key written after a [table] header belongs to that table: a classic TOML slip.
    misplaced = [
        (f"{table}.{key}", f"{key!r} must come before the first [table] header, not in [{table}]")
        for table in ("source", "columns", "formats", "defaults")
        if isinstance(data.get(table), dict)
        for key in TOP_LEVEL
        if isinstance(data[table].get(key), list | dict)
    ]
    if misplaced:
        raise MappingError(path, misplaced)
    try:
        return Mapping.model_validate(data)
    except ValidationError as exc:
        problems = [(_loc(err["loc"]) or "(top)", err["msg"]) for err in exc.errors()]
        raise MappingError(path, problems) from None


def load_mapping(path: Path) -> Mapping:
    """Read and validate the mapping file at `path`."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise MappingError(path, [("(file)", "does not exist")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(path, [("(syntax)", str(exc))]) from None
    except UnicodeDecodeError as exc:
        raise MappingError(path, [("(file)", f"is not UTF-8 (byte {exc.start})")]) from None
    return parse_mapping(data, path)
