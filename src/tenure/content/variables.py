"""The variables a template sees: plain data read for one account (and contact), or a
fixed sample for previews without an account.

Every name has the same shape for every account, so a template that works for one works
for all: an account that was never scored has `scores` and `outcomes` with null values,
`contact` is null when the message goes to no contact (the owner, a group chat), `owner`
is null for an account nobody owns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenure.accounts.models import Account, Contact, User
from tenure.analytics.catalog import FEATURE_NAMES
from tenure.auth.audit import json_safe
from tenure.commerce.models import Subscription, SubscriptionStatus
from tenure.content.checking import ALLOWED_NAMES, SCORE_KEYS
from tenure.content.errors import InvalidContent
from tenure.errors import ResourceNotFound
from tenure.scoring.models import LatestScore, ScoreSnapshot


def utcnow() -> dt.datetime:
    """Naive UTC now, as the tables keep time."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _active_contracts(session: Session, account_id: int) -> tuple[float, str | None]:
    """ARR of the account's active subscriptions, and the earliest end date among them."""
    arr, ends = session.execute(
        select(func.coalesce(func.sum(Subscription.arr), 0), func.min(Subscription.end_date))
        .where(Subscription.account_id == account_id)
        .where(Subscription.status == SubscriptionStatus.ACTIVE.value)
    ).one()
    return float(arr or 0), _iso(ends)


def account_variables(session: Session, account: Account) -> dict[str, Any]:
    """`account`: the company, its ARR and its custom attributes."""
    arr, renewal = _active_contracts(session, account.id)
    return {
        "id": account.id,
        "name": account.name,
        "external_id": account.external_id,
        "industry": account.industry,
        "region": account.region,
        "size": account.size,
        "employees": account.employees,
        "status": account.status,
        "customer_since": _iso(account.customer_since),
        "renewal_date": renewal,
        "arr": arr,
        "attributes": json_safe(account.attributes or {}),
    }


def contact_variables(contact: Contact | None) -> dict[str, Any] | None:
    """`contact`: the person the message is for (None when it is for nobody in particular)."""
    if contact is None:
        return None
    return {
        "id": contact.id,
        "name": contact.name,
        "title": contact.title,
        "role": contact.role,
        "locale": contact.locale,
        "email": contact.email,
        "format": contact.format_preference,
    }


