"""Delivering the outbox: claim due messages, send each through its channel, record the outcome.

1. **Claim** (one short transaction): messages that are `queued` or `failed` with
   `next_attempt_at <= now`, or `sending` whose `lease_until` has passed (a dispatcher died
   holding them), become `sending` with `lease_until = now + lease` and one more attempt.
   PostgreSQL picks them with `SELECT … FOR UPDATE SKIP LOCKED`, so concurrent dispatchers
   take disjoint sets; SQLite claims in one `UPDATE … WHERE id IN (<due ids>) AND <due>
   RETURNING id`, which runs under its single write lock and keeps only the rows changed.
2. **Send** each message, one at a time, through its endpoint's plugin. Before a send the
   lease is renewed when less than half of it is left, guarded by the attempt number: a
   claim another dispatcher took over after the lease ran out is skipped, never sent twice.
3. **Record** each outcome in its own transaction: `sent` (and an `interactions` row on the
   account timeline), `failed` with exponential back-off, or `dead`.

A dispatcher killed between a receiver's acknowledgement and step 3 leaves the message
`sending`; once the lease passes it is sent again with the same idempotency key, so a
receiver honouring the key drops the repeat (at least once, never silently lost).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ColumnElement, CursorResult, Update, and_, func, or_, select, update
from sqlalchemy.orm import Session

from tenure.accounts.models import Account
from tenure.accounts.service import resolve_account_id
from tenure.auth import audit
from tenure.channels import service as channel_service
from tenure.channels.base import ChannelPlugin, Delivery, DeliveryError, Message, Recipient
from tenure.channels.models import ChannelEndpoint
from tenure.config import EngagementConfig
from tenure.db import transaction
from tenure.engagement.models import OutboxMessage, OutboxStatus
from tenure.engagement.outbox import default_endpoint, utcnow
from tenure.engagement.schemas_outbox import OUTBOX_STATUSES, OutboxDetail, OutboxRead
from tenure.errors import ResourceNotFound, TenureError
from tenure.feedback.models import Direction, Interaction
from tenure.kit.pagination import DEFAULT_LIMIT, Page, check_choice, check_paging
from tenure.kit.runtime import Runtime

if TYPE_CHECKING:
    from tenure.auth.deps import Principal

logger = logging.getLogger("tenure.engagement.dispatch")

SENDING = OutboxStatus.SENDING.value
MAX_ERROR = 2000  # characters of last_error kept
PAST = {"retry": "retried", "cancel": "cancelled"}
JITTER = 0.1  # ±10% on every back-off delay, so failed messages do not retry in lockstep


@dataclass
class DispatchResult:
    """What one dispatch did with the messages it claimed."""

    sent: int = 0
    failed: int = 0  # will be retried at next_attempt_at
    dead: int = 0
    skipped: int = 0  # another dispatcher took the claim over (its lease had run out)

    @property
    def claimed(self) -> int:
        return self.sent + self.failed + self.dead + self.skipped


class InvalidOutboxState(TenureError):
    """The message is not in a status the requested change applies to."""

    status_code = 409


@dataclass(frozen=True)
class _Claim:
    """What the dispatcher needs of a claimed message, read inside the claim."""

    id: int
    attempts: int
    lease_until: dt.datetime
    idempotency_key: str
    source: str
    channel: str
    endpoint_id: int | None
    account_id: int | None
    contact_id: int | None
    user_id: int | None
    recipient: dict[str, Any]
    subject: str
    text: str
    html: str | None
    links: dict[str, Any]
    locale: str | None
    template_key: str | None

    @classmethod
    def of(cls, row: OutboxMessage) -> _Claim:
        names = cls.__dataclass_fields__
        return cls(**{name: getattr(row, name) for name in names})


def backoff_seconds(attempts: int, base: float, maximum: float, jitter: float = 1.0) -> float:
    """Delay before the next attempt: min(base × 2^(attempts-1), maximum) × jitter."""
    exponent = min(max(attempts - 1, 0), 62)  # 2**62 × any base is far past any maximum
    return min(base * 2.0**exponent, maximum) * jitter


def _due(now: dt.datetime) -> ColumnElement[bool]:
    return or_(
        and_(
            OutboxMessage.status.in_([OutboxStatus.QUEUED.value, OutboxStatus.FAILED.value]),
            OutboxMessage.next_attempt_at <= now,
        ),
        and_(OutboxMessage.status == SENDING, OutboxMessage.lease_until < now),
    )


def _claim(runtime: Runtime, *, limit: int, now: dt.datetime, lease: dt.timedelta) -> list[_Claim]:
    """Take up to `limit` due messages for this dispatcher (committed before returning)."""
    order = (OutboxMessage.next_attempt_at, OutboxMessage.id)
    with transaction(runtime.sessions) as session:
        if runtime.engine.dialect.name == "postgresql":
            due = select(OutboxMessage).where(_due(now)).order_by(*order).limit(limit)
            rows = list(session.scalars(due.with_for_update(skip_locked=True)))
            for row in rows:
                row.status = SENDING
                row.lease_until = now + lease
                row.attempts += 1
            session.flush()
            return [_Claim.of(row) for row in rows]
        # One statement: SQLite runs it under its single write lock, so the rows it picks
        # are due when it changes them, and two dispatchers never pick the same row.
        due_ids = select(OutboxMessage.id).where(_due(now)).order_by(*order).limit(limit)
        guarded = (
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due_ids.scalar_subquery()), _due(now))
            .values(status=SENDING, lease_until=now + lease, attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
        mine = list(session.scalars(guarded))
        if not mine:
            return []
        rows = list(
            session.scalars(
                select(OutboxMessage).where(OutboxMessage.id.in_(mine)).order_by(*order)
            )
        )
        return [_Claim.of(row) for row in rows]


def _changed(session: Session, stmt: Update) -> bool:
    result = cast(
        "CursorResult[Any]", session.execute(stmt.execution_options(synchronize_session=False))
    )
    return result.rowcount == 1


def _held(claim: _Claim) -> ColumnElement[bool]:
    """The message is still claimed by this attempt (not taken over, not recorded)."""
    return and_(
        OutboxMessage.id == claim.id,
        OutboxMessage.status == SENDING,
        OutboxMessage.attempts == claim.attempts,
    )


def _renew(runtime: Runtime, claim: _Claim, now: dt.datetime, lease: dt.timedelta) -> _Claim | None:
    """The claim with a fresh lease when less than half is left; None when it was lost."""
    if claim.lease_until - now >= lease / 2:
        return claim
    until = now + lease
    with transaction(runtime.sessions) as session:
        if not _changed(
            session, update(OutboxMessage).where(_held(claim)).values(lease_until=until)
        ):
            return None
    return dataclasses.replace(claim, lease_until=until)


class _Undeliverable(Exception):
    """The message cannot be sent as configured; a retry without a change will not help."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _Target:
    """An endpoint ready to send: its plugin with validated settings and unsealed secrets."""

    endpoint_id: int
    plugin: ChannelPlugin
    settings: Any
    secrets: Any


