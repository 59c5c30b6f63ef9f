"""Reading alerts: the filtered, sorted alert list and single alerts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, aliased

from tenure.accounts.models import Account, User
from tenure.accounts.service import resolve_account_id, resolve_user_id
from tenure.errors import ResourceNotFound
from tenure.kit.pagination import DEFAULT_LIMIT, Page, check_choice, check_paging, parse_sort
from tenure.risk.models import OPEN_STATUSES, Alert
from tenure.risk.schemas import ALERT_STATUS_FILTERS, SEVERITIES, SEVERITY_RANK, AlertRead

ALERT_SORT_KEYS: tuple[str, ...] = (
    "severity",
    "opened_as_of",
    "last_seen_as_of",
    "account_name",
    "rule_id",
)


def _alert_select() -> tuple[Select, Any]:
    """Alerts with their account and owner (the assignee, else the account's owner)."""
    owner = aliased(User, name="owner")
    owner_id = func.coalesce(Alert.assignee_id, Account.owner_id)
    stmt = (
        select(
            Alert.id,
            Alert.account_id,
            Account.external_id.label("account_external_id"),
            Account.name.label("account_name"),
            Alert.rule_id,
            Alert.rule_name,
            Alert.category,
            Alert.severity,
            Alert.status,
            Alert.evidence,
            Alert.opened_as_of,
            Alert.last_seen_as_of,
            Alert.closed_as_of,
            owner.external_id.label("owner_external_id"),
            owner.name.label("owner_name"),
            owner.email.label("owner_email"),
        )
        .join(Account, Account.id == Alert.account_id)
        .outerjoin(owner, owner.id == owner_id)
    )
    return stmt, owner_id


def _to_read(row: Any) -> AlertRead:
    fields = dict(row._mapping)
    external_id = fields.pop("owner_external_id")
    name, email = fields.pop("owner_name"), fields.pop("owner_email")
    fields["owner"] = (
        {"external_id": external_id, "name": name, "email": email} if external_id else None
    )
    return AlertRead.model_validate(fields)


def list_alerts(
    session: Session,
    *,
    status: str = "open",
    severity: str | None = None,
    rule: str | None = None,
    owner: str | None = None,
    account: int | str | None = None,
    sort: str = "-severity",
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[AlertRead]:
    """Alerts filtered and paged; by default open ones, most severe then newest first.

    `status` "open" means open or acknowledged and "all" means any status; `owner` is a
    user's external id or e-mail; `account` an account's id or external id.
    """
    check_paging(limit, offset)
    key, descending = parse_sort(sort, ALERT_SORT_KEYS)
    check_choice("status", status, ALERT_STATUS_FILTERS)
    stmt, owner_id = _alert_select()
    if status == "open":
        stmt = stmt.where(Alert.status.in_(OPEN_STATUSES))
    elif status != "all":
        stmt = stmt.where(Alert.status == status)
    if severity is not None:
        stmt = stmt.where(Alert.severity == check_choice("severity", severity, SEVERITIES))
    if rule is not None:
        stmt = stmt.where(Alert.rule_id == rule)
    if owner is not None:
        stmt = stmt.where(owner_id == resolve_user_id(session, owner))
    if account is not None:
        stmt = stmt.where(Alert.account_id == resolve_account_id(session, account))
    total = session.scalar(
        select(func.count()).select_from(stmt.with_only_columns(Alert.id).subquery())
    )
    column: Any = {
        "severity": case(SEVERITY_RANK, value=Alert.severity, else_=0),
        "opened_as_of": Alert.opened_as_of,
        "last_seen_as_of": Alert.last_seen_as_of,
        "account_name": func.lower(Account.name),
        "rule_id": Alert.rule_id,
    }[key]
    # Ties go newest first whatever the direction of the main key.
    order = [column.desc() if descending else column.asc()]
    if key != "opened_as_of":
        order.append(Alert.opened_as_of.desc())
    rows = session.execute(stmt.order_by(*order, Alert.id.desc()).limit(limit).offset(offset)).all()
    return Page[AlertRead](
        items=[_to_read(row) for row in rows], total=total or 0, limit=limit, offset=offset
    )


def get_alert(session: Session, alert_id: int) -> AlertRead:
    """One alert by id."""
    stmt, _ = _alert_select()
    row = session.execute(stmt.where(Alert.id == alert_id)).first()
    if row is None:
        raise ResourceNotFound(f"no alert has id {alert_id}")
    return _to_read(row)
