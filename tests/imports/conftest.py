"""Fixtures for import tests: seeded users and accounts, file writers, table counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tenure.accounts.models import Account, User
from tenure.kit.runtime import Runtime

OLD = dt.datetime(2020, 1, 1, 0, 0, 0)


@pytest.fixture
def seeded(runtime: Runtime) -> Runtime:
    """SQLite home with users U1 (alice@example.com), U2 and accounts A1, A2 (owned by U1)."""
    seed(runtime)
    return runtime


def seed(rt: Runtime) -> None:
    """Insert the two users and two accounts every import test builds on."""
    with rt.engine.begin() as conn:
        conn.execute(
            sa.insert(User.__table__),
            [
                {"external_id": "U1", "email": "alice@example.com", "name": "Alice"},
                {"external_id": "U2", "email": "bob@example.com", "name": "Bob"},
            ],
        )
        owner = conn.execute(sa.select(User.id).where(User.external_id == "U1")).scalar_one()
        conn.execute(
            sa.insert(Account.__table__),
            [
                {"external_id": "A1", "name": "Acme", "owner_id": owner, "attributes": {}},
                {"external_id": "A2", "name": "Beta", "owner_id": None, "attributes": {}},
            ],
        )


@pytest.fixture
def seed_fn() -> Callable[[Runtime], None]:
    """`seed` for tests that open their own runtime (e.g. on PostgreSQL)."""
    return seed


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write text (or bytes) to a file in tmp_path and return its path."""

    def _write(name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return path

    return _write


@pytest.fixture
def rows() -> Callable[..., list[dict[str, Any]]]:
    """All rows of a table (as dicts, ordered by external id)."""

    def _rows(rt: Runtime, table: Any) -> list[dict[str, Any]]:
        t = table.__table__
        with rt.engine.connect() as conn:
            result = conn.execute(sa.select(t).order_by(t.c.external_id))
            return [dict(r._mapping) for r in result]

    return _rows


@pytest.fixture
def count() -> Callable[[Runtime, Any], int]:
    """Number of rows in a model's table."""

    def _count(rt: Runtime, table: Any) -> int:
        with rt.engine.connect() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(table.__table__)).scalar_one()
            )

    return _count