def _resolve(runtime: Runtime, claim: _Claim) -> _Target:
    """The endpoint a claimed message goes through (its own, else the channel's default)."""
    with runtime.sessions() as session:
        endpoint_id = claim.endpoint_id
        if endpoint_id is None:  # none when queued; one may have been configured since
            endpoint_id = default_endpoint(session, claim.channel, claim.account_id)
        if endpoint_id is None:
            raise _Undeliverable(
                f"no endpoint is configured for channel {claim.channel!r}"
                " (add an enabled one, then retry the message)"
            )
        endpoint = session.get(ChannelEndpoint, endpoint_id)
        if endpoint is None:
            raise _Undeliverable(f"channel endpoint {endpoint_id} no longer exists")
        name = f"channel endpoint {endpoint.name!r} (id {endpoint.id})"
        if endpoint.kind != claim.channel:
            raise _Undeliverable(
                f"{name} is a {endpoint.kind!r} endpoint; the message is for {claim.channel!r}"
            )
        try:
            key = channel_service.secret_key(runtime.settings.home)
            found = channel_service.resolve(session, endpoint.id, key=key)
        except channel_service.InvalidEndpoint as exc:
            # Field names and pydantic's messages only: no secret value reaches last_error.
            raise _Undeliverable(f"{name} is misconfigured: {exc.message}") from None
        except TenureError as exc:  # disabled, or secrets sealed with another key
            raise _Undeliverable(exc.message) from None
        return _Target(endpoint.id, found.plugin, found.settings, found.secrets)


