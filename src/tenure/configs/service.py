"""Reading, checking and saving the configuration: versions in the database, tenure.toml on disk.

Saving validates the document with `parse_config`, stores it as the next `ConfigVersion`
(rendered as TOML) and writes the same text to the home's tenure.toml, which the CLI and
the scoring runs read.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenure.auth.audit import record
from tenure.auth.clock import utcnow
from tenure.auth.deps import Principal
from tenure.config import TenureConfig, load_config, parse_config
from tenure.configs.models import ConfigVersion
from tenure.configs.schemas import (
    ConfigProblem,
    ConfigValidation,
    ConfigVersionRead,
    ConfigVersionSummary,
    EffectiveConfig,
)
from tenure.errors import ConfigError, ResourceAlreadyExists, ResourceNotFound
from tenure.kit.pagination import Page, check_paging
from tenure.kit.runtime import Runtime

BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if BARE_KEY.match(name) else _string(name)


def _string(text: str) -> str:
    # A JSON string is a TOML basic string, except that TOML wants DEL escaped too.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _table(lines: list[str], path: list[str], table: dict[str, Any]) -> None:
    for name, value in table.items():
        if value is not None and not isinstance(value, dict) and not _is_table_array(value):
            lines.append(f"{_key(name)} = {_value(value)}")
    for name, value in table.items():
        here = [*path, _key(name)]
        if isinstance(value, dict):
            lines += ["", f"[{'.'.join(here)}]"]
            _table(lines, here, value)
        elif _is_table_array(value):
            for item in value:
                lines += ["", f"[[{'.'.join(here)}]]"]
                _table(lines, here, item)


def render_toml(config: TenureConfig, header: str = "") -> str:
    """The configuration as tenure.toml text (null values left out), under `header` comments."""
    lines = [f"# {line}" for line in header.splitlines()]
    _table(lines, [], config.model_dump(mode="python"))
    return "\n".join(lines).lstrip("\n") + "\n"


def _write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tenure-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _latest(session: Session) -> ConfigVersion | None:
    stmt = select(ConfigVersion).order_by(ConfigVersion.version.desc()).limit(1)
    return session.scalars(stmt).first()


def effective_config(session: Session, runtime: Runtime) -> EffectiveConfig:
    """The configuration in force (read from tenure.toml now) and the last saved version."""
    path = runtime.settings.config_path
    config = load_config(path)
    latest = _latest(session)
    text = path.read_text(encoding="utf-8") if path.exists() else None
    return EffectiveConfig(
        version=latest.version if latest else None,
        saved_at=latest.created_at if latest else None,
        author=latest.author if latest else None,
        modified=latest is not None and text != latest.content,
        config=config.model_dump(mode="json"),
    )


def _non_finite(value: Any, key: str = "") -> list[tuple[str, str]]:
    """Keys holding NaN or infinity (JSON has no such numbers; TOML would keep them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return [(key or "(top level)", "must be a finite number")]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _non_finite(v, f"{key}.{k}" if key else k)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _non_finite(v, f"{key}[{i}]")]
    return []


def validated(data: dict[str, Any]) -> TenureConfig:
    """`parse_config` after refusing non-finite numbers; ConfigError lists every problem."""
    problems = _non_finite(data)
    if problems:
        raise ConfigError(problems)
    return parse_config(data)


def check_config(data: dict[str, Any]) -> ConfigValidation:
    """Validate a configuration document without saving it."""
    try:
        validated(data)
    except ConfigError as exc:
        problems = [ConfigProblem(field=key, message=msg) for key, msg in exc.problems]
        return ConfigValidation(valid=False, problems=problems)
    return ConfigValidation(valid=True, problems=[])


def save_config(
    session: Session,
    runtime: Runtime,
    principal: Principal,
    data: dict[str, Any],
    comment: str | None = None,
) -> EffectiveConfig:
    """Validate `data` (ConfigError lists every problem), save it as the next version and
    write it to tenure.toml."""
    config = validated(data)
    latest = session.scalar(select(func.max(ConfigVersion.version))) or 0
    number, now = latest + 1, utcnow()
    header = (
        f"Tenure configuration, version {number}, saved by {principal.label} "
        f"at {now:%Y-%m-%d %H:%M} UTC through the API.\n"
        "Earlier versions: GET /api/v1/config/versions. `tenure config validate` checks this file."
    )
    content = render_toml(config, header)
    try:
        before = load_config(runtime.settings.config_path).model_dump(mode="json")
    except ConfigError:
        before = None  # the file on disk was broken; the new version repairs it
    row = ConfigVersion(
        version=number,
        content=content,
        created_at=now,
        author_id=principal.user.id,
        author=principal.label[:255],
        comment=comment,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise ResourceAlreadyExists(
            f"config version {number} was saved by someone else meanwhile; reload and retry"
        ) from None
    after = config.model_dump(mode="json")
    record(
        session, actor=principal, action="update", entity="config", entity_id=number,
        before=before, after=after,
    )  # fmt: skip
    _write_atomically(runtime.settings.config_path, content)
    return EffectiveConfig(
        version=number, saved_at=now, author=row.author, modified=False, config=after
    )


def list_versions(session: Session, *, limit: int, offset: int) -> Page[ConfigVersionSummary]:
    """Saved configurations, newest first."""
    check_paging(limit, offset)
    total = session.scalar(select(func.count(ConfigVersion.id))) or 0
    rows = session.scalars(
        select(ConfigVersion).order_by(ConfigVersion.version.desc()).limit(limit).offset(offset)
    ).all()
    items = [ConfigVersionSummary.model_validate(r) for r in rows]
    return Page[ConfigVersionSummary](items=items, total=total, limit=limit, offset=offset)


def get_version(session: Session, version: int) -> ConfigVersionRead:
    """One saved configuration by its number."""
    row = session.scalar(select(ConfigVersion).where(ConfigVersion.version == version))
    if row is None:
        raise ResourceNotFound(f"no config version {version}")
    return ConfigVersionRead(
        version=row.version,
        created_at=row.created_at,
        author=row.author,
        comment=row.comment,
        content=row.content,
        config=tomllib.loads(row.content),
    )
