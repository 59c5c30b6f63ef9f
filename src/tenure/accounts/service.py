"""Reading accounts: the filtered, sorted account list and one account's full picture."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, or_, select
from sqlalchemy.orm import Session

from tenure.accounts.models import Account, AccountStatus, Contact, ContactRole, User
from tenure.accounts.schemas import (
    HEALTH_BAND_RANGES,
    HEALTH_BANDS,
    QUADRANT_LABELS,
    STAGE_LABELS,
    AccountAlert,
    AccountDetail,
    AccountSummary,
    ContactRead,
    InteractionRead,
    NpsRead,
    SubscriptionRead,
    TicketStats,
    TrendPoint,
)
from tenure.accounts.summary import SummaryQuery, summary_fields
from tenure.commerce.models import Subscription, SubscriptionStatus
from tenure.errors import ResourceNotFound
from tenure.feedback.models import Interaction, NpsResponse, Ticket
from tenure.kit.pagination import DEFAULT_LIMIT, Page, check_choice, check_paging, parse_sort
from tenure.risk.models import Alert, is_open
from tenure.scoring.models import ScoreSnapshot

ACCOUNT_SORT_KEYS: tuple[str, ...] = (
    "name",
    "health_score",
    "value_score",
    "arr",
    "health_change",
    "open_alerts",
)
ACCOUNT_STATUSES: tuple[str, ...] = tuple(s.value for s in AccountStatus)
SNAPSHOT_SORT_KEYS = frozenset({"health_score", "value_score", "health_change"})
TREND_POINTS = 12
MAX_ID = 2_147_483_647  # ids are INTEGER columns: PostgreSQL refuses a larger number
RECENT_INTERACTIONS = 20


def numeric_id(key: int | str) -> int | None:
    """`key` as an id when it is a number an id column can hold ("²" or 30 digits is not)."""
    if isinstance(key, int):
        return key if 0 < key <= MAX_ID else None
    digits = key.isascii() and key.isdigit() and len(key) <= len(str(MAX_ID))
    return int(key) if digits and int(key) <= MAX_ID else None


def resolve_account_id(session: Session, key: int | str) -> int:
    """Id of the account named by `key`: its numeric id, else its external id."""
    number = numeric_id(key)
    if number is not None:
        found = session.scalar(select(Account.id).where(Account.id == number))
        if found is not None:
            return found
    if isinstance(key, int):
        raise ResourceNotFound(f"no account has id {key}")
    found = session.scalar(select(Account.id).where(Account.external_id == key))
    if found is None:
        # Digits that could be an id (BIGINT-sized) are named as both; longer ones cannot.
        looks_like_id = number is not None or (key.isascii() and key.isdigit() and len(key) <= 18)
        what = "id or external id" if looks_like_id else "external id"
        raise ResourceNotFound(f"no account has {what} {key!r}")
    return found


def resolve_user_id(session: Session, key: str) -> int:
    """Id of the user whose external id or e-mail address (any case) is `key`."""
    found = session.scalar(
        select(User.id).where(or_(User.external_id == key, func.lower(User.email) == key.lower()))
    )
    if found is None:
        raise ResourceNotFound(f"no user has external id or e-mail {key!r}")
    return found


def list_accounts(
    session: Session,
    *,
    quadrant: str | None = None,
    stage: str | None = None,
    health_band: str | None = None,
    owner: str | None = None,
    at_risk: bool | None = None,
    status: str | None = None,
    search: str | None = None,
    sort: str = "health_score",
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[AccountSummary]:
    """Accounts with their latest scores, filtered, sorted (nulls last) and paged."""
    check_paging(limit, offset)
    key, descending = parse_sort(sort, ACCOUNT_SORT_KEYS)
    query = SummaryQuery()
    snap = query.latest.c  # the list columns of each account's latest snapshot
    where: list[ColumnElement[bool]] = []
    if quadrant is not None:
        where.append(snap.quadrant == check_choice("quadrant", quadrant, QUADRANT_LABELS))
    if stage is not None:
        where.append(snap.lifecycle_stage == check_choice("stage", stage, STAGE_LABELS))
    if health_band is not None:
        low, high = HEALTH_BAND_RANGES[check_choice("health_band", health_band, HEALTH_BANDS)]
        if low is not None:
            where.append(snap.health_score >= low)
        if high is not None:
            where.append(snap.health_score < high)
    uses_snapshot = bool(where)
    if at_risk is not None:
        where.append(query.open_alerts > 0 if at_risk else query.open_alerts == 0)
    if owner is not None:
        where.append(Account.owner_id == resolve_user_id(session, owner))
    if status is not None:
        where.append(Account.status == check_choice("status", status, ACCOUNT_STATUSES))
    if search:
        needle = search.lower()
        where.append(
            or_(
                func.lower(Account.name).contains(needle, autoescape=True),
                func.lower(Account.external_id).contains(needle, autoescape=True),
            )
        )
    # A few statements whatever the size of the book: the count and the page's ids join only
    # the parts their filters and sort key read; the page's rows are then read for those ids.
    reads_alerts = at_risk is not None
    counted = query.join(
        select(func.count(Account.id)),
        snapshot=False,
        latest=uses_snapshot,
        alerts=reads_alerts,
        arr=False,
    )
    column = query.sort_column(key)
    direction = column.desc() if descending else column.asc()
    if key in SNAPSHOT_SORT_KEYS and not where:
        # No filter, a score as the key: nulls last in two reads the indexes serve, the
        # scored accounts straight from the latest_scores index on the key (ties by account
        # id, the index's own order), then the unscored ones by id. A deep page walks an
        # index instead of sorting the whole book.
        scored_rows = select(query.latest.c.account_id).where(column.is_not(None))
        scored = session.scalar(select(func.count()).select_from(scored_rows.subquery())) or 0
        order = [direction, query.latest.c.account_id]
        ids = list(session.scalars(scored_rows.order_by(*order).limit(limit).offset(offset)))
        total = session.scalar(counted) or 0
        if len(ids) < limit and total > scored:
            unscored = query.join(select(Account.id), snapshot=False, latest=True, alerts=False,
                                  arr=False)  # fmt: skip
            ids += session.scalars(
                unscored.where(column.is_(None))
                .order_by(Account.id)
                .limit(limit - len(ids))
                .offset(max(offset - scored, 0))
            ).all()
    elif key == "arr" and descending and not where:
        # Largest accounts first, unfiltered: page the per-account sums of active ARR
        # alone (no join to every account), then the accounts without any, by id.
        positive = (
            select(Subscription.account_id, func.sum(Subscription.arr).label("arr"))
            .where(Subscription.status == SubscriptionStatus.ACTIVE.value)
            .group_by(Subscription.account_id)
            .having(func.sum(Subscription.arr) > 0)
            .subquery("positive_arr")
        )
        ids = list(
            session.scalars(
                select(positive.c.account_id)
                .order_by(positive.c.arr.desc(), positive.c.account_id)
                .limit(limit)
                .offset(offset)
            )
        )
        total = session.scalar(counted) or 0
        if len(ids) < limit:  # past the accounts with ARR: the others, by id
            with_arr = session.scalar(select(func.count()).select_from(positive)) or 0
            ids += session.scalars(
                select(Account.id)
                .where(Account.id.not_in(select(positive.c.account_id)))
                .order_by(Account.id)
                .limit(limit - len(ids))
                .offset(max(offset - with_arr, 0))
            ).all()
    else:
        # The page's ids and the number of matches in one pass: a search scans the names
        # once, not once to count and again to page.
        counted_here = bool(where)  # unfiltered, the separate count is an index count
        found = session.execute(
            query.join(
                select(Account.id, func.count().over().label("total"))
                if counted_here
                else select(Account.id, literal(0).label("total")),
                snapshot=False,
                latest=uses_snapshot or key in SNAPSHOT_SORT_KEYS,
                alerts=reads_alerts or key == "open_alerts",
                arr=key == "arr",
            )
            .where(*where)
            .order_by(column.is_(None), direction, Account.id)
            .limit(limit)
            .offset(offset)
        ).all()
        ids = [r.id for r in found]
        if counted_here and found:
            total = found[0].total
        else:
            total = session.scalar(counted.where(*where)) or 0
    rows: dict[int, Any] = {}
    if ids:
        page = SummaryQuery(ids)
        rows = {r.id: r for r in session.execute(page.rows().where(Account.id.in_(ids)))}
    return Page[AccountSummary](
        items=[AccountSummary.model_validate(summary_fields(rows[i])) for i in ids],
        total=total,
        limit=limit,
        offset=offset,
    )


def get_account(
    session: Session,
    key: int | str,
    *,
    trend_points: int = TREND_POINTS,
    interactions: int = RECENT_INTERACTIONS,
) -> AccountDetail:
    """One account by numeric id or external id, with scores, alerts, timeline and contracts."""
    account_id = resolve_account_id(session, key)
    snap = ScoreSnapshot
    stmt = SummaryQuery([account_id]).rows(
        Account.size,
        Account.employees,
        Account.churn_date,
        Account.churn_reason,
        Account.industry_influence,
        Account.innovation_synergy,
        Account.growth_potential,
        Account.strategic_goal,
        Account.attributes,
        snap.health_breakdown,
        snap.value_breakdown,
        snap.features,
        snap.rfm_recency,
        snap.rfm_frequency,
        snap.rfm_monetary,
    )
    row = session.execute(stmt.where(Account.id == account_id)).one()
    rfm = None
    if row.rfm_code is not None:
        rfm = {
            "recency": row.rfm_recency,
            "frequency": row.rfm_frequency,
            "monetary": row.rfm_monetary,
            "code": row.rfm_code,
        }
    return AccountDetail.model_validate(
        {
            **summary_fields(row),
            "size": row.size,
            "employees": row.employees,
            "churn_date": row.churn_date,
            "churn_reason": row.churn_reason,
            "industry_influence": row.industry_influence,
            "innovation_synergy": row.innovation_synergy,
            "growth_potential": row.growth_potential,
            "strategic_goal": row.strategic_goal,
            "attributes": row.attributes or {},
            "health_breakdown": row.health_breakdown or {},
            "value_breakdown": row.value_breakdown or {},
            "features": row.features or {},
            "rfm": rfm,
            "health_trend": _health_trend(session, account_id, trend_points),
            "alerts": _open_alerts(session, account_id),
            "recent_interactions": _recent_interactions(session, account_id, interactions),
            "contacts": _contacts(session, account_id),
            "subscriptions": _subscriptions(session, account_id),
            "tickets": _ticket_stats(session, account_id),
            "last_nps": _last_nps(session, account_id),
        }
    )


def _health_trend(session: Session, account_id: int, points: int) -> list[TrendPoint]:
    rows = session.execute(
        select(ScoreSnapshot.as_of, ScoreSnapshot.health_score, ScoreSnapshot.value_score)
        .where(ScoreSnapshot.account_id == account_id)
        .order_by(ScoreSnapshot.as_of.desc())
        .limit(points)
    ).all()
    return [TrendPoint.model_validate(r) for r in reversed(rows)]


def _open_alerts(session: Session, account_id: int) -> list[AccountAlert]:
    alerts = session.scalars(
        select(Alert)
        .where(Alert.account_id == account_id, is_open())
        .order_by(Alert.severity_rank.desc(), Alert.opened_as_of.desc(), Alert.id)
    ).all()
    return [AccountAlert.model_validate(a) for a in alerts]


def _recent_interactions(session: Session, account_id: int, limit: int) -> list[InteractionRead]:
    rows = session.execute(
        select(
            Interaction.id,
            Interaction.occurred_at,
            Interaction.channel,
            Interaction.direction,
            Interaction.type,
            Interaction.summary,
            Interaction.sentiment,
            Contact.name.label("contact_name"),
            User.name.label("user_name"),
        )
        .outerjoin(Contact, Contact.id == Interaction.contact_id)
        .outerjoin(User, User.id == Interaction.user_id)
        .where(Interaction.account_id == account_id)
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
        .limit(limit)
    ).all()
    return [InteractionRead.model_validate(r) for r in rows]


def _contacts(session: Session, account_id: int) -> list[ContactRead]:
    role_rank = case(
        {role.value: i for i, role in enumerate(ContactRole)}, value=Contact.role, else_=99
    )
    contacts = session.scalars(
        select(Contact).where(Contact.account_id == account_id).order_by(role_rank, Contact.name)
    ).all()
    return [ContactRead.model_validate(c) for c in contacts]


def _subscriptions(session: Session, account_id: int) -> list[SubscriptionRead]:
    subscriptions = session.scalars(
        select(Subscription)
        .where(Subscription.account_id == account_id)
        .order_by(Subscription.end_date.is_not(None), Subscription.end_date.desc(), Subscription.id)
    ).all()
    return [SubscriptionRead.model_validate(s) for s in subscriptions]


def _ticket_stats(session: Session, account_id: int) -> TicketStats:
    row = session.execute(
        select(
            func.count().label("total"),
            func.coalesce(func.sum(case((Ticket.resolved_at.is_(None), 1), else_=0)), 0),
            func.coalesce(func.sum(case((Ticket.is_complaint, 1), else_=0)), 0),
            func.max(Ticket.opened_at),
        ).where(Ticket.account_id == account_id)
    ).one()
    return TicketStats(total=row[0], open=row[1], complaints=row[2], last_opened_at=row[3])


def _last_nps(session: Session, account_id: int) -> NpsRead | None:
    answer = session.scalars(
        select(NpsResponse)
        .where(NpsResponse.account_id == account_id)
        .order_by(NpsResponse.responded_at.desc(), NpsResponse.id.desc())
        .limit(1)
    ).first()
    return NpsRead.model_validate(answer) if answer is not None else None