def _message(claim: _Claim) -> Message:
    """The channel's view of a claimed message."""
    fields = {
        name: str(claim.recipient[name])
        for name in ("name", "email", "mobile", "user_id")
        if claim.recipient.get(name) is not None
    }
    unsubscribe = claim.links.get("unsubscribe")
    return Message(
        idempotency_key=claim.idempotency_key,
        subject=claim.subject,
        text=claim.text,
        html=claim.html,
        recipient=Recipient(**fields),
        locale=claim.locale,
        unsubscribe_url=str(unsubscribe) if unsubscribe else None,
        metadata={
            "outbox_id": claim.id,
            "source": claim.source,
            "account_id": claim.account_id,
            "contact_id": claim.contact_id,
            "template": claim.template_key,
        },
    )


def _record_sent(
    runtime: Runtime, claim: _Claim, delivery: Delivery, at: dt.datetime, endpoint_id: int
) -> bool:
    """Mark the message sent and put it on the account timeline; False if already recorded."""
    with transaction(runtime.sessions) as session:
        # Any holder's success counts (a taken-over claim that still delivered included).
        still_sending = and_(OutboxMessage.id == claim.id, OutboxMessage.status == SENDING)
        values: dict[str, Any] = {
            "status": OutboxStatus.SENT.value,
            "sent_at": at,
            "provider_message_id": delivery.provider_message_id,
            "lease_until": None,
            "last_error": None,
            "endpoint_id": endpoint_id,
        }
        if not _changed(session, update(OutboxMessage).where(still_sending).values(**values)):
            return False
        if claim.account_id is not None:
            interaction = Interaction(
                external_id=f"outbox:{claim.id}",
                account_id=claim.account_id,
                contact_id=claim.contact_id,
                user_id=claim.user_id,
                occurred_at=at,
                channel=claim.channel,
                direction=Direction.OUTBOUND.value,
                type="message",
                summary=claim.subject,
            )
            session.add(interaction)
            session.flush()
            link = update(OutboxMessage).where(OutboxMessage.id == claim.id)
            session.execute(link.values(interaction_id=interaction.id))
    return True


def _record_failure(
    runtime: Runtime, claim: _Claim, status: str, reason: str, next_at: dt.datetime | None
) -> bool:
    """Mark the message failed (retried at `next_at`) or dead; False if the claim was lost."""
    values: dict[str, Any] = {
        "status": status,
        "lease_until": None,
        "last_error": reason[:MAX_ERROR],
    }
    if next_at is not None:
        values["next_attempt_at"] = next_at
    with transaction(runtime.sessions) as session:
        return _changed(session, update(OutboxMessage).where(_held(claim)).values(**values))


