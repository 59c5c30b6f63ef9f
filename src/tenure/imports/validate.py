"""Check every row of a file against an entity's fields, without touching the database."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tenure.imports.coerce import CellError, codes_lookup, typed
from tenure.imports.fields import EntitySpec, FieldSpec
from tenure.imports.mapping import RESERVED_COLUMNS, Mapping
from tenure.imports.readers import SourceRow, SourceTable
from tenure.imports.report import ImportFileError, RowError

UNSET: Any = object()  # an empty cell of a column that has a default: keep what is stored
# (earlier, later) date pairs checked per entity; the error names the later column
ORDERED = {
    "subscriptions": [("start_date", "end_date")],
    "tickets": [("opened_at", "first_response_at"), ("opened_at", "resolved_at")],
    "accounts": [("customer_since", "churn_date")],
}


@dataclass
class Binding:
    """Where one field's value comes from and how it is converted."""

    field: FieldSpec
    index: int | None  # column position; None when only a mapping default supplies it
    column: str  # the user's column name (for messages)
    convert: Callable[[Any], Any]


@dataclass
class Layout:
    """How the file's columns map onto an entity's fields."""

    bindings: list[Binding]
    extras: list[tuple[int, str]]  # (column position, key in attributes/properties)
    ignored: list[str]


@dataclass
class Candidate:
    """A row converted to field values (references still external ids)."""

    source: SourceRow
    values: dict[str, Any]
    errors: list[RowError] = field(default_factory=list)


def _normal(name: str) -> str:
    return "_".join(name.strip().casefold().replace("-", " ").split())


def _converter(spec: FieldSpec, mapping: Mapping) -> Callable[[Any], Any]:
    convert = typed(spec, mapping.formats_of(spec.name), mapping.zone)
    codes = codes_lookup(mapping.values[spec.name]) if spec.name in mapping.values else None
    default = mapping.defaults.get(spec.name)
    empty = None if spec.nullable else UNSET

    def run(raw: Any) -> Any:
        value = raw.strip() if isinstance(raw, str) else raw
        if value is not None and value != "" and codes is not None:
            value = codes(value)
            value = value.strip() if isinstance(value, str) else value
        if value is None or value == "":
            value = default
        if value is None or value == "":
            if spec.required:
                raise CellError("a value is required")
            return empty
        return convert(value)

    return run


def plan_layout(spec: EntitySpec, columns: list[str], mapping: Mapping) -> Layout:
    """Bind columns to fields; raise ImportFileError naming missing required columns."""
    renames = {name.strip(): target for name, target in mapping.columns.items()}
    ignore = {name.strip() for name in mapping.ignore}
    attrs = mapping.attribute_columns()
    by_normal = {_normal(name): name for name in spec.by_name}
    bound: dict[str, Binding] = {}
    extras: list[tuple[int, str]] = []
    ignored: list[str] = []
    problems: list[RowError] = []
    for index, column in enumerate(columns):
        if column in RESERVED_COLUMNS or column in ignore:
            continue
        target = renames[column] if column in renames else by_normal.get(_normal(column))
        if target == "":
            continue
        if target is None and column in attrs:
            extras.append((index, attrs[column]))
            continue
        if target is None:
            if "*" in attrs and spec.extras_field:
                extras.append((index, column))
            else:
                ignored.append(column)
            continue
        if target in bound:
            problems.append(
                RowError(None, column, f"maps to {target!r} like column {bound[target].column!r}")
            )
            continue
        fspec = spec.by_name[target]
        bound[target] = Binding(fspec, index, column, _converter(fspec, mapping))
    for name, value in mapping.defaults.items():
        if name not in bound and value is not None:
            fspec = spec.by_name[name]
            bound[name] = Binding(fspec, None, name, _converter(fspec, mapping))
    found = ", ".join(repr(c) for c in columns)
    for name in spec.required:
        if name not in bound:
            problems.append(
                RowError(None, name, f"required column {name!r} is missing; columns found: {found}")
            )
    if problems:
        raise ImportFileError("; ".join(p.text() for p in problems), problems)
    return Layout(list(bound.values()), extras, ignored)


def _extra_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value.strip() if isinstance(value, str) else value


def convert_rows(
    spec: EntitySpec,
    table: SourceTable,
    layout: Layout,
    progress: Callable[[int, int], None] | None = None,
) -> list[Candidate]:
    """Convert every row, collecting every problem of every cell."""
    out: list[Candidate] = []
    total = len(table.rows)
    for position, row in enumerate(table.rows, start=1):
        values: dict[str, Any] = {}
        errors = [RowError(row.number, None, row.problem)] if row.problem else []
        for binding in layout.bindings:
            raw = row.cells[binding.index] if binding.index is not None else None
            try:
                value = binding.convert(raw)
            except CellError as exc:
                errors.append(RowError(row.number, binding.column, str(exc)))
                continue
            if value is not UNSET:
                values[binding.field.name] = value
        if layout.extras and spec.extras_field:
            extra = {
                key: _extra_value(row.cells[index])
                for index, key in layout.extras
                if row.cells[index] is not None and row.cells[index] != ""
            }
            if extra:
                values[spec.extras_field] = {**(values.get(spec.extras_field) or {}), **extra}
        out.append(Candidate(row, values, errors))
        if progress is not None and position % 5000 == 0:
            progress(position, total)
    _check_order(spec, layout, out)
    return out


def _check_order(spec: EntitySpec, layout: Layout, rows: Iterable[Candidate]) -> None:
    columns = {b.field.name: b.column for b in layout.bindings}
    for earlier, later in ORDERED.get(spec.name, []):
        if earlier not in columns or later not in columns:
            continue
        for cand in rows:
            first, second = cand.values.get(earlier), cand.values.get(later)
            if first is not None and second is not None and second < first:
                cand.errors.append(
                    RowError(
                        cand.source.number,
                        columns[later],
                        f"{second.isoformat()} is before {earlier} {first.isoformat()}",
                    )
                )


def reject_duplicates(
    rows: list[Candidate], field_name: str, column: str, label: str, *, fold: bool = False
) -> None:
    """Reject every row whose `field_name` value another row of the file has too."""
    seen: dict[Any, list[Candidate]] = defaultdict(list)
    for cand in rows:
        value = cand.values.get(field_name)
        if value is not None:
            seen[value.casefold() if fold and isinstance(value, str) else value].append(cand)
    for group in seen.values():
        if len(group) < 2:
            continue
        for cand in group:
            others = ", ".join(str(o.source.number) for o in group if o is not cand)
            cand.errors.append(
                RowError(
                    cand.source.number,
                    column,
                    f"duplicate {field_name} {cand.values[field_name]!r}: also in {label} {others}",
                )
            )


def column_of(layout: Layout, field_name: str) -> str:
    """The user's column name bound to `field_name` (the field name when none)."""
    for binding in layout.bindings:
        if binding.field.name == field_name:
            return binding.column
    return field_name
