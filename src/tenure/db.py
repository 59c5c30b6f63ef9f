"""Database plumbing: the declarative base, engine and session factories, migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import JSON, MetaData, Table, create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every Tenure table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


def table_of(model: type[Base]) -> Table:
    """The Core table behind an ORM model, for bulk statements."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine for `url`; SQLite files get WAL and foreign keys."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Session factory bound to `engine`; sessions do not expire objects on commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session, commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


def migrations_dir() -> Path:
    """Folder holding the Alembic environment shipped in the package."""
    return Path(__file__).parent / "migrations"


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema of `engine` to `revision` with Alembic (default: every head, so
    migrations written side by side on branches apply before a merge revision joins them)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
        refresh_statistics(connection)


def refresh_statistics(connection: Connection) -> None:
    """Give SQLite's planner fresh table statistics (ANALYZE, sampling at most 1,000 rows
    per index, a few milliseconds). Without them it prefers a one-column index to a partial
    covering one and sorts 180,000 rows where it could read 25. PostgreSQL's autovacuum
    keeps its own statistics; this does nothing there."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA analysis_limit=1000")
        connection.exec_driver_sql("ANALYZE")


def all_models() -> None:
    """Import every model module so `Base.metadata` knows every table."""
    from tenure.accounts import models as _accounts  # noqa: F401
    from tenure.auth import models as _auth  # noqa: F401
    from tenure.channels import models as _channels  # noqa: F401
    from tenure.commerce import models as _commerce  # noqa: F401
    from tenure.configs import models as _configs  # noqa: F401
    from tenure.content import models as _content  # noqa: F401
    from tenure.engagement import models as _engagement  # noqa: F401
    from tenure.feedback import models as _feedback  # noqa: F401
    from tenure.risk import models as _risk  # noqa: F401
    from tenure.scoring import models as _scoring  # noqa: F401
    from tenure.surveys import models as _surveys  # noqa: F401
    from tenure.tracking import models as _tracking  # noqa: F401
