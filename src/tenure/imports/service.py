"""Import a file: read, validate every row, then upsert the accepted rows in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tenure.imports import repository as repo
from tenure.imports.fields import ENTITIES, EntitySpec
from tenure.imports.mapping import Mapping, load_mapping
from tenure.imports.readers import SourceTable, detect_format, read_file
from tenure.imports.rejects import default_rejects_path, finish_rejects
from tenure.imports.report import (
    ImportFileError,
    ImportOptions,
    ImportSummary,
    ImportWriteError,
    RowError,
)
from tenure.imports.validate import (
    Candidate,
    Layout,
    column_of,
    convert_rows,
    plan_layout,
    reject_duplicates,
)
from tenure.kit.runtime import Runtime

# phase ("reading", "checking", "writing"), rows done, rows in total
ProgressFn = Callable[[str, int, int], None]
SINGULAR = {"accounts": "account", "users": "user", "contacts": "contact"}


def _phase(progress: ProgressFn | None, phase: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(phase, done, total)


def load_source(
    spec: EntitySpec, path: Path, options: ImportOptions, progress: ProgressFn | None = None
) -> tuple[Mapping, SourceTable, Layout]:
    """Read the mapping and the file, and bind the file's columns to `spec`'s fields."""
    mapping = load_mapping(options.mapping) if options.mapping else Mapping()
    mapping.check(spec, options.mapping)
    fmt = detect_format(path, options.format or mapping.source.format)
    table = read_file(
        path,
        fmt,
        encoding=options.encoding or mapping.source.encoding,
        delimiter=options.delimiter or mapping.source.delimiter,
        sheet=options.sheet or mapping.source.sheet,
        progress=_phase(progress, "reading"),
    )
    return mapping, table, plan_layout(spec, table.columns, mapping)


def resolve_references(
    conn: Connection, spec: EntitySpec, layout: Layout, rows: list[Candidate], label: str = "row"
) -> None:
    """Replace external ids in reference fields by database ids; unknown ones are row errors."""
    refs = [b for b in layout.bindings if b.field.kind == "ref"]
    need_users = spec.name == "users" or any(b.field.ref == "users" for b in refs)
    users = repo.user_index(conn) if need_users else repo.UserIndex()
    resolved: list[tuple[str, dict[str, int]]] = []
    for binding in refs:
        name, target = binding.field.name, binding.field.ref or ""
        keys = {c.values[name] for c in rows if c.values.get(name) is not None}
        owners: dict[str, str] = {}
        if target == "accounts":
            ids = repo.account_ids(conn, keys)
        elif target == "contacts":
            hits = repo.contact_refs(conn, keys)
            ids = {key: hit[0] for key, hit in hits.items()}
            owners = {key: hit[1] for key, hit in hits.items()}
        else:
            ids = {key: id_ for key in keys if (id_ := users.resolve(key)) is not None}
        for cand in rows:
            value = cand.values.get(name)
            account = cand.values.get("account_id")
            if value is None:
                continue
            if value not in ids:
                message = f"unknown {SINGULAR[target]} {value!r}"
            elif owners and isinstance(account, str) and owners[value] != account:
                message = f"contact {value!r} belongs to account {owners[value]!r}, not {account!r}"
            else:
                continue
            cand.errors.append(RowError(cand.source.number, binding.column, message))
        resolved.append((name, ids))
    # Swap only after every check: the contact check compares account external ids.
    for name, ids in resolved:
        for cand in rows:
            value = cand.values.get(name)
            if value is not None and value in ids:
                cand.values[name] = ids[value]
    if spec.name == "users":
        _check_emails(users, layout, rows, label)


def _check_emails(users: repo.UserIndex, layout: Layout, rows: list[Candidate], label: str) -> None:
    column = column_of(layout, "email")
    reject_duplicates(rows, "email", column, label, fold=True)
    for cand in rows:
        email = cand.values.get("email")
        owner = users.by_email.get(email.casefold()) if isinstance(email, str) else None
        if owner is not None and owner[1] != cand.values.get("external_id"):
            cand.errors.append(
                RowError(
                    cand.source.number, column, f"email {email!r} belongs to user {owner[1]!r}"
                )
            )


def _insert_defaults(spec: EntitySpec) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    for fspec in spec.fields:
        value = fspec.default
        if value is None and not fspec.nullable:
            value = {"json": {}, "list": []}.get(fspec.kind)
        defaults[fspec.db_column] = value
    return defaults


def import_file(
    runtime: Runtime,
    entity: str,
    path: Path,
    options: ImportOptions | None = None,
    progress: ProgressFn | None = None,
) -> ImportSummary:
    """Import `path` as `entity`; accepted rows are written in one transaction, or none are."""
    options = options or ImportOptions()
    spec = ENTITIES.get(entity)
    if spec is None:
        raise ImportFileError(f"unknown entity {entity!r}; one of {', '.join(ENTITIES)}")
    _mapping, table, layout = load_source(spec, path, options, progress)
    summary = ImportSummary(
        entity,
        str(path),
        table.format,
        read=len(table.rows),
        row_label=table.row_label,
        dry_run=options.dry_run,
        ignored_columns=layout.ignored,
    )
    rows = convert_rows(spec, table, layout, _phase(progress, "checking"))
    reject_duplicates(rows, spec.key, column_of(layout, spec.key), table.row_label)
    rejects_path = options.rejects or default_rejects_path(
        runtime.settings.rejects_dir, entity, table.format
    )
    if spec.table is None:
        from tenure.imports.events import import_events

        return import_events(runtime, spec, table, layout, rows, summary, rejects_path, options)
    try:
        with runtime.engine.begin() as conn:
            _upsert(
                conn,
                spec,
                spec.table,
                table,
                layout,
                rows,
                summary,
                rejects_path,
                options,
                progress,
            )
    except sa.exc.SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc
        raise ImportWriteError(
            f"the database refused the import, nothing was written: {str(reason).strip()}"
        ) from exc
    summary.committed = not options.dry_run and not (options.strict and summary.rejected)
    return summary


def _upsert(
    conn: Connection,
    spec: EntitySpec,
    db_table: sa.Table,
    table: SourceTable,
    layout: Layout,
    rows: list[Candidate],
    summary: ImportSummary,
    rejects_path: Path,
    options: ImportOptions,
    progress: ProgressFn | None,
) -> None:
    resolve_references(conn, spec, layout, rows, table.row_label)
    accepted = finish_rejects(summary, table, rows, rejects_path)
    if options.strict and summary.rejected:
        return
    columns = {spec.by_name[name].db_column for c in accepted for name in c.values}
    records = [
        {spec.by_name[name].db_column: value for name, value in c.values.items()} for c in accepted
    ]
    existing = repo.existing_rows(
        conn, db_table, [r["external_id"] for r in records], columns - {"external_id"}
    )
    plan = repo.plan_writes(existing, records, _insert_defaults(spec), spec.extras_field)
    summary.inserted, summary.updated = len(plan.inserts), len(plan.updates)
    summary.unchanged = plan.unchanged
    if not options.dry_run:
        repo.apply_writes(conn, db_table, plan, _phase(progress, "writing"))
