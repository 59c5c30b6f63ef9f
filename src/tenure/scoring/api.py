"""REST endpoints of score snapshots: one account's history, and every account on a date."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from tenure.accounts.api import Limit, Offset, Since, Until
from tenure.accounts.models import Account
from tenure.accounts.schemas import (
    HEALTH_BAND_RANGES,
    HEALTH_BANDS,
    QUADRANT_LABELS,
    STAGE_LABELS,
    health_band,
)
from tenure.accounts.service import resolve_account_id
from tenure.auth.deps import require_principal
from tenure.kit.deps import SessionDep
from tenure.kit.pagination import DEFAULT_LIMIT, Page, check_choice, check_paging, parse_sort
from tenure.scoring.models import ScoreSnapshot
from tenure.scoring.schemas import ScorePage, ScoreRead

HISTORY_SORT_KEYS = ("as_of", "health_score", "value_score")
DATE_SORT_KEYS = ("health_score", "value_score", "health_change", "account_name")


def _rows(stmt: Select, session: Session, order: list[Any], limit: int, offset: int) -> list[Any]:
    return list(session.execute(stmt.order_by(*order).limit(limit).offset(offset)).all())


def _to_read(row: Any) -> ScoreRead:
    snap: ScoreSnapshot = row[0]
    values = {k: getattr(snap, k) for k in ScoreRead.model_fields if hasattr(snap, k)}
    values.update(
        account_external_id=row.external_id,
        account_name=row.name,
        health_band=health_band(snap.health_score),
        health_breakdown=snap.health_breakdown or {},
        value_breakdown=snap.value_breakdown or {},
        features=snap.features or {},
    )
    return ScoreRead.model_validate(values)


def _order(sort: str, allowed: tuple[str, ...]) -> list[Any]:
    key, descending = parse_sort(sort, allowed)
    column: Any = func.lower(Account.name) if key == "account_name" else getattr(ScoreSnapshot, key)
    return [column.is_(None), column.desc() if descending else column.asc(), ScoreSnapshot.id]


def _select(*where: ColumnElement[bool]) -> Select:
    return (
        select(ScoreSnapshot, Account.external_id, Account.name)
        .join(Account, Account.id == ScoreSnapshot.account_id)
        .where(*where)
    )


def account_scores(
    session: Session,
    key: str,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    sort: str = "-as_of",
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[ScoreRead]:
    """Snapshots of one account (id or external id), newest first by default."""
    check_paging(limit, offset)
    order = _order(sort, HISTORY_SORT_KEYS)
    where = [ScoreSnapshot.account_id == resolve_account_id(session, key)]
    if since is not None:
        where.append(ScoreSnapshot.as_of >= since)
    if until is not None:
        where.append(ScoreSnapshot.as_of <= until)
    total = session.scalar(select(func.count(ScoreSnapshot.id)).where(*where)) or 0
    rows = _rows(_select(*where), session, order, limit, offset)
    return Page[ScoreRead](
        items=[_to_read(r) for r in rows], total=total, limit=limit, offset=offset
    )


def scores_of_date(
    session: Session,
    *,
    as_of: dt.date | None = None,
    quadrant: str | None = None,
    stage: str | None = None,
    band: str | None = None,
    sort: str = "health_score",
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> ScorePage:
    """Every account's snapshot of `as_of` (the latest scored date by default), filtered."""
    check_paging(limit, offset)
    order = _order(sort, DATE_SORT_KEYS)
    if as_of is None:
        as_of = session.scalar(select(func.max(ScoreSnapshot.as_of)))
    snap = ScoreSnapshot
    where: list[ColumnElement[bool]] = [snap.as_of == as_of]
    if quadrant is not None:
        where.append(snap.quadrant == check_choice("quadrant", quadrant, QUADRANT_LABELS))
    if stage is not None:
        where.append(snap.lifecycle_stage == check_choice("stage", stage, STAGE_LABELS))
    if band is not None:
        low, high = HEALTH_BAND_RANGES[check_choice("health_band", band, HEALTH_BANDS)]
        where += [snap.health_score >= low] if low is not None else []
        where += [snap.health_score < high] if high is not None else []
    total = session.scalar(select(func.count(snap.id)).where(*where)) or 0
    rows = _rows(_select(*where), session, order, limit, offset) if as_of else []
    return ScorePage(
        items=[_to_read(r) for r in rows], total=total, limit=limit, offset=offset, as_of=as_of
    )


router = APIRouter(tags=["scores"], dependencies=[Depends(require_principal)])


@router.get("/accounts/{key}/scores", response_model=Page[ScoreRead])
def list_account_scores(
    session: SessionDep,
    key: str,
    since: Since = None,
    until: Until = None,
    sort: str = "-as_of",
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[ScoreRead]:
    """List one account's score snapshots (by id or external id), newest first."""
    return account_scores(
        session, key, since=since, until=until, sort=sort, limit=limit, offset=offset
    )


@router.get("/scores", response_model=ScorePage)
def list_scores(
    session: SessionDep,
    as_of: Annotated[
        dt.date | None, Query(description="scoring date; the latest scored date when left out")
    ] = None,
    quadrant: str | None = None,
    stage: str | None = None,
    health_band: str | None = None,
    sort: str = "health_score",
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> ScorePage:
    """List every account's score snapshot of one date, filtered by quadrant, stage or band."""
    return scores_of_date(
        session, as_of=as_of, quadrant=quadrant, stage=stage, band=health_band,
        sort=sort, limit=limit, offset=offset,
    )  # fmt: skip
