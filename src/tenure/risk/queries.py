"""Reading alerts: the filtered, sorted alert list and single alerts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from tenure.accounts.models import Account, User
from tenure.accounts.service import resolve_account_id, resolve_user_id
from tenure.errors import ResourceNotFound
from tenure.kit.pagination import DEFAULT_LIMIT, Page, check_choice, check_paging, parse_sort
from tenure.risk.models import SEVERITIES, Alert, is_open
from tenure.risk.schemas import ALERT_STATUS_FILTERS, AlertRead

ALERT_SORT_KEYS: tuple[str, ...] = (
    "severity",
    "opened_as_of",
    "last_seen_as_of",
    "account_name",
    "rule_id",
)


def _alert_select() -> Select:
    """Alerts with their account and owner (the assignee, else the account's owner)."""
    owner = aliased(User, name="owner")
    owner_id = func.coalesce(Alert.assignee_id, Account.owner_id)
    return (
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
    user's external id or e-mail (an alert is theirs when assigned to them, or unassigned
    on an account they own); `account` an account's id or external id.

    Filters, count and order read `alerts` alone (the open queue in severity order is a
    partial index), so a page costs the same with 200,000 open alerts as with 200; only the
    page's ids are joined to accounts and users.
    """
    check_paging(limit, offset)
    key, descending = parse_sort(sort, ALERT_SORT_KEYS)
    check_choice("status", status, ALERT_STATUS_FILTERS)
    where: list[Any] = []
    if status == "open":
        where.append(is_open())
    elif status != "all":
        where.append(Alert.status == status)
    if severity is not None:
        where.append(Alert.severity == check_choice("severity", severity, SEVERITIES))
    if rule is not None:
        where.append(Alert.rule_id == rule)
    if owner is not None:
        user_id = resolve_user_id(session, owner)
        owned = select(Account.id).where(Account.owner_id == user_id)
        where.append(
            or_(
                Alert.assignee_id == user_id,
                and_(Alert.assignee_id.is_(None), Alert.account_id.in_(owned)),
            )
        )
    if account is not None:
        where.append(Alert.account_id == resolve_account_id(session, account))
    total = session.scalar(select(func.count()).select_from(Alert).where(*where))

    ids = select(Alert.id).where(*where)
    column: Any = {
        "severity": Alert.severity_rank,
        "opened_as_of": Alert.opened_as_of,
        "last_seen_as_of": Alert.last_seen_as_of,
        "account_name": func.lower(Account.name),
        "rule_id": Alert.rule_id,
    }[key]
    if key == "account_name":
        ids = ids.join(Account, Account.id == Alert.account_id)
    # Ties go newest first whatever the direction of the main key.
    order = [column.desc() if descending else column.asc()]
    if key != "opened_as_of":
        order.append(Alert.opened_as_of.desc())
    page_ids = list(
        session.scalars(ids.order_by(*order, Alert.id.desc()).limit(limit).offset(offset))
    )
    stmt = _alert_select()
    rows = {r.id: r for r in session.execute(stmt.where(Alert.id.in_(page_ids)))}
    return Page[AlertRead](
        items=[_to_read(rows[i]) for i in page_ids if i in rows],
        total=total or 0,
        limit=limit,
        offset=offset,
    )


def get_alert(session: Session, alert_id: int) -> AlertRead:
    """One alert by id."""
    stmt = _alert_select()
    row = session.execute(stmt.where(Alert.id == alert_id)).first()
    if row is None:
        raise ResourceNotFound(f"no alert has id {alert_id}")
    return _to_read(row)
