"""Recording the answer given through a survey link: the invitation's one NPS response."""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenure.errors import ResourceNotFound
from tenure.feedback.models import NpsResponse
from tenure.surveys.invitations import InvalidSurvey, server_key
from tenure.surveys.models import SurveyInvitation
from tenure.surveys.tokens import TokenClaims, read_token, survey_key

MAX_COMMENT = 5000


class InvalidAnswer(InvalidSurvey):
    """An answer outside the question's range, or a comment that cannot be stored."""


class InvitationNotFound(ResourceNotFound):
    """A well-signed link whose invitation is gone (deleted, or replaced under its id)."""


@dataclass(frozen=True)
class Answer:
    """The NPS response an answer wrote, and whether it replaced an earlier answer."""

    invitation: SurveyInvitation
    response: NpsResponse
    updated: bool


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