def _deliver(
    runtime: Runtime,
    claim: _Claim,
    *,
    clock: Callable[[], dt.datetime],
    lease: dt.timedelta,
    settings: EngagementConfig,
    result: DispatchResult,
) -> None:
    """Send one claimed message and record its outcome in `result`."""
    held = _renew(runtime, claim, clock(), lease)
    if held is None:
        result.skipped += 1
        return
    if held.attempts > settings.max_attempts:
        # Only a claim retaken from a dispatcher that died while sending gets here; a
        # message that kills its dispatcher every time must not be retaken forever.
        reason = (
            f"gave up after {held.attempts - 1} attempts, the last of which never finished"
            " (a dispatcher stopped while sending it)"
        )
        recorded = _record_failure(runtime, held, OutboxStatus.DEAD.value, reason, None)
        result.dead += recorded
        result.skipped += not recorded
        return
    try:
        target = _resolve(runtime, held)
        delivery = target.plugin.send(_message(held), target.settings, target.secrets)
    except _Undeliverable as exc:
        outcome, reason = "dead", exc.reason
    except DeliveryError as exc:
        outcome = "failed" if exc.transient else "dead"
        reason = exc.reason if exc.transient else f"refused for good: {exc.reason}"
    except Exception as exc:  # a plugin bug must not stop the batch; retried like a timeout
        logger.exception("outbox delivery raised", extra={"fields": {"outbox_id": claim.id}})
        outcome, reason = "failed", f"unexpected error: {type(exc).__name__}: {exc}"
    else:
        if _record_sent(runtime, held, delivery, clock(), target.endpoint_id):
            result.sent += 1
        else:
            result.skipped += 1
        return
    next_at = None
    if outcome == "failed" and held.attempts >= settings.max_attempts:
        outcome, reason = "dead", f"{reason} (gave up after {held.attempts} attempts)"
    if outcome == "failed":
        jitter = random.uniform(1 - JITTER, 1 + JITTER)
        delay = backoff_seconds(
            held.attempts, settings.retry_base_seconds, settings.retry_max_seconds, jitter
        )
        next_at = clock() + dt.timedelta(seconds=delay)
    status = OutboxStatus.FAILED.value if outcome == "failed" else OutboxStatus.DEAD.value
    if not _record_failure(runtime, held, status, reason, next_at):
        result.skipped += 1
    elif outcome == "failed":
        result.failed += 1
    else:
        result.dead += 1


def dispatch(
    runtime: Runtime, *, limit: int = 100, lease_seconds: float = 60, now: dt.datetime | None = None
) -> DispatchResult:
    """Claim up to `limit` due messages and deliver them, recording each outcome.

    `now` (naive UTC) fixes the clock for the whole run, for tests; by default each step
    reads the time when it happens.
    """
    clock: Callable[[], dt.datetime] = (lambda: now) if now is not None else utcnow
    lease = dt.timedelta(seconds=lease_seconds)
    settings = runtime.config.engagement
    result = DispatchResult()
    for claim in _claim(runtime, limit=limit, now=clock(), lease=lease):
        _deliver(runtime, claim, clock=clock, lease=lease, settings=settings, result=result)
    if result.claimed:
        logger.info("outbox dispatch", extra={"fields": vars(result)})
    return result


# Operators' view: list, read, retry and cancel (services flush; the caller commits).


def _read_select() -> Any:
    return select(
        OutboxMessage,
        Account.external_id.label("account_external_id"),
        Account.name.label("account_name"),
    ).outerjoin(Account, Account.id == OutboxMessage.account_id)


def _as_read(row: Any, model: type[OutboxRead]) -> Any:
    message, external_id, name = row
    fields = {
        name_: getattr(message, name_) for name_ in model.model_fields if hasattr(message, name_)
    }
    fields.update(account_external_id=external_id, account_name=name)
    return model.model_validate(fields)


def _owned_filter(owned_by: int | None) -> list[ColumnElement[bool]]:
    if owned_by is None:
        return []
    owned = select(Account.id).where(Account.owner_id == owned_by)
    return [OutboxMessage.account_id.in_(owned)]


