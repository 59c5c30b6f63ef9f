"""Shapes of the configuration API: the effective config, its versions, validation results."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict


class ConfigProblem(BaseModel):
    """One mistake in a configuration: the exact key and what is wrong with it."""

    field: str
    message: str


class ConfigValidation(BaseModel):
    """Whether a configuration is valid, and every problem when it is not."""

    valid: bool
    problems: list[ConfigProblem]


class ConfigVersionSummary(BaseModel):
    """One saved configuration: its number, author, time and comment."""

    model_config = ConfigDict(from_attributes=True)

    version: int
    created_at: dt.datetime
    author: str
    comment: str | None


class ConfigVersionRead(ConfigVersionSummary):
    """One saved configuration with its TOML text and the same as JSON."""

    content: str
    config: dict[str, Any]


class EffectiveConfig(BaseModel):
    """The configuration in force (tenure.toml in the home) and the last version saved.

    `version` is null until a configuration is saved through the API; `modified` is true
    when tenure.toml was edited by hand after that version was saved.
    """

    version: int | None
    saved_at: dt.datetime | None
    author: str | None
    modified: bool
    config: dict[str, Any]
