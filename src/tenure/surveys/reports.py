"""Reading surveys back: invitations as the API, pages and CLI show them, and the NPS figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from tenure.accounts.models import Account, Contact
from tenure.engagement.outbox import utcnow
from tenure.feedback.models import NpsResponse
from tenure.kit.pagination import Page, check_choice, check_paging
from tenure.surveys.invitations import NPS, Invited
from tenure.surveys.models import SurveyInvitation
from tenure.surveys.schemas import InvitationRead, NpsSendResult, SkippedRead, SurveyStats

STATUSES = ("pending", "responded", "expired")
PROMOTER_MIN = 9
DETRACTOR_MAX = 6


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
