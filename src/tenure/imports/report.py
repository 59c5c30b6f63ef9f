"""What an import reports: row errors, file-level errors and the summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tenure.errors import TenureError


@dataclass(frozen=True)
class RowError:
    """Why a row (or, with `row` None, the whole file) is rejected."""

    row: int | None
    column: str | None
    message: str

    def text(self, label: str = "row") -> str:
        where = [f"{label} {self.row}"] if self.row is not None else []
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return ", ".join(where) + (": " if where else "") + self.message

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


class ImportFileError(TenureError):
    """The file as a whole cannot be imported (unreadable, undecodable, missing columns)."""

    status_code = 422

    def __init__(self, message: str, problems: list[RowError] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [RowError(None, None, message)]


class ImportWriteError(TenureError):
    """The database refused the write; the transaction was rolled back, nothing was written."""

    status_code = 409


@dataclass
class ImportSummary:
    """Counts and problems of one import (the `--json` output)."""

    entity: str
    file: str
    format: str = ""
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejects_file: str | None = None
    errors: list[RowError] = field(default_factory=list)
    row_label: str = "row"
    dry_run: bool = False
    committed: bool = False
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.rejected == 0 and not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "file": self.file,
            "format": self.format,
            "read": self.read,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "rejects_file": self.rejects_file,
            "errors": [e.to_dict() for e in self.errors],
            "row_label": self.row_label,
            "dry_run": self.dry_run,
            "committed": self.committed,
            "ignored_columns": self.ignored_columns,
        }


@dataclass
class ImportOptions:
    """Choices of one import (the CLI's options)."""

    mapping: Path | None = None
    format: str | None = None
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    rejects: Path | None = None
    strict: bool = False
    dry_run: bool = False
