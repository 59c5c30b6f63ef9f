"""REST endpoints of surveys (see docs/surveys.md)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from tenure.accounts.api import AccountKey, Limit, Offset
from tenure.accounts.models import Account, Role
from tenure.accounts.service import resolve_account_id
from tenure.accounts.writes import Forbidden
from tenure.auth.audit import record
from tenure.auth.deps import CurrentPrincipal, Principal, require_principal
from tenure.errors import ResourceNotFound
from tenure.kit.deps import RuntimeDep, SessionDep
from tenure.kit.pagination import DEFAULT_LIMIT, Page
from tenure.surveys.invitations import InvalidSurvey, invite, resolve_contacts
from tenure.surveys.reports import STATUSES, list_invitations, send_result, survey_stats
from tenure.surveys.schemas import InvitationRead, NpsSend, NpsSendResult, SurveyStats

router = APIRouter(tags=["surveys"], dependencies=[Depends(require_principal)])

Status = Annotated[str | None, Query(description=f"one of {', '.join(STATUSES)}")]


def authorize_send(principal: Principal, account: Account) -> None:
    """Admins and managers survey any account, a csm only the accounts they own."""
    if principal.can_write_account(account):
        return
    if principal.role == Role.CSM.value:
        raise Forbidden(
            "a csm may send surveys only to the accounts they own; "
            f"account {account.external_id!r} is not theirs"
        )
    raise Forbidden(
        f"role {principal.role} may not send surveys (needs admin, manager or the owning csm)"
    )


@router.post("/surveys/nps/send", response_model=NpsSendResult)
def send_nps(
    session: SessionDep, runtime: RuntimeDep, principal: CurrentPrincipal, body: NpsSend
) -> NpsSendResult:
    """Invite an account's contacts to the NPS survey; one message each through the outbox."""
    try:
        account = session.get_one(Account, resolve_account_id(session, body.account))
    except ResourceNotFound as exc:
        raise InvalidSurvey([("account", exc.message)]) from None
    authorize_send(principal, account)
    contact_ids = (
        resolve_contacts(session, account.id, body.contacts) if body.contacts is not None else None
    )
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    result = invite(
        session,
        config=runtime.config.engagement,
        home=runtime.settings.home,
        account_id=account.id,
        contact_ids=contact_ids,
        channel=body.channel,
        source="survey:api",
        now=now,
    )
    record(
        session, actor=principal, action="survey.send", entity="account", entity_id=account.id,
        after={
            "invitations": [i.id for i in result],
            "skipped": {str(s.contact_id): s.reason for s in result.skipped},
        },
    )  # fmt: skip
    return send_result(session, result, now)


@router.get("/surveys/invitations", response_model=Page[InvitationRead])
def list_survey_invitations(
    session: SessionDep,
    account: AccountKey = None,
    status: Status = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[InvitationRead]:
    """List survey invitations, newest first, optionally of one account and one status."""
    account_id = resolve_account_id(session, account) if account is not None else None
    return list_invitations(
        session, account_id=account_id, status=status, limit=limit, offset=offset
    )


@router.get("/surveys/nps/stats", response_model=SurveyStats)
def nps_stats(
    session: SessionDep,
    account: AccountKey = None,
    since: Annotated[dt.date | None, Query(description="invitations sent from this day")] = None,
) -> SurveyStats:
    """Invitations sent and answered, the response rate and the NPS of the answers."""
    account_id = resolve_account_id(session, account) if account is not None else None
    start = dt.datetime.combine(since, dt.time()) if since is not None else None
    return survey_stats(session, account_id, since=start)
