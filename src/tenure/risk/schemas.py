"""Read models of alerts (the API's shapes) and the order of severities."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict

from tenure.accounts.schemas import UserRef
from tenure.risk.models import AlertStatus

# Lowest first; the rank orders alerts and picks an account's top severity.

# `status` filter values: "open" means open or acknowledged, "all" means no filter.
ALERT_STATUS_FILTERS: tuple[str, ...] = (
    "open",
    "all",
    *(status.value for status in AlertStatus if status is not AlertStatus.OPEN),
)


class AlertRead(BaseModel):
    """A risk rule firing for one account, with the feature values that fired it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    account_id: int
    account_external_id: str
    account_name: str
    rule_id: str
    rule_name: str
    category: str
    severity: str
    status: str
    evidence: dict[str, Any]
    opened_as_of: dt.date
    last_seen_as_of: dt.date
    closed_as_of: dt.date | None
    owner: UserRef | None
