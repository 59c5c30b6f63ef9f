"""Alembic environment: runs against the connection Tenure hands it."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from tenure.db import Base, all_models

all_models()
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        url = context.config.get_main_option("sqlalchemy.url") or "sqlite://"
        with create_engine(url).connect() as conn:
            _run(conn)
        return
    _run(connection)


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