def score_variables(session: Session, account_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """`scores` and `outcomes` (the measured features) of the account's latest snapshot."""
    snapshot = session.scalar(
        select(ScoreSnapshot)
        .join(
            LatestScore,
            (LatestScore.account_id == ScoreSnapshot.account_id)
            & (LatestScore.as_of == ScoreSnapshot.as_of),
        )
        .where(ScoreSnapshot.account_id == account_id)
    )
    outcomes: dict[str, Any] = dict.fromkeys(sorted(FEATURE_NAMES))
    if snapshot is None:
        return dict.fromkeys(SCORE_KEYS), outcomes
    scores = {key: getattr(snapshot, key) for key in SCORE_KEYS}
    scores["as_of"] = snapshot.as_of.isoformat()
    outcomes.update(json_safe(snapshot.features or {}))
    return scores, outcomes


def check_extra(extra: Mapping[str, Any] | None) -> dict[str, Any]:
    """Extra variables (such as `alert`) as plain data; only allowed names are accepted."""
    if not extra:
        return {}
    unknown = sorted(set(extra) - set(ALLOWED_NAMES))
    if unknown:
        raise InvalidContent(
            [("extra", f"unknown variables {unknown}; allowed: {', '.join(ALLOWED_NAMES)}")]
        )
    plain: dict[str, Any] = json_safe(dict(extra))
    return plain


def build_variables(
    session: Session,
    account_id: int,
    contact_id: int | None = None,
    *,
    links: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Every variable of a message about `account_id` for `contact_id` (plain data only)."""
    account = session.get(Account, account_id)
    if account is None:
        raise ResourceNotFound(f"no account has id {account_id}")
    contact = None
    if contact_id is not None:
        contact = session.get(Contact, contact_id)
        if contact is None:
            raise ResourceNotFound(f"no contact has id {contact_id}")
        if contact.account_id != account.id:
            raise InvalidContent(
                [("contact", f"contact {contact.external_id!r} is not a contact of "
                             f"account {account.external_id!r}")]
            )  # fmt: skip
    owner = session.get(User, account.owner_id) if account.owner_id is not None else None
    scores, outcomes = score_variables(session, account.id)
    return {
        "account": account_variables(session, account),
        "contact": contact_variables(contact),
        "owner": {"name": owner.name, "email": owner.email} if owner is not None else None,
        "scores": scores,
        "outcomes": outcomes,
        "links": json_safe(dict(links or {})),
        "now": (now or utcnow()).isoformat(timespec="seconds"),
        **check_extra(extra),
    }


SAMPLES: dict[str, dict[str, Any]] = {
    "zh-CN": {
        "account": {"name": "星河智造科技有限公司", "industry": "制造业", "region": "华东"},
        "contact": {"name": "王磊", "title": "运营总监"},
        "owner": {"name": "陈静", "email": "chen.jing@example.com"},
        "alert": {"rule_name": "连续 7 天未登录", "evidence": {"days_since_login": 9}},
    },
    "en": {
        "account": {
            "name": "Northwind Manufacturing",
            "industry": "manufacturing",
            "region": "East",
        },
        "contact": {"name": "Emma Clarke", "title": "Head of Operations"},
        "owner": {"name": "Daniel Moore", "email": "daniel.moore@example.com"},
        "alert": {"rule_name": "No login for 7 days", "evidence": {"days_since_login": 9}},
    },
}


def sample_variables(
    locale: str = "zh-CN",
    *,
    links: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """A made-up account, contact, owner, scores, outcomes and alert, for previews."""
    sample = SAMPLES.get(locale, SAMPLES["zh-CN"])
    when = now or utcnow()
    outcomes: dict[str, Any] = dict.fromkeys(sorted(FEATURE_NAMES))
    outcomes.update(
        days_since_login=2, logins_7d=18, logins_30d=64, events_30d=1840, events_prev_30d=1520,
        usage_change=0.21, core_features_used_30d=3, core_usage=0.6, tenure_days=420,
        tenure_months=13, arr=240_000.0, days_to_renewal=45, tickets_30d=2, open_tickets=1,
        nps_90d=40.0,
    )  # fmt: skip
    variables: dict[str, Any] = {
        "account": {
            "id": 0,
            "external_id": "SAMPLE",
            "size": "medium",
            "employees": 800,
            "status": "active",
            "customer_since": "2023-09-01",
            "renewal_date": (when.date() + dt.timedelta(days=45)).isoformat(),
            "arr": 240_000.0,
            "attributes": {"tier": "gold"},
            **sample["account"],
        },
        "contact": {
            "id": 0,
            "role": "key_user",
            "locale": locale,
            "email": "contact@example.com",
            "format": "document",
            **sample["contact"],
        },
        "owner": dict(sample["owner"]),
        "scores": {
            "as_of": when.date().isoformat(),
            "health_score": 72.5,
            "value_score": 64.0,
            "quadrant": "growth",
            "lifecycle_stage": "growth",
            "health_change": -4.5,
            "current_value": 58.0,
            "potential_value": 71.0,
        },
        "outcomes": outcomes,
        "links": {
            "unsubscribe": "https://tenure.example.com/u/sample",
            "survey": "https://tenure.example.com/s/sample",
            "account": "https://tenure.example.com/accounts/SAMPLE",
            **json_safe(dict(links or {})),
        },
        "now": when.isoformat(timespec="seconds"),
        "alert": {
            "alert_id": 0,
            "rule_id": "no_login_7d",
            "category": "behaviour",
            "severity": "high",
            "opened_as_of": when.date().isoformat(),
            **sample["alert"],
        },
    }
    variables.update(check_extra(extra))
    return variables