def list_outbox(
    session: Session,
    *,
    status: str | None = None,
    account: int | str | None = None,
    channel: str | None = None,
    source: str | None = None,
    owned_by: int | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[OutboxRead]:
    """Outbox messages, newest first, filtered by status, account, channel and source.

    `source` matches exactly, or as a prefix when it ends with ":" (`playbook:` lists every
    playbook's messages); `owned_by` keeps the messages of accounts that user owns.
    """
    check_paging(limit, offset)
    where = _owned_filter(owned_by)
    if status is not None:
        where.append(OutboxMessage.status == check_choice("status", status, OUTBOX_STATUSES))
    if account is not None:
        where.append(OutboxMessage.account_id == resolve_account_id(session, account))
    if channel is not None:
        where.append(OutboxMessage.channel == channel)
    if source is not None:
        if source.endswith(":"):
            where.append(func.substr(OutboxMessage.source, 1, len(source)) == source)
        else:
            where.append(OutboxMessage.source == source)
    total = session.scalar(select(func.count()).select_from(OutboxMessage).where(*where))
    rows = session.execute(
        _read_select().where(*where).order_by(OutboxMessage.id.desc()).limit(limit).offset(offset)
    )
    return Page[OutboxRead](
        items=[_as_read(row, OutboxRead) for row in rows],
        total=total or 0,
        limit=limit,
        offset=offset,
    )


def status_counts(session: Session, *, owned_by: int | None = None) -> dict[str, int]:
    """How many messages are in each status (every status listed, zeros included)."""
    query = (
        select(OutboxMessage.status, func.count())
        .where(*_owned_filter(owned_by))
        .group_by(OutboxMessage.status)
    )
    found = {str(status): int(n) for status, n in session.execute(query)}
    return {status: found.get(status, 0) for status in OUTBOX_STATUSES}


def get_outbox(session: Session, message_id: int) -> OutboxDetail:
    """One outbox message with its content."""
    row = session.execute(_read_select().where(OutboxMessage.id == message_id)).first()
    if row is None:
        raise ResourceNotFound(f"no outbox message has id {message_id}")
    detail: OutboxDetail = _as_read(row, OutboxDetail)
    return detail


def account_owner(session: Session, account_id: int | None) -> int | None:
    """The id of the user owning `account_id` (None without an account or an owner)."""
    if account_id is None:
        return None
    owner: int | None = session.scalar(select(Account.owner_id).where(Account.id == account_id))
    return owner


def _transition(
    session: Session,
    message_id: int,
    *,
    allowed: tuple[str, ...],
    values: dict[str, Any],
    action: str,
    actor: Principal | str,
) -> OutboxDetail:
    """Apply `values` if the message is in one of `allowed` (checked in the UPDATE itself,
    so a dispatcher claiming it at the same moment cannot be overwritten), and audit it."""
    before = session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == message_id))
    if before is None:
        raise ResourceNotFound(f"no outbox message has id {message_id}")
    stmt = (
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status.in_(allowed))
        .values(**values)
    )
    if not _changed(session, stmt):
        current = session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == message_id))
        raise InvalidOutboxState(
            f"outbox message {message_id} is {current}; only {' or '.join(allowed)} messages"
            f" can be {PAST[action]}"
        )
    audit.record(
        session, actor=actor, action=action, entity="outbox_message", entity_id=message_id,
        before={"status": before}, after=values,
    )  # fmt: skip
    session.expire_all()
    return get_outbox(session, message_id)


def retry(
    session: Session,
    message_id: int,
    *,
    actor: Principal | str = "system",
    now: dt.datetime | None = None,
) -> OutboxDetail:
    """Queue a dead or failed message again, due now, with its attempts reset."""
    values = {
        "status": OutboxStatus.QUEUED.value,
        "attempts": 0,
        "next_attempt_at": now or utcnow(),
        "lease_until": None,
    }
    allowed = (OutboxStatus.DEAD.value, OutboxStatus.FAILED.value)
    return _transition(
        session, message_id, allowed=allowed, values=values, action="retry", actor=actor
    )


def cancel(session: Session, message_id: int, *, actor: Principal | str = "system") -> OutboxDetail:
    """Cancel a queued or failed message: it will not be sent."""
    values = {"status": OutboxStatus.CANCELLED.value, "lease_until": None}
    allowed = (OutboxStatus.QUEUED.value, OutboxStatus.FAILED.value)
    return _transition(
        session, message_id, allowed=allowed, values=values, action="cancel", actor=actor
    )
