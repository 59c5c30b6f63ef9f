"""What one flush batch does, decided from its calls alone (no I/O): the flush's pure core.

Calls are taken oldest first. A `group` call links its user to the account (creating or
moving the contact) and sets the account's traits; an `identify` call sets the contact's
fields, and links a user who has no account yet to the one it names; a `track` call becomes
an event of the account it names (`context.groupId`), else of the account its user is
linked to at that point. A call whose user has no account yet waits in the inbox (up to the
flush's `link_wait`) for a group call. docs/tracking.md states the rules for users.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pydantic_core

# Contact columns an identify call sets, and how long each may be. Descriptive text is cut
# to fit; an address that does not fit is left out rather than stored broken.
CONTACT_TEXT = {"name": 200, "title": 200}
CONTACT_EXACT = {"email": 255, "phone": 50}
CONTEXT_EXACT = {"locale": 10, "timezone": 64}
ACCOUNT_TEXT = {"name": 300, "industry": 100}
ACCOUNT_INT = ("employees",)
# Group traits that are about the account's identity, not attributes worth keeping.
ACCOUNT_SKIPPED = {"id", "groupId"}


@dataclass
class ContactChange:
    """Fields to set on the contact `external_id`, and the account to link it to."""

    account: str | None = None  # account external id; None keeps the current link
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class AccountChange:
    """Fields and attributes to set on the account `external_id` (created when `create`)."""

    create: bool = False
    fields: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    """Events to append, changes to apply, calls to set aside and calls left waiting."""

    events: list[dict[str, Any]] = field(default_factory=list)
    contacts: dict[str, ContactChange] = field(default_factory=dict)
    accounts: dict[str, AccountChange] = field(default_factory=dict)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (position, reason)
    waiting: list[int] = field(default_factory=list)  # positions left in the inbox


def _json(value: dict[str, Any] | None) -> str | None:
    """Properties as compact JSON text, keys in the order sent."""
    return None if value is None else pydantic_core.to_json(value).decode()


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        return str(value)
    return None


def contact_fields(traits: dict[str, Any], context: dict[str, Any]) -> dict[str, str]:
    """The contact columns an identify call's traits (and context locale/timezone) set."""
    out: dict[str, str] = {}
    name = _text(traits.get("name"))
    if name is None:
        parts = [_text(traits.get(k)) for k in ("firstName", "lastName")]
        name = " ".join(p for p in parts if p) or None
    if name:
        out["name"] = name[: CONTACT_TEXT["name"]]
    title = _text(traits.get("title"))
    if title:
        out["title"] = title[: CONTACT_TEXT["title"]]
    for source, limits in ((traits, CONTACT_EXACT), (context, CONTEXT_EXACT)):
        for key, limit in limits.items():
            value = _text(source.get(key))
            if value and len(value) <= limit:
                out[key] = value
    return out


