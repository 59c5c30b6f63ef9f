"""NPS invitations: sending them, recording the answers, reminding, and counting.

Every function works in the caller's session and only flushes; the caller commits, so an
invitation and its outbox message are saved together or not at all. `key` is always the
server's key (`tenure.channels.secrets.load_key`); the survey signing key is derived from it.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenure.accounts.models import Account, Contact
from tenure.accounts.service import numeric_id
from tenure.channels.secrets import load_key
from tenure.config import EngagementConfig
from tenure.engagement.outbox import Draft, enqueue, utcnow
from tenure.engagement.policy import Decision
from tenure.errors import ResourceNotFound, TenureError
from tenure.feedback.models import NpsResponse
from tenure.kit.pagination import Page, check_choice, check_paging
from tenure.surveys import delivery
from tenure.surveys.messages import INVITATION_TEMPLATE, REMINDER_TEMPLATE, render_message
from tenure.surveys.models import SurveyInvitation
from tenure.surveys.schemas import InvitationRead, NpsSendResult, SkippedRead, SurveyStats
from tenure.surveys.tokens import TokenClaims, make_token, read_token, survey_key
from tenure.web.i18n import DEFAULT_LANGUAGE, normalize

NPS = "nps"
STATUSES = ("pending", "responded", "expired")
MAX_COMMENT = 5000
PROMOTER_MIN = 9
DETRACTOR_MAX = 6


class InvalidSurvey(TenureError):
    """A send that names something unusable (an unknown channel, another account's contact)."""

    status_code = 422

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{key}: {msg}" for key, msg in problems))


class InvalidAnswer(InvalidSurvey):
    """An answer outside the question's range, or a comment that cannot be stored."""


class InvitationNotFound(ResourceNotFound):
    """A well-signed link whose invitation is gone (deleted, or replaced under its id)."""


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


@dataclass(frozen=True)
class Answer:
    """The NPS response an answer wrote, and whether it replaced an earlier answer."""

    invitation: SurveyInvitation
    response: NpsResponse
    updated: bool


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


def open_invitation(
    session: Session, token: str, now: dt.datetime, *, key: bytes
) -> tuple[SurveyInvitation, TokenClaims]:
    """The invitation a link names; `InvalidToken` or `InvitationNotFound` when it cannot."""
    claims = read_token(survey_key(key), token, now)
    invitation = session.get(SurveyInvitation, claims.invitation_id)
    if invitation is None or not hmac.compare_digest(invitation.nonce, claims.nonce):
        raise InvitationNotFound("no survey invitation matches this link")
    return invitation, claims


def check_answer(score: object, comment: str | None) -> tuple[int, str | None]:
    """The score (a whole number 0-10) and the comment (trimmed, None when empty), or raise."""
    problems = []
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        problems.append(("score", "the score must be a whole number from 0 to 10"))
    text = (comment or "").strip() or None
    if text is not None and len(text) > MAX_COMMENT:
        problems.append(
            ("comment", f"the comment has {len(text)} characters; at most {MAX_COMMENT}")
        )
    if text is not None and "\x00" in text:
        problems.append(("comment", "the comment must not contain NUL characters"))
    if problems:
        raise InvalidAnswer(problems)
    assert isinstance(score, int)
    return score, text


def record_answer(
    session: Session,
    token: str,
    score: int,
    comment: str | None,
    now: dt.datetime,
    *,
    key: bytes | None = None,
    home: Path | None = None,
) -> Answer:
    """Record the answer given through a link: the invitation's one NPS response.

    A first answer creates the `nps_responses` row `survey:<invitation id>` (so the NPS
    features and the `nps_drop` rule count it); a later one, while the link is valid,
    updates that row (score, comment, time). Raises `InvalidToken`, `InvitationNotFound`
    or `InvalidAnswer`.
    """
    invitation, _ = open_invitation(session, token, now, key=server_key(key, home))
    score, text = check_answer(score, comment)
    external_id = f"survey:{invitation.id}"
    response = None
    if invitation.nps_response_id is not None:
        response = session.get(NpsResponse, invitation.nps_response_id)
    if response is None:
        response = session.scalar(select(NpsResponse).where(NpsResponse.external_id == external_id))
    updated = response is not None
    fields = {"contact_id": invitation.contact_id, "score": score, "comment": text,
              "responded_at": now.replace(microsecond=0)}  # fmt: skip
    if response is None:
        try:
            # Two first answers at once (a double submit): the second one's insert fails
            # on the external id inside its savepoint and it updates the first's row.
            with session.begin_nested():
                response = NpsResponse(
                    external_id=external_id, account_id=invitation.account_id, **fields
                )
                session.add(response)
                session.flush()
        except IntegrityError:
            response = session.scalars(
                select(NpsResponse).where(NpsResponse.external_id == external_id)
            ).one()
            updated = True
    for name, value in fields.items():
        setattr(response, name, value)
    session.flush()
    invitation.nps_response_id = response.id
    if invitation.responded_at is None:
        invitation.responded_at = response.responded_at
    session.flush()
    return Answer(invitation=invitation, response=response, updated=updated)


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


def _status_filter(status: str, now: dt.datetime) -> ColumnElement[bool]:
    if status == "responded":
        return SurveyInvitation.responded_at.is_not(None)
    open_ = SurveyInvitation.responded_at.is_(None)
    if status == "expired":
        return and_(open_, SurveyInvitation.expires_at <= now)
    return and_(open_, SurveyInvitation.expires_at > now)


def status_of(invitation: SurveyInvitation, now: dt.datetime) -> str:
    """pending, responded or expired."""
    if invitation.responded_at is not None:
        return "responded"
    return "expired" if invitation.expires_at <= now else "pending"


def invitation_reads(
    session: Session, invitations: Sequence[SurveyInvitation], now: dt.datetime
) -> list[InvitationRead]:
    """The API's view of `invitations` (account, contact and answer joined)."""
    out = []
    for inv in invitations:
        account = session.get(Account, inv.account_id)
        contact = session.get(Contact, inv.contact_id) if inv.contact_id else None
        answer = session.get(NpsResponse, inv.nps_response_id) if inv.nps_response_id else None
        out.append(
            InvitationRead(
                id=inv.id, survey=inv.survey, account_id=inv.account_id,
                account_external_id=account.external_id if account else "",
                contact_id=inv.contact_id,
                contact_external_id=contact.external_id if contact else None,
                contact_name=contact.name if contact else None,
                locale=inv.locale, channel=inv.channel, status=status_of(inv, now),
                sent_at=inv.sent_at, expires_at=inv.expires_at,
                reminders_sent=inv.reminders_sent, last_reminded_at=inv.last_reminded_at,
                responded_at=inv.responded_at,
                score=answer.score if answer else None,
                comment=answer.comment if answer else None,
            )
        )  # fmt: skip
    return out


def send_result(session: Session, result: Invited, now: dt.datetime) -> NpsSendResult:
    """The invitations and skipped contacts of a send, as the API and CLI show them."""
    return NpsSendResult(
        invitations=invitation_reads(session, result, now),
        skipped=[
            SkippedRead(
                contact_id=s.contact_id,
                contact_external_id=s.contact_external_id,
                reason=s.reason,
                message=s.message,
            )
            for s in result.skipped
        ],
    )


def list_invitations(
    session: Session,
    *,
    account_id: int | None = None,
    status: str | None = None,
    now: dt.datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[InvitationRead]:
    """Invitations, newest first, optionally of one account and in one status."""
    now = now or utcnow()
    check_paging(limit, offset)
    where: list[ColumnElement[bool]] = []
    if account_id is not None:
        where.append(SurveyInvitation.account_id == account_id)
    if status is not None:
        where.append(_status_filter(check_choice("status", status, STATUSES), now))
    total = session.scalar(select(func.count(SurveyInvitation.id)).where(*where)) or 0
    rows = session.scalars(
        select(SurveyInvitation)
        .where(*where)
        .order_by(SurveyInvitation.sent_at.desc(), SurveyInvitation.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    items = invitation_reads(session, rows, now)
    return Page[InvitationRead](items=items, total=total, limit=limit, offset=offset)


def survey_stats(
    session: Session,
    account_id: int | None = None,
    *,
    since: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> SurveyStats:
    """Invitations sent (since `since`), answered, pending, expired; the NPS of the answers."""
    now = now or utcnow()
    where: list[ColumnElement[bool]] = [SurveyInvitation.survey == NPS]
    if account_id is not None:
        where.append(SurveyInvitation.account_id == account_id)
    if since is not None:
        where.append(SurveyInvitation.sent_at >= since)

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    answered = SurveyInvitation.responded_at.is_not(None)
    row = session.execute(
        select(
            func.count(SurveyInvitation.id),
            count(answered),
            count(_status_filter("pending", now)),
            count(_status_filter("expired", now)),
            count(and_(answered, NpsResponse.score >= PROMOTER_MIN)),
            count(and_(answered, NpsResponse.score <= DETRACTOR_MAX)),
            count(and_(answered, NpsResponse.id.is_not(None))),
        )
        .select_from(SurveyInvitation)
        .outerjoin(NpsResponse, NpsResponse.id == SurveyInvitation.nps_response_id)
        .where(*where)
    ).one()
    sent, responded, pending, expired, promoters, detractors, scored = (int(v) for v in row)
    return SurveyStats(
        account_id=account_id,
        sent=sent,
        responded=responded,
        pending=pending,
        expired=expired,
        response_rate=round(responded / sent, 4) if sent else None,
        promoters=promoters,
        passives=scored - promoters - detractors,
        detractors=detractors,
        nps=round((promoters - detractors) * 100.0 / scored, 1) if scored else None,
    )
