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

import datetime as dt
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, update

from tenure.channels import sending as channel_service
from tenure.channels.base import ChannelPlugin, Delivery, DeliveryError, Message, Recipient
from tenure.channels.models import ChannelEndpoint
from tenure.config import EngagementConfig
from tenure.db import transaction
from tenure.engagement.models import OutboxMessage, OutboxStatus
from tenure.engagement.outbox import default_endpoint, utcnow
from tenure.engagement.outbox_claims import SENDING, Claim, changed, claim_due, renew, still_held
from tenure.errors import TenureError
from tenure.feedback.models import Direction, Interaction
from tenure.kit.runtime import Runtime

logger = logging.getLogger("tenure.engagement.dispatch")

MAX_ERROR = 2000  # characters of last_error kept
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


def backoff_seconds(attempts: int, base: float, maximum: float, jitter: float = 1.0) -> float:
    """Delay before the next attempt: min(base × 2^(attempts-1), maximum) × jitter."""
    exponent = min(max(attempts - 1, 0), 62)  # 2**62 × any base is far past any maximum
    return min(base * 2.0**exponent, maximum) * jitter


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


def _resolve(runtime: Runtime, claim: Claim) -> _Target:
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


def _message(claim: Claim) -> Message:
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
    runtime: Runtime, claim: Claim, delivery: Delivery, at: dt.datetime, endpoint_id: int
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
        if not changed(session, update(OutboxMessage).where(still_sending).values(**values)):
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
    runtime: Runtime, claim: Claim, status: str, reason: str, next_at: dt.datetime | None
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
        return changed(session, update(OutboxMessage).where(still_held(claim)).values(**values))


def _deliver(
    runtime: Runtime,
    claim: Claim,
    *,
    clock: Callable[[], dt.datetime],
    lease: dt.timedelta,
    settings: EngagementConfig,
    result: DispatchResult,
) -> None:
    """Send one claimed message and record its outcome in `result`."""
    held = renew(runtime, claim, clock(), lease)
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
    for claim in claim_due(runtime, limit=limit, now=clock(), lease=lease):
        _deliver(runtime, claim, clock=clock, lease=lease, settings=settings, result=result)
    if result.claimed:
        logger.info("outbox dispatch", extra={"fields": vars(result)})
    return result
