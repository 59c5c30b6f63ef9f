"""Running playbook steps: each due run advances until it waits or ends.

`advance_runs` is called by the engagement job. Every step writes a step log (what it did,
for whom, or what blocked it); messages go to the outbox in the same transaction, so a
run's progress and its messages commit together.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenure.accounts.models import Account, Contact, User
from tenure.channels.models import ChannelEndpoint
from tenure.config import EngagementConfig
from tenure.engagement import unsubscribe
from tenure.engagement.models import (
    OutboxMessage,
    OutboxStatus,
    Playbook,
    PlaybookRun,
    PlaybookStepLog,
    RunStatus,
    Task,
)
from tenure.engagement.outbox import Draft, enqueue
from tenure.engagement.policy import ContactFacts, decide
from tenure.engagement.schemas import (
    NotifyOwnerStep,
    PlaybookDefinition,
    SendStep,
    SetFieldStep,
    SurveyStep,
    TaskStep,
    WaitStep,
)

MAX_STEPS_PER_ADVANCE = 50  # a run without waits cannot loop for ever


@dataclass
class AdvanceResult:
    """What one pass over the due runs did."""

    runs: int = 0
    steps: int = 0
    queued: int = 0
    blocked: int = 0
    completed: int = 0
    failed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


@dataclass
class StepContext:
    """Everything a step needs besides its own settings."""

    session: Session
    config: EngagementConfig
    home: Path
    now: dt.datetime
    run: PlaybookRun
    playbook: Playbook
    definition: PlaybookDefinition
    index: int
    result: AdvanceResult

    def log(
        self,
        action: str,
        outcome: str,
        detail: dict[str, Any] | None = None,
        *,
        contact_id: int | None = None,
        outbox_id: int | None = None,
    ) -> None:
        self.session.add(
            PlaybookStepLog(
                run_id=self.run.id,
                step_index=self.index,
                action=action,
                outcome=outcome,
                detail=detail or {},
                contact_id=contact_id,
                outbox_id=outbox_id,
                at=self.now,
            )
        )
        self.result.outcomes[outcome] = self.result.outcomes.get(outcome, 0) + 1


def _audience(ctx: StepContext) -> list[Contact]:
    audience = ctx.definition.audience
    stmt = select(Contact).where(Contact.account_id == ctx.run.account_id).order_by(Contact.id)
    if audience.target == "contacts" and audience.roles:
        stmt = stmt.where(Contact.role.in_(audience.roles))
    return list(ctx.session.scalars(stmt))


def _facts(contact: Contact) -> ContactFacts:
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


def _available_kinds(session: Session, account_id: int) -> set[str]:
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


def _sent_in_window(ctx: StepContext, contact_id: int) -> int:
    since = ctx.now - dt.timedelta(days=ctx.config.cap_window_days)
    counted = [
        s.value for s in OutboxStatus if s not in (OutboxStatus.DEAD, OutboxStatus.CANCELLED)
    ]
    return int(
        ctx.session.scalar(
            select(func.count()).where(
                OutboxMessage.contact_id == contact_id,
                OutboxMessage.created_at >= since,
                OutboxMessage.status.in_(counted),
            )
        )
        or 0
    )


def _template_vars(ctx: StepContext) -> dict[str, Any]:
    """Extra variables from what triggered the run (the alert of a rule trigger)."""
    reason = ctx.run.reason or {}
    if reason.get("trigger") != "rule":
        return {}
    return {
        "alert": {
            "rule_id": reason.get("rule_id"),
            "rule_name": reason.get("rule_name"),
            "severity": reason.get("severity"),
            "evidence": reason.get("evidence"),
            "opened_as_of": reason.get("as_of"),
            "alert_id": reason.get("alert_id"),
        }
    }


def _send(ctx: StepContext, step: SendStep) -> None:
    from tenure.content.compose import render_for

    contacts = _audience(ctx)
    if not contacts:
        ctx.log("send", "blocked", {"reason": "no_contacts", "template": step.template})
        ctx.result.blocked += 1
        return
    available = _available_kinds(ctx.session, ctx.run.account_id)
    key = unsubscribe.signing_key(ctx.home)
    for contact in contacts:
        facts = _facts(contact)
        decision = decide(
            facts,
            now=ctx.now,
            config=ctx.config,
            available=available,
            sent_in_window=_sent_in_window(ctx, contact.id),
            forced_channel=step.channel,
        )
        if decision.blocked or decision.channel is None:
            ctx.log(
                "send",
                "blocked",
                {"reason": decision.blocked, "template": step.template},
                contact_id=contact.id,
            )
            ctx.result.blocked += 1
            continue
        links = {
            "unsubscribe": unsubscribe.link(ctx.config.base_url, key, contact.id, decision.channel)
        }
        rendered = render_for(
            ctx.session,
            step.template,
            account_id=ctx.run.account_id,
            contact_id=contact.id,
            links=links,
            extra=_template_vars(ctx),
        )
        message = enqueue(
            ctx.session,
            Draft(
                source=f"playbook:{ctx.playbook.key}",
                channel=decision.channel,
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                recipient={"name": contact.name, "email": contact.email, "mobile": contact.phone},
                account_id=ctx.run.account_id,
                contact_id=contact.id,
                locale=rendered.locale,
                template_key=step.template,
                links=links,
                run_id=ctx.run.id,
                idempotency_key=f"run-{ctx.run.id}-step-{ctx.index}-contact-{contact.id}",
                not_before=decision.not_before,
            ),
            now=ctx.now,
        )
        detail: dict[str, Any] = {"template": step.template, "channel": decision.channel}
        if decision.not_before is not None:
            detail["quiet_hours_until"] = decision.not_before.isoformat()
        ctx.log("send", "queued", detail, contact_id=contact.id, outbox_id=message.id)
        ctx.result.queued += 1


def _owner(ctx: StepContext) -> User | None:
    account = ctx.session.get(Account, ctx.run.account_id)
    if account is None or account.owner_id is None:
        return None
    return ctx.session.get(User, account.owner_id)


def _notify_owner(ctx: StepContext, step: NotifyOwnerStep) -> None:
    from tenure.content.compose import render_for

    owner = _owner(ctx)
    if owner is None or not owner.is_active:
        ctx.log("notify_owner", "blocked", {"reason": "no_owner", "template": step.template})
        ctx.result.blocked += 1
        return
    endpoint_id: int | None = None
    channel = "email"
    if step.endpoint:
        endpoint = ctx.session.scalar(
            select(ChannelEndpoint).where(ChannelEndpoint.name == step.endpoint)
        )
        if endpoint is None or not endpoint.enabled:
            ctx.log("notify_owner", "blocked", {"reason": "no_endpoint", "endpoint": step.endpoint})
            ctx.result.blocked += 1
            return
        endpoint_id, channel = endpoint.id, endpoint.kind
    rendered = render_for(
        ctx.session,
        step.template,
        account_id=ctx.run.account_id,
        contact_id=None,
        links={"account": f"{ctx.config.base_url.rstrip('/')}/accounts/{ctx.run.account_id}"},
        locale=owner.locale,
        extra=_template_vars(ctx),
    )
    message = enqueue(
        ctx.session,
        Draft(
            source=f"playbook:{ctx.playbook.key}",
            channel=channel,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            recipient={"name": owner.name, "email": owner.email},
            account_id=ctx.run.account_id,
            user_id=owner.id,
            endpoint_id=endpoint_id,
            locale=rendered.locale,
            template_key=step.template,
            run_id=ctx.run.id,
            idempotency_key=f"run-{ctx.run.id}-step-{ctx.index}-owner-{owner.id}",
        ),
        now=ctx.now,
    )
    ctx.log("notify_owner", "queued", {"template": step.template, "channel": channel,
                                       "user": owner.email}, outbox_id=message.id)  # fmt: skip
    ctx.result.queued += 1


def _task(ctx: StepContext, step: TaskStep) -> None:
    from tenure.content.compose import render_text

    owner = _owner(ctx)
    extra = _template_vars(ctx)
    title = render_text(ctx.session, step.title, account_id=ctx.run.account_id, extra=extra)
    detail = (
        render_text(ctx.session, step.detail, account_id=ctx.run.account_id, extra=extra)
        if step.detail
        else None
    )
    alert_id = (ctx.run.reason or {}).get("alert_id")
    task = Task(
        kind=step.action,
        account_id=ctx.run.account_id,
        owner_id=owner.id if owner is not None else None,
        title=title[:300],
        detail=detail,
        priority=step.priority,
        due_date=ctx.now.date() + dt.timedelta(days=step.due_days),
        run_id=ctx.run.id,
        alert_id=alert_id if isinstance(alert_id, int) else None,
    )
    ctx.session.add(task)
    ctx.session.flush()
    ctx.log(step.action, "created", {"task_id": task.id, "title": task.title,
                                     "owner": owner.email if owner else None})  # fmt: skip


def _set_field(ctx: StepContext, step: SetFieldStep) -> None:
    account = ctx.session.get(Account, ctx.run.account_id)
    if account is None:
        ctx.log("set_field", "skipped", {"reason": "account gone"})
        return
    before = (account.attributes or {}).get(step.field)
    account.attributes = {**(account.attributes or {}), step.field: step.value}
    ctx.log("set_field", "done", {"field": step.field, "before": before, "after": step.value})


def _survey(ctx: StepContext, step: SurveyStep) -> None:
    from tenure.surveys.invitations import invite

    contacts = _audience(ctx)
    invitations = invite(
        ctx.session,
        config=ctx.config,
        home=ctx.home,
        account_id=ctx.run.account_id,
        contact_ids=[c.id for c in contacts],
        source=f"playbook:{ctx.playbook.key}",
    )
    ctx.log("survey", "queued", {"survey": step.survey, "invitations": len(invitations)})
    ctx.result.queued += len(invitations)


def _execute(ctx: StepContext) -> bool:
    """Run step `ctx.index`; True to go on to the next step now, False to wait."""
    step = ctx.definition.steps[ctx.index]
    if isinstance(step, WaitStep):
        until = ctx.now + dt.timedelta(days=step.days, hours=step.hours)
        ctx.log("wait", "waiting", {"until": until.isoformat()})
        ctx.run.next_step_at = until
        return False
    if isinstance(step, SendStep):
        _send(ctx, step)
    elif isinstance(step, NotifyOwnerStep):
        _notify_owner(ctx, step)
    elif isinstance(step, TaskStep):
        _task(ctx, step)
    elif isinstance(step, SetFieldStep):
        _set_field(ctx, step)
    elif isinstance(step, SurveyStep):
        _survey(ctx, step)
    return True


def advance_run(
    session: Session,
    run: PlaybookRun,
    playbook: Playbook,
    *,
    config: EngagementConfig,
    home: Path,
    now: dt.datetime,
    result: AdvanceResult,
) -> None:
    """Advance one due run until a wait or its end (in the caller's transaction)."""
    definition = PlaybookDefinition.model_validate(playbook.definition)
    result.runs += 1
    for _ in range(MAX_STEPS_PER_ADVANCE):
        if run.step_index >= len(definition.steps):
            run.status = RunStatus.COMPLETED.value
            run.finished_at = now
            run.next_step_at = None
            result.completed += 1
            return
        ctx = StepContext(
            session, config, home, now, run, playbook, definition, run.step_index, result
        )
        waiting_at = run.step_index
        go_on = _execute(ctx)
        result.steps += 1
        run.step_index = waiting_at + 1
        if not go_on:
            return
    run.next_step_at = now  # more steps than one pass allows: continue on the next pass


def advance_runs(
    session: Session,
    *,
    config: EngagementConfig,
    home: Path,
    now: dt.datetime,
    limit: int = 500,
) -> AdvanceResult:
    """Advance every active run whose next step is due (oldest first, up to `limit`).

    A run whose step raises is marked failed with the error in its step log; the others go
    on (each run in its own savepoint).
    """
    result = AdvanceResult()
    due = session.execute(
        select(PlaybookRun, Playbook)
        .join(Playbook, Playbook.id == PlaybookRun.playbook_id)
        .where(PlaybookRun.status == RunStatus.ACTIVE.value, PlaybookRun.next_step_at <= now)
        .order_by(PlaybookRun.next_step_at, PlaybookRun.id)
        .limit(limit)
    ).all()
    for run, playbook in due:
        if not playbook.enabled:
            continue
        try:
            with session.begin_nested():
                advance_run(
                    session, run, playbook, config=config, home=home, now=now, result=result
                )
        except Exception as exc:  # one broken run must not stop the others
            session.expire(run)
            run.status = RunStatus.FAILED.value
            run.finished_at = now
            run.next_step_at = None
            session.add(
                PlaybookStepLog(
                    run_id=run.id,
                    step_index=run.step_index,
                    action="error",
                    outcome="failed",
                    detail={"error": f"{type(exc).__name__}: {exc}"},
                    at=now,
                )
            )
            result.failed += 1
    session.flush()
    return result
