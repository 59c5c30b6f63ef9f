"""Shared fixtures: a fresh Tenure home on SQLite, and a throw-away PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tenure.kit.runtime import Runtime, open_runtime

PG_ADMIN_URL = os.environ.get(
    "TENURE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


def need(reason: str) -> None:
    """Skip with `reason` outside CI; in CI a missing dependency is a failure."""
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    """A new, migrated home on the embedded SQLite store."""
    rt = open_runtime(tmp_path / "home")
    yield rt
    rt.close()


@pytest.fixture
def pg_database_url() -> Iterator[str]:
    """URL of a new, empty PostgreSQL database, dropped after the test."""
    name = f"tenure_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        need(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.orig}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                ),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture
def pg_runtime(tmp_path: Path, pg_database_url: str) -> Iterator[Runtime]:
    """A new home whose operational store is a fresh PostgreSQL database."""
    rt = open_runtime(tmp_path / "pghome", pg_database_url)
    yield rt
    rt.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_runtime(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    """The same test on the embedded store and on PostgreSQL."""
    if request.param == "sqlite":
        yield request.getfixturevalue("runtime")
    else:
        yield request.getfixturevalue("pg_runtime")
