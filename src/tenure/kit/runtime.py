"""A `Runtime` is one opened Tenure home: settings, database, config and event store path."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tenure.config import Settings, TenureConfig, load_config, write_default_config
from tenure.db import make_engine, make_sessionmaker, upgrade


@dataclass
class Runtime:
    """Everything a command needs to work on one data set."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    _config: TenureConfig | None = field(default=None, repr=False)
    _config_stamp: bytes | None = field(default=None, repr=False)

    @property
    def config(self) -> TenureConfig:
        """The validated configuration of this home, re-read whenever tenure.toml changes
        (saved from the app, edited by hand, or by another process such as the worker)."""
        stamp = self._stamp()
        if self._config is None or stamp != self._config_stamp:
            self._config = load_config(self.settings.config_path)
            self._config_stamp = stamp
        return self._config

    def _stamp(self) -> bytes | None:
        # A digest of the content, not the mtime: two saves within one clock tick differ too.
        try:
            return hashlib.blake2b(self.settings.config_path.read_bytes(), digest_size=16).digest()
        except FileNotFoundError:
            return None

    def close(self) -> None:
        self.engine.dispose()


def open_runtime(
    home: str | Path | None = None,
    database_url: str | None = None,
    *,
    migrate: bool = True,
) -> Runtime:
    """Open (creating when new) the home folder, its config file and its database schema."""
    settings = Settings.load(home, database_url)
    settings.home.mkdir(parents=True, exist_ok=True)
    write_default_config(settings.config_path)
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    return Runtime(settings=settings, engine=engine, sessions=make_sessionmaker(engine))
