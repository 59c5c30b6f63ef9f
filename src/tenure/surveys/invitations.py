"""Sending NPS invitations and reminders, in the caller's session (flush only; caller commits)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from tenure.accounts.models import Account, Contact
from tenure.accounts.service import numeric_id
from tenure.channels.secrets import load_key
from tenure.config import EngagementConfig
from tenure.engagement.outbox import Draft, enqueue, utcnow
from tenure.engagement.policy import Decision
from tenure.errors import ResourceNotFound, TenureError
from tenure.surveys import delivery
from tenure.surveys.messages import INVITATION_TEMPLATE, REMINDER_TEMPLATE, render_message
from tenure.surveys.models import SurveyInvitation
from tenure.surveys.tokens import make_token, survey_key
from tenure.web.i18n import DEFAULT_LANGUAGE, normalize

NPS = "nps"


class InvalidSurvey(TenureError):
    """A send that names something unusable (an unknown channel, another account's contact)."""

    status_code = 422

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{key}: {msg}" for key, msg in problems))


@dataclass(frozen=True)
class Skipped:
    """A contact not invited: `reason` is a stable code, `message` says it in words."""

    contact_id: int
    contact_external_id: str
    reason: str
    message: str


class Invited(list[SurveyInvitation]):
    """The invitations created (this list), with the contacts `skipped` and why."""

    def __init__(
        self, invitations: Iterable[SurveyInvitation] = (), skipped: Iterable[Skipped] = ()
    ) -> None:
        super().__init__(invitations)
        self.skipped: list[Skipped] = list(skipped)


def survey_link(config: EngagementConfig, key: bytes, invitation: SurveyInvitation) -> str:
    """The link of an invitation: `<base_url>/s/<token>` (the same on every call)."""
    token = make_token(survey_key(key), invitation.id, invitation.nonce, invitation.expires_at)
    return f"{config.base_url.rstrip('/')}/s/{token}"


def resolve_contacts(session: Session, account_id: int, keys: Sequence[int | str]) -> list[int]:
    """Ids of the contacts named by id or external id, each of them of `account_id`."""
    found: list[int] = []
    problems: list[tuple[str, str]] = []
    for i, key in enumerate(keys):
        number = numeric_id(key)
        contact = session.get(Contact, number) if number is not None else None
        if contact is None:
            contact = session.scalar(select(Contact).where(Contact.external_id == str(key)))
        if contact is None:
            problems.append((f"contacts[{i}]", f"no contact has id or external id {key!r}"))
        elif contact.account_id != account_id:
            problems.append((f"contacts[{i}]", f"contact {key!r} belongs to another account"))
        elif contact.id not in found:
            found.append(contact.id)
    if problems:
        raise InvalidSurvey(problems)
    return found


def _pending(session: Session, contact_id: int, now: dt.datetime) -> SurveyInvitation | None:
    return session.scalar(
        select(SurveyInvitation)
        .where(
            SurveyInvitation.contact_id == contact_id,
            SurveyInvitation.survey == NPS,
            SurveyInvitation.responded_at.is_(None),
            SurveyInvitation.expires_at > now,
        )
        .order_by(SurveyInvitation.id.desc())
        .limit(1)
    )


def _route(
    session: Session,
    config: EngagementConfig,
    contact: Contact,
    channel: str | None,
    now: dt.datetime,
) -> Decision:
    """How the invitation goes, or `Blocked` (an open invitation, or a delivery rule)."""
    pending = _pending(session, contact.id, now)
    if pending is not None:
        raise delivery.Blocked(
            "pending",
            f"invitation {pending.id} is still open (until {pending.expires_at:%Y-%m-%d %H:%M})",
        )
    return delivery.route(session, config, contact, now, channel)


def server_key(key: bytes | None, home: Path | None) -> bytes:
    """The server key given, or the one of the home (`load_key`)."""
    if key is not None:
        return key
    if home is None:
        raise ValueError("pass the server key (key=) or the home folder holding it (home=)")
    return load_key(home)


def invite(
    session: Session,
    *,
    config: EngagementConfig,
    key: bytes | None = None,
    home: Path | None = None,
    account_id: int,
    contact_ids: Sequence[int] | None = None,
    channel: str | None = None,
    source: str,
    now: dt.datetime | None = None,
    run_id: int | None = None,
) -> Invited:
    """Invite contacts of an account (default: all of them) and queue one message each.

    `source` names what decided it (the outbox's `source`: `survey:api`, `survey:cli`,
    `playbook:<key>`). Contacts who opted out, cannot be reached, reached the frequency cap
    or hold an open invitation are skipped, each with its reason. `key` is the server key
    (or `home`, the folder holding it).
    """
    now = now or utcnow()
    key = server_key(key, home)
    if session.get(Account, account_id) is None:
        raise ResourceNotFound(f"no account has id {account_id}")
    if channel is not None and channel not in delivery.channel_kinds():
        known = ", ".join(sorted(delivery.channel_kinds()))
        raise InvalidSurvey([("channel", f"unknown channel {channel!r} (known: {known})")])
    if contact_ids is None:
        where: ColumnElement[bool] = Contact.account_id == account_id
    else:
        resolve_contacts(session, account_id, list(contact_ids))
        where = Contact.id.in_(list(contact_ids))
    contacts = session.scalars(select(Contact).where(where).order_by(Contact.id)).all()
    result = Invited()
    for contact in contacts:
        try:
            decision = _route(session, config, contact, channel, now)
        except delivery.Blocked as blocked:
            result.skipped.append(
                Skipped(contact.id, contact.external_id, blocked.reason, blocked.message)
            )
            continue
        result.append(_create(session, config, key, contact, decision, source, now, run_id))
    return result


def _create(
    session: Session,
    config: EngagementConfig,
    key: bytes,
    contact: Contact,
    decision: Decision,
    source: str,
    now: dt.datetime,
    run_id: int | None,
) -> SurveyInvitation:
    invitation = SurveyInvitation(
        nonce=secrets.token_hex(16),
        survey=NPS,
        account_id=contact.account_id,
        contact_id=contact.id,
        locale=normalize(contact.locale) or DEFAULT_LANGUAGE,
        channel=decision.channel,
        sent_at=now,
        expires_at=(now + dt.timedelta(days=config.survey_valid_days)).replace(microsecond=0),
        reminders_sent=0,
    )
    session.add(invitation)
    session.flush()
    _queue(session, config, key, invitation, contact, decision, source, run_id, reminder=0)
    return invitation


def _queue(
    session: Session,
    config: EngagementConfig,
    key: bytes,
    invitation: SurveyInvitation,
    contact: Contact,
    decision: Decision,
    source: str,
    run_id: int | None,
    *,
    reminder: int,
) -> None:
    assert decision.channel is not None  # `delivery.route` raised otherwise
    link = survey_link(config, key, invitation)
    template = REMINDER_TEMPLATE if reminder else INVITATION_TEMPLATE
    links = {"survey": link}
    message = render_message(
        session, template, account_id=invitation.account_id, contact_id=contact.id,
        links=links, locale=invitation.locale,
    )  # fmt: skip
    idempotency = f"survey:{invitation.id}" + (f":reminder:{reminder}" if reminder else "")
    enqueue(
        session,
        Draft(
            source=source[:100],
            channel=decision.channel,
            subject=message.subject,
            text=message.text,
            html=message.html,
            recipient=delivery.recipient(contact),
            account_id=invitation.account_id,
            contact_id=contact.id,
            locale=invitation.locale,
            template_key=template,
            links=links,
            run_id=run_id,
            idempotency_key=idempotency,
            not_before=decision.not_before,
        ),
    )


def send_reminders(
    session: Session,
    config: EngagementConfig,
    now: dt.datetime,
    *,
    key: bytes | None = None,
    home: Path | None = None,
) -> int:
    """Queue a reminder to each non-respondent whose last message is `survey_reminder_days`
    old, while the link is valid, up to `survey_max_reminders`; returns how many."""
    due = now - dt.timedelta(days=config.survey_reminder_days)
    last = func.coalesce(SurveyInvitation.last_reminded_at, SurveyInvitation.sent_at)
    invitations = session.scalars(
        select(SurveyInvitation)
        .where(
            SurveyInvitation.responded_at.is_(None),
            SurveyInvitation.expires_at > now,
            SurveyInvitation.reminders_sent < config.survey_max_reminders,
            SurveyInvitation.contact_id.is_not(None),
            last <= due,
        )
        .order_by(SurveyInvitation.id)
    ).all()
    key = server_key(key, home)
    sent = 0
    for invitation in invitations:
        contact = session.get(Contact, invitation.contact_id)
        if contact is None:
            continue
        try:
            decision = _reminder_route(session, config, contact, invitation.channel, now)
        except delivery.Blocked:
            continue  # opted out since, or capped: tried again on the next run
        number = invitation.reminders_sent + 1
        _queue(
            session, config, key, invitation, contact, decision, "survey:reminder", None,
            reminder=number,
        )  # fmt: skip
        invitation.reminders_sent = number
        invitation.last_reminded_at = now
        sent += 1
    session.flush()
    return sent


def _reminder_route(
    session: Session,
    config: EngagementConfig,
    contact: Contact,
    first: str | None,
    now: dt.datetime,
) -> Decision:
    """The invitation's channel while the contact may still be reached on it, else the
    channel the policy chooses now."""
    if first is not None:
        try:
            return delivery.route(session, config, contact, now, first)
        except delivery.Blocked as blocked:
            if blocked.reason in ("opted_out", "frequency_cap"):
                raise
    return delivery.route(session, config, contact, now)
