"""Whether and how an invitation may reach a contact: the engagement delivery policy.

The rules are the ones every message to a contact follows (`tenure.engagement.policy`,
docs/engagement.md "Delivery rules"): opt-outs and the frequency cap block, quiet hours
delay, and the channel is the contact's preference when an enabled endpoint of that kind
exists, else e-mail. This module gathers the facts the policy needs from the database.
"""

from __future__ import annotations

import datetime as dt
from importlib.metadata import entry_points
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenure.accounts.models import Contact
from tenure.channels.models import ChannelEndpoint
from tenure.channels.registry import ENTRY_POINT_GROUP
from tenure.config import EngagementConfig
from tenure.engagement.models import OutboxMessage, OutboxStatus
from tenure.engagement.policy import DELIVERABLE, ContactFacts, Decision, decide

# Messages the frequency cap counts: every one decided on and not given up (dead, cancelled).
COUNTED = tuple(
    s.value for s in OutboxStatus if s not in (OutboxStatus.DEAD, OutboxStatus.CANCELLED)
)
MESSAGES = {
    "opted_out": "the contact opted out of all messages",
    "channel_opted_out": "the contact opted out of {channel}",
    "frequency_cap": "the contact has had {cap} messages in {days} days (the frequency cap)",
    "no_channel": "no channel reaches the contact (no usable preference, no e-mail address "
    "or no enabled e-mail endpoint)",
}


class Blocked(Exception):
    """A message the delivery rules refuse; `reason` is a stable code, `message` says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def channel_kinds() -> frozenset[str]:
    """The channel kinds a message may name (built-in deliverable kinds and plugins)."""
    return frozenset(DELIVERABLE) | {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}


def facts(contact: Contact) -> ContactFacts:
    """What the policy needs to know of `contact`."""
    return ContactFacts(
        id=contact.id,
        email=contact.email,
        mobile=contact.phone,
        channel_preference=contact.channel_preference,
        format_preference=contact.format_preference,
        locale=contact.locale,
        timezone=contact.timezone,
        opted_out_all=bool(contact.opted_out_all),
        opt_out_channels=tuple(str(c) for c in (contact.opt_out_channels or [])),
    )


def available_kinds(session: Session, account_id: int) -> set[str]:
    """Channel kinds with an enabled endpoint for this account (its own or the team's)."""
    rows = session.scalars(
        select(ChannelEndpoint.kind)
        .where(
            ChannelEndpoint.enabled,
            (ChannelEndpoint.account_id == account_id) | ChannelEndpoint.account_id.is_(None),
        )
        .distinct()
    )
    return set(rows)


def sent_in_window(
    session: Session, config: EngagementConfig, contact_id: int, now: dt.datetime
) -> int:
    """Messages to the contact the frequency cap counts at `now`."""
    since = now - dt.timedelta(days=config.cap_window_days)
    count = session.scalar(
        select(func.count(OutboxMessage.id)).where(
            OutboxMessage.contact_id == contact_id,
            OutboxMessage.created_at >= since,
            OutboxMessage.status.in_(COUNTED),
        )
    )
    return int(count or 0)


def route(
    session: Session,
    config: EngagementConfig,
    contact: Contact,
    now: dt.datetime,
    channel: str | None = None,
) -> Decision:
    """The policy's decision for a message to `contact` now (`channel` forces a kind).

    Raises `Blocked` when it may not go; otherwise the decision names the channel and,
    in the contact's quiet hours, the time it may leave (`not_before`).
    """
    decision = decide(
        facts(contact),
        now=now,
        config=config,
        available=available_kinds(session, contact.account_id),
        sent_in_window=sent_in_window(session, config, contact.id, now),
        forced_channel=channel,
    )
    if decision.blocked is not None or decision.channel is None:
        reason = decision.blocked or "no_channel"
        text = MESSAGES.get(reason, reason).format(
            channel=channel or contact.channel_preference,
            cap=config.max_messages_per_contact,
            days=config.cap_window_days,
        )
        raise Blocked(reason, text)
    return decision


def recipient(contact: Contact) -> dict[str, Any]:
    """The recipient fields of a message to `contact` (what each channel needs)."""
    fields = {"name": contact.name, "email": contact.email, "mobile": contact.phone}
    return {key: value for key, value in fields.items() if value}
