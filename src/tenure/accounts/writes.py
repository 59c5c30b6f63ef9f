"""Changing accounts and the records they own (contacts, contracts, orders, feedback).

Every change is checked against the principal (`can_write_account` on the record's
account), flushed, and written to the audit log with its before/after; the request's
session commits. Records are read back in the API's shapes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, DateTime, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenure.accounts.models import Account, Contact, Role
from tenure.accounts.schemas import AccountDetail
from tenure.accounts.service import get_account, numeric_id, resolve_account_id, resolve_user_id
from tenure.auth.audit import record, snapshot
from tenure.auth.deps import OwnedAccount, Principal
from tenure.errors import ResourceAlreadyExists, ResourceNotFound, TenureError
from tenure.kit.pagination import Page, check_paging, parse_sort

R = TypeVar("R", bound=BaseModel)
ACCOUNT_ORDER = (("customer_since", "churn_date"),)


class Forbidden(TenureError):
    """The principal may not make this change (a viewer, or a csm on another's account)."""

    status_code = 403


class InvalidChange(TenureError):
    """A well-formed change that breaks a rule of the data; `problems` name the fields."""

    status_code = 422

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{key}: {msg}" for key, msg in problems))


def authorize(principal: Principal, account: OwnedAccount, name: str | None = None) -> None:
    """Raise `Forbidden` unless the principal may change `account` (named `name`)."""
    if principal.can_write_account(account):
        return
    if principal.role == Role.CSM.value:
        which = f"account {name!r}" if name else "an account without an owner"
        raise Forbidden(f"a csm may change only the accounts they own; {which} is not theirs")
    raise Forbidden(f"role {principal.role} may not change accounts or their records")


@dataclass
class _Owner:
    owner_id: int | None


@dataclass(frozen=True)
class RecordKind(Generic[R]):
    """A table of records owned by an account (`account_id`), as the API lists and changes it.

    `entity` names it in messages and the audit log; `date_column` is what `since`/`until`
    filter; `ordered` lists (earlier, later) columns that must not be reversed;
    `references` maps a payload key to its column and what it names ("contact" or "user").
    """

    model: type[Any]
    entity: str
    read: type[R]
    sort_keys: tuple[str, ...]
    date_column: str | None = None
    ordered: tuple[tuple[str, str], ...] = ()
    references: Mapping[str, tuple[str, str]] = field(default_factory=dict)


def _load(session: Session, model: type[Any], entity: str, key: str) -> Any:
    """The row whose id, else external id, is `key` (404 naming what was looked for)."""
    number = numeric_id(key)
    found = session.get(model, number) if number is not None else None
    if found is None:
        found = session.scalar(select(model).where(model.external_id == key))
    if found is None:
        what = "id or external id" if number is not None else "external id"
        raise ResourceNotFound(f"no {entity} has {what} {key!r}")
    return found


def _to_read(kind: RecordKind[R], obj: Any, account_external_id: str) -> R:
    values = {key: getattr(obj, key) for key in kind.read.model_fields if hasattr(obj, key)}
    return kind.read.model_validate({**values, "account_external_id": account_external_id})


def _account_of(session: Session, principal: Principal, obj: Any) -> Account:
    account = session.get(Account, obj.account_id)
    assert account is not None  # account_id is a NOT NULL foreign key
    authorize(principal, account, account.external_id)
    return account


def _check_unique(session: Session, model: type[Any], entity: str, external_id: str) -> None:
    if session.scalar(select(model.id).where(model.external_id == external_id)) is not None:
        raise ResourceAlreadyExists(f"external id {external_id!r} is taken by another {entity}")


def _check_order(obj: Any, ordered: tuple[tuple[str, str], ...]) -> None:
    problems = []
    for earlier, later in ordered:
        first, second = getattr(obj, earlier), getattr(obj, later)
        if first is not None and second is not None and second < first:
            problems.append((later, f"{later} must not be before {earlier}"))
    if problems:
        raise InvalidChange(problems)


def _apply(
    session: Session, obj: Any, entity: str, data: Mapping[str, Any], ordered: Any = ()
) -> None:
    """Set `data` on `obj` after checking its new external id and date order."""
    new_key = data.get("external_id")
    if new_key is not None and new_key != obj.external_id:
        _check_unique(session, type(obj), entity, new_key)
    for name, value in data.items():
        setattr(obj, name, value)
    _check_order(obj, ordered)


def _save(
    session: Session, principal: Principal, entity: str, obj: Any, before: Any = None
) -> None:
    """Flush `obj` and audit the create (no `before`) or update."""
    try:
        session.flush()
    except IntegrityError:
        # References are checked first: only a concurrent insert of the same key gets here.
        raise ResourceAlreadyExists(f"the {entity} conflicts with one saved meanwhile") from None
    action = "create" if before is None else "update"
    after = snapshot(obj)
    record(
        session, actor=principal, action=action, entity=entity, entity_id=obj.id,
        before=before, after=after,
    )  # fmt: skip


def _delete(session: Session, principal: Principal, entity: str, obj: Any) -> None:
    before = snapshot(obj)
    session.delete(obj)
    session.flush()  # the database cascades to the rows it owns
    record(
        session, actor=principal, action="delete", entity=entity, entity_id=before["id"],
        before=before,
    )  # fmt: skip


def _resolve_contact(session: Session, key: int | str, account: Account) -> int:
    number = key if isinstance(key, int) else numeric_id(key)
    contact = session.get(Contact, number) if number is not None else None
    if contact is None:
        contact = session.scalar(select(Contact).where(Contact.external_id == str(key)))
    if contact is None:
        raise InvalidChange([("contact", f"no contact has id or external id {key!r}")])
    if contact.account_id != account.id:
        message = f"contact {key!r} belongs to another account than {account.external_id!r}"
        raise InvalidChange([("contact", message)])
    return contact.id


def _user_id(session: Session, key: str | None, field_name: str) -> int | None:
    if key is None:
        return None
    try:
        return resolve_user_id(session, key)
    except ResourceNotFound as exc:
        raise InvalidChange([(field_name, exc.message)]) from None


def _resolve_references(
    session: Session, kind: RecordKind[Any], values: Mapping[str, Any], account: Account
) -> dict[str, Any]:
    out = dict(values)
    for key, (column, names) in kind.references.items():
        if key in out:
            given = out.pop(key)
            if names == "contact":
                out[column] = None if given is None else _resolve_contact(session, given, account)
            else:
                out[column] = _user_id(session, given, key)
    return out


def list_records(
    session: Session,
    kind: RecordKind[R],
    *,
    account: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    filters: Mapping[str, Any] | None = None,
    sort: str,
    limit: int,
    offset: int,
) -> Page[R]:
    """Records of one kind, filtered by account, date range and column values, sorted, paged."""
    check_paging(limit, offset)
    key, descending = parse_sort(sort, kind.sort_keys)
    model = kind.model
    where: list[ColumnElement[bool]] = []
    if account is not None:
        where.append(model.account_id == resolve_account_id(session, account))
    if kind.date_column is not None:
        column = getattr(model, kind.date_column)
        timed = isinstance(column.type, DateTime)
        if since is not None:
            where.append(column >= (dt.datetime.combine(since, dt.time()) if timed else since))
        if until is not None:  # inclusive: before the start of the next day
            end = until + dt.timedelta(days=1)
            where.append(column < (dt.datetime.combine(end, dt.time()) if timed else end))
    where += [getattr(model, k) == v for k, v in (filters or {}).items() if v is not None]
    total = session.scalar(select(func.count(model.id)).where(*where)) or 0
    order = getattr(model, key)
    rows = session.execute(
        select(model, Account.external_id)
        .join(Account, Account.id == model.account_id)
        .where(*where)
        .order_by(order.is_(None), order.desc() if descending else order.asc(), model.id)
        .limit(limit)
        .offset(offset)
    ).all()
    items = [_to_read(kind, obj, external_id) for obj, external_id in rows]
    return Page[R](items=items, total=total, limit=limit, offset=offset)


def get_record(session: Session, kind: RecordKind[R], key: str) -> R:
    """One record by id or external id."""
    obj = _load(session, kind.model, kind.entity, key)
    account = session.get(Account, obj.account_id)
    assert account is not None
    return _to_read(kind, obj, account.external_id)


def create_record(
    session: Session, principal: Principal, kind: RecordKind[R], values: Mapping[str, Any]
) -> R:
    """Add a record to the account named by `values["account"]` (id or external id)."""
    data = dict(values)
    key = data.pop("account")
    try:
        account = session.get_one(Account, resolve_account_id(session, key))
    except ResourceNotFound as exc:
        raise InvalidChange([("account", exc.message)]) from None
    authorize(principal, account, account.external_id)
    _check_unique(session, kind.model, kind.entity, data["external_id"])
    obj = kind.model(account_id=account.id, **_resolve_references(session, kind, data, account))
    _check_order(obj, kind.ordered)
    session.add(obj)
    _save(session, principal, kind.entity, obj)
    return _to_read(kind, obj, account.external_id)


def update_record(
    session: Session,
    principal: Principal,
    kind: RecordKind[R],
    key: str,
    changes: Mapping[str, Any],
) -> R:
    """Apply `changes` (only the fields sent) to the record named by `key`."""
    obj = _load(session, kind.model, kind.entity, key)
    account = _account_of(session, principal, obj)
    before = snapshot(obj)
    _apply(
        session,
        obj,
        kind.entity,
        _resolve_references(session, kind, changes, account),
        kind.ordered,
    )
    _save(session, principal, kind.entity, obj, before)
    return _to_read(kind, obj, account.external_id)


def delete_record(session: Session, principal: Principal, kind: RecordKind[Any], key: str) -> None:
    """Delete the record named by `key`."""
    obj = _load(session, kind.model, kind.entity, key)
    _account_of(session, principal, obj)
    _delete(session, principal, kind.entity, obj)


def create_account(
    session: Session, principal: Principal, values: Mapping[str, Any]
) -> AccountDetail:
    """Add an account; a csm who names no owner owns it, and may name only themselves."""
    data = dict(values)
    owner = data.pop("owner", None)
    owner_id = _user_id(session, owner, "owner")
    if owner is None and principal.role == Role.CSM.value:
        owner_id = principal.user.id
    authorize(principal, _Owner(owner_id), data["external_id"])
    _check_unique(session, Account, "account", data["external_id"])
    account = Account(owner_id=owner_id, **data)
    _check_order(account, ACCOUNT_ORDER)
    session.add(account)
    _save(session, principal, "account", account)
    return get_account(session, account.id)


def update_account(
    session: Session, principal: Principal, key: str, changes: Mapping[str, Any]
) -> AccountDetail:
    """Change the fields sent; a csm may not hand their account to someone else."""
    account = session.get_one(Account, resolve_account_id(session, key))
    authorize(principal, account, account.external_id)
    before = snapshot(account)
    data = dict(changes)
    if "owner" in data:
        data["owner_id"] = _user_id(session, data.pop("owner"), "owner")
        authorize(principal, _Owner(data["owner_id"]), account.external_id)
    _apply(session, account, "account", data, ACCOUNT_ORDER)
    _save(session, principal, "account", account, before)
    return get_account(session, account.id)


def delete_account(session: Session, principal: Principal, key: str) -> None:
    """Delete an account with everything it owns (contacts, contracts, scores, alerts…)."""
    account = session.get_one(Account, resolve_account_id(session, key))
    authorize(principal, account, account.external_id)
    _delete(session, principal, "account", account)
