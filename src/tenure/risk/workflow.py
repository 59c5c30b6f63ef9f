"""Working alerts: assign, acknowledge, resolve, dismiss — each checked and audited.

Valid moves: open → acknowledged → resolved, and open or acknowledged → dismissed; an
open or acknowledged alert can be (re)assigned. An alert the scoring run closed (its
signal cleared) cannot be worked any more.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tenure.accounts.models import Account, Role, User
from tenure.accounts.schemas import UserRef
from tenure.accounts.service import resolve_user_id
from tenure.accounts.writes import Forbidden, InvalidChange
from tenure.auth.audit import record, snapshot
from tenure.auth.deps import Principal
from tenure.errors import ResourceNotFound, TenureError
from tenure.risk.models import Alert, AlertStatus
from tenure.risk.queries import get_alert
from tenure.risk.schemas import AlertRead

OPEN, ACKNOWLEDGED = AlertStatus.OPEN.value, AlertStatus.ACKNOWLEDGED.value
WORKABLE = (OPEN, ACKNOWLEDGED)


class InvalidTransition(TenureError):
    """The alert's status does not allow this action (e.g. resolving a dismissed alert)."""

    status_code = 409


class AlertDetail(AlertRead):
    """An alert with who it is assigned to, its rule expression and the closing note."""

    assignee: UserRef | None
    expression: str
    resolution_note: str | None


def get_alert_detail(session: Session, alert_id: int) -> AlertDetail:
    """One alert by id, with its assignee and note."""
    read = get_alert(session, alert_id)
    alert = session.get_one(Alert, alert_id)
    assignee = session.get(User, alert.assignee_id) if alert.assignee_id is not None else None
    return AlertDetail.model_validate(
        {
            **read.model_dump(),
            "assignee": UserRef.model_validate(assignee) if assignee is not None else None,
            "expression": alert.expression,
            "resolution_note": alert.resolution_note,
        }
    )


def check_can_work(principal: Principal, account: Account) -> None:
    """Raise `Forbidden` unless the principal may work alerts of `account`."""
    if principal.can_write_account(account):
        return
    if principal.role == Role.CSM.value:
        raise Forbidden(
            "a csm may work alerts only on accounts they own; "
            f"account {account.external_id!r} is not theirs"
        )
    raise Forbidden(f"role {principal.role} may not work alerts")


def _load(
    session: Session, principal: Principal, alert_id: int, verb: str, allowed: tuple[str, ...]
) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise ResourceNotFound(f"no alert has id {alert_id}")
    check_can_work(principal, session.get_one(Account, alert.account_id))
    if alert.status == AlertStatus.CLOSED.value:
        raise InvalidTransition(
            f"alert {alert_id} was closed on {alert.closed_as_of} because its signal cleared; "
            f"a closed alert cannot be {verb}"
        )
    if alert.status not in allowed:
        need = " or ".join(allowed)
        hint = " (acknowledge it first)" if alert.status == OPEN else ""
        raise InvalidTransition(
            f"alert {alert_id} is {alert.status}; it can be {verb} only when {need}{hint}"
        )
    return alert


def _save(
    session: Session, principal: Principal, alert: Alert, action: str, before: dict
) -> AlertDetail:
    session.flush()
    record(
        session, actor=principal, action=action, entity="alert", entity_id=alert.id,
        before=before, after=snapshot(alert),
    )  # fmt: skip
    return get_alert_detail(session, alert.id)


def assign_alert(
    session: Session, principal: Principal, alert_id: int, assignee: str | None
) -> AlertDetail:
    """Assign an open or acknowledged alert to a user (external id or e-mail); None unassigns."""
    alert = _load(session, principal, alert_id, "assigned", WORKABLE)
    user_id = None
    if assignee is not None:
        try:
            user_id = resolve_user_id(session, assignee)
        except ResourceNotFound as exc:
            raise InvalidChange([("assignee", exc.message)]) from None
        if not session.get_one(User, user_id).is_active:
            raise InvalidChange([("assignee", f"user {assignee!r} is deactivated")])
    before = snapshot(alert)
    alert.assignee_id = user_id
    return _save(session, principal, alert, "assign", before)


def acknowledge_alert(session: Session, principal: Principal, alert_id: int) -> AlertDetail:
    """Mark an open alert as acknowledged (someone is on it)."""
    alert = _load(session, principal, alert_id, "acknowledged", (OPEN,))
    before = snapshot(alert)
    alert.status = ACKNOWLEDGED
    return _save(session, principal, alert, "acknowledge", before)


def resolve_alert(
    session: Session, principal: Principal, alert_id: int, note: str | None
) -> AlertDetail:
    """Resolve an acknowledged alert, with an optional note on what was done."""
    alert = _load(session, principal, alert_id, "resolved", (ACKNOWLEDGED,))
    before = snapshot(alert)
    alert.status = AlertStatus.RESOLVED.value
    alert.resolution_note = note
    return _save(session, principal, alert, "resolve", before)


def dismiss_alert(
    session: Session, principal: Principal, alert_id: int, reason: str
) -> AlertDetail:
    """Dismiss an open or acknowledged alert as not worth acting on, saying why."""
    alert = _load(session, principal, alert_id, "dismissed", WORKABLE)
    before = snapshot(alert)
    alert.status = AlertStatus.DISMISSED.value
    alert.resolution_note = reason
    return _save(session, principal, alert, "dismiss", before)