def account_fields(traits: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The account columns a group call's traits set, and the rest (kept as attributes)."""
    fields: dict[str, Any] = {}
    for key, limit in ACCOUNT_TEXT.items():
        value = _text(traits.get(key))
        if value:
            fields[key] = value[:limit]
    for key in ACCOUNT_INT:
        number = traits.get(key)
        if isinstance(number, float) and number.is_integer():
            number = int(number)
        if isinstance(number, str) and number.isdigit():
            number = int(number)
        if isinstance(number, int) and not isinstance(number, bool) and 0 <= number < 2**31:
            fields[key] = number
    mapped = set(ACCOUNT_TEXT) | set(ACCOUNT_INT) | ACCOUNT_SKIPPED
    attributes = {k: v for k, v in traits.items() if k not in mapped}
    return fields, attributes


class _Planner:
    def __init__(
        self,
        may_wait: list[bool],
        links: dict[str, str],
        known_accounts: set[str],
        waiting_users: set[str],
        create_accounts: bool,
    ) -> None:
        self.plan = Plan()
        self.may_wait = may_wait
        self.links = dict(links)  # the batch's own calls update it as they come
        self.accounts = set(known_accounts)
        self.waiting_users = waiting_users
        self.create_accounts = create_accounts

    def contact(self, user: str) -> ContactChange:
        return self.plan.contacts.setdefault(user, ContactChange())

    def wait_or_reject(self, i: int, reason: str) -> bool:
        """Leave call i waiting if it may wait, else set it aside; True if it waits."""
        if self.may_wait[i]:
            self.plan.waiting.append(i)
            return True
        self.plan.rejected.append((i, reason))
        return False

    def track(self, i: int, call: dict[str, Any], user: str | None, named: str | None) -> None:
        account = named or (self.links.get(user) if user is not None else None)
        if account is None:
            if user is None:
                self.plan.rejected.append((i, "anonymous call without context.groupId"))
            else:
                self.wait_or_reject(i, f"user {user!r} has no account: no group call came")
            return
        self.plan.events.append(
            {
                "message_id": call["messageId"],
                "account_id": account,
                "contact_id": user,
                "event": call["event"],
                "timestamp": dt.datetime.fromisoformat(call["timestamp"]),
                "properties": _json(call.get("properties")),
            }
        )

    def group(self, i: int, call: dict[str, Any], user: str | None) -> None:
        account = call["groupId"]
        if account not in self.accounts:
            if not self.create_accounts:
                self.plan.rejected.append((i, f"unknown account {account!r}"))
                return
            self.accounts.add(account)
            self.plan.accounts.setdefault(account, AccountChange()).create = True
        change = self.plan.accounts.setdefault(account, AccountChange())
        fields, attributes = account_fields(call.get("traits") or {})
        change.fields.update(fields)
        change.attributes.update(attributes)
        if user is not None:
            self.links[user] = account
            self.contact(user).account = account

    def identify(self, i: int, call: dict[str, Any], user: str | None, named: str | None) -> None:
        if user is None:
            self.plan.rejected.append((i, "identify needs a userId (the contact's id)"))
            return
        if user in self.waiting_users:  # an earlier identify of this user waits: keep order
            self.plan.waiting.append(i)
            return
        if user not in self.links and named is not None and named in self.accounts:
            self.links[user] = named
            self.contact(user).account = named
        if user not in self.links:
            reason = f"unknown account {named!r}" if named else "no group call came"
            if self.wait_or_reject(i, f"user {user!r} has no account: {reason}"):
                self.waiting_users.add(user)
            return
        context = call.get("context") or {}
        self.contact(user).fields.update(contact_fields(call.get("traits") or {}, context))

    def call(self, i: int, call: dict[str, Any]) -> None:
        kind = call.get("type")
        user = call.get("userId")
        named = (call.get("context") or {}).get("groupId")
        if kind == "track":
            self.track(i, call, user, named)
        elif kind == "group":
            self.group(i, call, user)
        elif kind == "identify":
            self.identify(i, call, user, named)
        else:
            self.plan.rejected.append((i, f"not a track, identify or group call: {kind!r}"))


def plan_batch(
    calls: list[dict[str, Any]],
    may_wait: list[bool],
    links: dict[str, str],
    known_accounts: set[str],
    waiting_users: set[str],
    *,
    create_accounts: bool = False,
) -> Plan:
    """Plan one batch of normalised calls (oldest first).

    `may_wait[i]` says whether call i is young enough to wait for its user's group call;
    `links` maps the external id of every known contact among the calls' users to its
    account's external id; `known_accounts` holds the existing accounts among those the
    calls name. `waiting_users` (updated) holds users with a waiting identify call: their
    later identify calls wait too, so a contact's traits are applied in the order sent.
    """
    planner = _Planner(may_wait, links, known_accounts, waiting_users, create_accounts)
    for i, call in enumerate(calls):
        try:
            planner.call(i, call)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            reason = f"malformed inbox row: {type(exc).__name__}: {exc}"
            planner.plan.rejected.append((i, reason))
    return planner.plan
