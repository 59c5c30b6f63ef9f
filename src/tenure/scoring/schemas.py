"""Read models of score snapshots (the API's shapes)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict

from tenure.kit.pagination import Page


class ScoreRead(BaseModel):
    """Every score of one account as of one date, with the features that produced it."""

    model_config = ConfigDict(from_attributes=True)

    account_id: int
    account_external_id: str
    account_name: str
    as_of: dt.date
    quadrant: str
    lifecycle_stage: str
    health_score: float
    health_band: str | None
    health_change: float | None
    value_score: float
    current_value: float
    potential_value: float
    rfm_recency: int
    rfm_frequency: int
    rfm_monetary: int
    rfm_code: str
    health_breakdown: dict[str, Any]
    value_breakdown: dict[str, Any]
    features: dict[str, Any]
    computed_at: dt.datetime


class ScorePage(Page[ScoreRead]):
    """One page of the snapshots of a date; `as_of` is the date read (the latest by default)."""

    as_of: dt.date | None
