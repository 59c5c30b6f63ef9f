"""Read models of accounts (the API's shapes), health bands, quadrant and stage labels."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict

# Health bands on the 0-100 health score: healthy >= 70, watch 40-70, at risk < 40.
HEALTHY_MIN = 70.0
WATCH_MIN = 40.0
HEALTH_BAND_RANGES: dict[str, tuple[float | None, float | None]] = {
    "healthy": (HEALTHY_MIN, None),
    "watch": (WATCH_MIN, HEALTHY_MIN),
    "at_risk": (None, WATCH_MIN),
}  # band: (lowest score included, score where the next band starts)
HEALTH_BANDS: tuple[str, ...] = tuple(HEALTH_BAND_RANGES)

# Stored codes of the value quadrants and lifecycle stages, with the labels people read.
QUADRANT_LABELS: dict[str, str] = {
    "strategic_partner": "Strategic partner",
    "growth": "Growth",
    "profit": "Profit",
    "basic": "Basic",
}
STAGE_LABELS: dict[str, str] = {
    "onboarding": "Onboarding",
    "growth": "Growth",
    "mature": "Mature",
    "declining": "Declining",
}


def health_band(score: float | None) -> str | None:
    """The band of a health score: "healthy", "watch", "at_risk", or None without a score."""
    if score is None:
        return None
    if score >= HEALTHY_MIN:
        return "healthy"
    if score >= WATCH_MIN:
        return "watch"
    return "at_risk"


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class UserRef(_Read):
    """A member of the CS team, as shown next to what they own."""

    external_id: str
    name: str
    email: str


class AccountSummary(_Read):
    """One row of the account list: profile, latest scores and open alerts."""

    id: int
    external_id: str
    name: str
    industry: str | None
    region: str | None
    owner: UserRef | None
    status: str
    customer_since: dt.date | None
    arr: float
    as_of: dt.date | None
    value_score: float | None
    current_value: float | None
    potential_value: float | None
    quadrant: str | None
    rfm_code: str | None
    lifecycle_stage: str | None
    health_score: float | None
    health_band: str | None
    health_change: float | None
    open_alerts: int
    top_severity: str | None


class HealthContribution(_Read):
    """One health measure: the feature value, its 0-100 score, weight and points added."""

    value: float | None = None
    score: float | None = None
    weight: float | None = None
    points: float | None = None


class Rfm(_Read):
    """Recency, frequency and monetary quintile scores (1-5) and their 3-digit code."""

    recency: int
    frequency: int
    monetary: int
    code: str


class TrendPoint(_Read):
    """Health and value score of one past snapshot."""

    as_of: dt.date
    health_score: float
    value_score: float


class AccountAlert(_Read):
    """An open alert of the account, with the evidence that fired it."""

    id: int
    rule_id: str
    rule_name: str
    category: str
    severity: str
    status: str
    evidence: dict[str, Any]
    opened_as_of: dt.date
    last_seen_as_of: dt.date


class InteractionRead(_Read):
    """One touch on the account timeline."""

    id: int
    occurred_at: dt.datetime
    channel: str
    direction: str
    type: str
    summary: str | None
    sentiment: str | None
    contact_name: str | None
    user_name: str | None


class ContactRead(_Read):
    """A person at the account, with the channel and content format they prefer."""

    id: int
    external_id: str
    name: str
    title: str | None
    email: str | None
    phone: str | None
    role: str
    channel_preference: str | None
    format_preference: str | None
    locale: str | None
    opted_out_all: bool
    opt_out_channels: list[Any]


class SubscriptionRead(_Read):
    """A contract of the account; `end_date` is when it is due for renewal."""

    id: int
    external_id: str
    product: str
    start_date: dt.date
    end_date: dt.date | None
    arr: float
    mrr: float
    currency: str
    status: str
    auto_renew: bool


class TicketStats(_Read):
    """Support tickets of the account: all, unresolved, complaints, and the latest."""

    total: int
    open: int
    complaints: int
    last_opened_at: dt.datetime | None


class NpsRead(_Read):
    """The account's latest NPS answer."""

    score: int
    responded_at: dt.datetime
    comment: str | None


class AccountDetail(AccountSummary):
    """Everything about one account: the summary plus profile, score breakdowns and timeline."""

    size: str | None
    employees: int | None
    churn_date: dt.date | None
    churn_reason: str | None
    industry_influence: float | None
    innovation_synergy: float | None
    growth_potential: float | None
    strategic_goal: str | None
    attributes: dict[str, Any]
    health_breakdown: dict[str, HealthContribution]
    value_breakdown: dict[str, Any]
    features: dict[str, Any]
    rfm: Rfm | None
    health_trend: list[TrendPoint]
    alerts: list[AccountAlert]
    recent_interactions: list[InteractionRead]
    contacts: list[ContactRead]
    subscriptions: list[SubscriptionRead]
    tickets: TicketStats
    last_nps: NpsRead | None
