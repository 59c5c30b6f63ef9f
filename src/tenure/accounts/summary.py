"""The account-summary query: latest snapshot, owner, open alerts and ARR per account."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import aliased

from tenure.accounts.models import Account, User
from tenure.accounts.schemas import health_band as band_of
from tenure.commerce.models import Subscription, SubscriptionStatus
from tenure.db import table_of
from tenure.risk.models import SEVERITIES, Alert, is_open
from tenure.scoring.models import LatestScore, ScoreSnapshot


class SummaryQuery:
    """The parts of the account list query: latest snapshot, owner, open alerts and ARR.

    Each part is one grouped subquery joined once, so a list costs the same few statements
    however many accounts there are. Given `account_ids`, every part reads only those
    accounts (one page, or one account).
    """

    def __init__(self, account_ids: Sequence[int] | None = None) -> None:
        def only(stmt: Select, column: Any) -> Select:
            return stmt if account_ids is None else stmt.where(column.in_(account_ids))

        self.latest = table_of(LatestScore).alias("latest")
        self.alerts = (
            only(
                select(
                    Alert.account_id,
                    func.count().label("open_alerts"),
                    func.max(Alert.severity_rank).label("top_rank"),
                ).where(is_open()),
                Alert.account_id,
            )
            .group_by(Alert.account_id)
            .subquery("open_alert_stats")
        )
        self.arr = (
            only(
                select(Subscription.account_id, func.sum(Subscription.arr).label("arr")).where(
                    Subscription.status == SubscriptionStatus.ACTIVE.value
                ),
                Subscription.account_id,
            )
            .group_by(Subscription.account_id)
            .subquery("active_arr")
        )
        self.owner = aliased(User, name="owner")
        self.open_alerts = func.coalesce(self.alerts.c.open_alerts, 0)
        self.arr_total = func.coalesce(self.arr.c.arr, 0)

    def join(
        self,
        stmt: Select,
        *,
        snapshot: bool = True,
        alerts: bool = True,
        arr: bool = True,
        latest: bool = False,
    ) -> Select:
        """`stmt` (selecting from accounts) outer-joined to the parts it reads.

        `latest` alone joins the narrow `latest_scores` row (list columns); `snapshot` also
        the full snapshot behind it.
        """
        snap, row = ScoreSnapshot, self.latest.c
        if snapshot or latest:
            stmt = stmt.outerjoin(self.latest, row.account_id == Account.id)
        if snapshot:
            stmt = stmt.outerjoin(
                snap, and_(snap.account_id == row.account_id, snap.as_of == row.as_of)
            )
        if alerts:
            stmt = stmt.outerjoin(self.alerts, self.alerts.c.account_id == Account.id)
        if arr:
            stmt = stmt.outerjoin(self.arr, self.arr.c.account_id == Account.id)
        return stmt

    def sort_column(self, key: str) -> Any:
        """The expression a sort key orders by."""
        return {
            "name": func.lower(Account.name),
            "health_score": self.latest.c.health_score,
            "value_score": self.latest.c.value_score,
            "arr": self.arr_total,
            "health_change": self.latest.c.health_change,
            "open_alerts": self.open_alerts,
        }[key]

    def rows(self, *extra: Any) -> Select:
        """Every column of `AccountSummary` (plus `extra`), one row per account."""
        snap, owner = ScoreSnapshot, self.owner
        stmt = select(
            Account.id,
            Account.external_id,
            Account.name,
            Account.industry,
            Account.region,
            Account.status,
            Account.customer_since,
            owner.external_id.label("owner_external_id"),
            owner.name.label("owner_name"),
            owner.email.label("owner_email"),
            self.arr_total.label("arr"),
            snap.as_of,
            snap.value_score,
            snap.current_value,
            snap.potential_value,
            snap.quadrant,
            snap.rfm_code,
            snap.lifecycle_stage,
            snap.health_score,
            snap.health_change,
            self.open_alerts.label("open_alerts"),
            self.alerts.c.top_rank,
            *extra,
        ).outerjoin(owner, owner.id == Account.owner_id)
        return self.join(stmt)


def summary_fields(row: Any) -> dict[str, Any]:
    """The `AccountSummary` fields of a row read by `SummaryQuery.rows`."""
    owner = None
    if row.owner_external_id is not None:
        owner = {
            "external_id": row.owner_external_id,
            "name": row.owner_name,
            "email": row.owner_email,
        }
    return {
        "id": row.id,
        "external_id": row.external_id,
        "name": row.name,
        "industry": row.industry,
        "region": row.region,
        "owner": owner,
        "status": row.status,
        "customer_since": row.customer_since,
        "arr": float(row.arr or 0),
        "as_of": row.as_of,
        "value_score": row.value_score,
        "current_value": row.current_value,
        "potential_value": row.potential_value,
        "quadrant": row.quadrant,
        "rfm_code": row.rfm_code,
        "lifecycle_stage": row.lifecycle_stage,
        "health_score": row.health_score,
        "health_band": band_of(row.health_score),
        "health_change": row.health_change,
        "open_alerts": row.open_alerts,
        "top_severity": SEVERITIES[row.top_rank - 1] if row.top_rank else None,
    }
