"""The omnichannel timeline: CSM touches, QBRs, onboarding, renewals, public comments."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from tenure.demo.feedback import Context
from tenure.demo.profiles import NEVER
from tenure.demo.texts import SIZES

TOUCHES_PER_MONTH = {"strategic": 5.0, "profit": 3.0, "growth": 3.5, "basic": 1.2}
TOUCH_TYPES = ("email", "call", "meeting", "message")
TOUCH_P = (0.35, 0.2, 0.1, 0.35)
SOCIAL_PER_MONTH = 0.12
QBR_EVERY_DAYS = 91


def make_interactions(
    ctx: Context, owner_ids: list[int], contract_ends: dict[int, list[dt.date]]
) -> list[dict[str, Any]]:
    """Every account's timeline inside the window, up to its churn day or the as-of date."""
    plan, text, rng = ctx.plan, ctx.text, ctx.rng
    channel_of = {
        "email": "email", "call": "phone", "meeting": "meeting", "qbr": "meeting",
        "message": text.message_channel, "onboarding": "meeting", "renewal": "phone",
        "upsell": "meeting", "rescue": "meeting", "exit_interview": "meeting",
    }  # fmt: skip
    rows: list[dict[str, Any]] = []

    def add(i: int, day: int, kind: str, summary: str, *, inbound: bool = False,
            sentiment: str | None = None, public: bool = False) -> None:  # fmt: skip
        if not span[0] <= day < span[1] and kind != "exit_interview":
            return
        rows.append(
            {
                "account_id": ctx.account_ids[i],
                "contact_id": None if public else ctx.contact(i),
                "user_id": None if public else owner_ids[i],
                "occurred_at": ctx.moment(day, 8.0, 22.0 if public else 18.5),
                "channel": "social" if public else channel_of[kind],
                "direction": "inbound" if inbound or public else "outbound",
                "type": "public_comment" if public else kind,
                "summary": summary,
                "sentiment": sentiment,
            }
        )

    for i in range(plan.n):
        span = first, end = ctx.window(i)
        if end <= first:
            continue
        months = (end - first) / 30.4
        for day in rng.integers(
            first, end, rng.poisson(TOUCHES_PER_MONTH[plan.segment[i]] * months)
        ):
            kind = TOUCH_TYPES[int(rng.choice(len(TOUCH_TYPES), p=TOUCH_P))]
            inbound = kind == "message" and rng.random() < 0.4  # chats go both ways
            add(i, int(day), kind, ctx.pick(text.interactions[kind]), inbound=inbound)
        if plan.segment[i] == "strategic" or SIZES[plan.size[i]] in ("large", "enterprise"):
            for day in range(first + int(rng.integers(5, 60)), end, QBR_EVERY_DAYS):
                add(i, day, "qbr", ctx.pick(text.interactions["qbr"]))
        if plan.since[i] >= first:
            kickoff, training = text.interactions["onboarding"]
            add(i, int(plan.since[i]) + 1, "onboarding", kickoff)
            add(i, int(plan.since[i]) + int(rng.integers(7, 21)), "onboarding", training)
        for ended in sorted(set(contract_ends.get(ctx.account_ids[i], []))):
            day = (ended - plan.origin).days - 30
            if plan.last_end[i] == NEVER or day < plan.risk_from[i]:
                add(i, day, "renewal", text.interactions["renewal"][0])
        if plan.upsell[i] < NEVER:
            add(i, int(plan.upsell[i]) - 14, "upsell", text.interactions["upsell"][0])
            add(i, int(plan.upsell[i]), "upsell", text.interactions["upsell"][1])
        positive = 0.75 if plan.cohort[i] == "growth" else 0.55
        for day in rng.integers(first, end, rng.poisson(SOCIAL_PER_MONTH * months)):
            if plan.risk_from[i] <= day:
                continue
            mood = "positive" if rng.random() < positive else "neutral"
            add(i, int(day), "social", ctx.pick(text.social[mood]), sentiment=mood, public=True)
        if plan.risk_from[i] < NEVER:
            _decline(ctx, i, add)
        if plan.noise_kind[i] == "negative_comment":
            day = int(plan.noise_day[i])
            add(
                i,
                day,
                "social",
                ctx.pick(text.social["negative"]),
                sentiment="negative",
                public=True,
            )
    rows.sort(key=lambda r: r["occurred_at"])
    for n, row in enumerate(rows, 1):
        row["external_id"] = f"I{n:07d}"
    return rows


def _decline(ctx: Context, i: int, add: Any) -> None:
    """Rescue attempts, negative public comments and the exit interview of a churner."""
    plan, text, rng = ctx.plan, ctx.text, ctx.rng
    _first, end = ctx.window(i)
    risk = int(plan.risk_from[i])
    for day in sorted(rng.integers(risk + 10, max(risk + 11, end), 2)):
        add(i, int(day), "rescue", ctx.pick(text.interactions["rescue"]))
    if "negative_comments" in plan.signals[i]:
        last = end - 1
        lo = max(risk, last - 25)
        for day in rng.integers(lo, last + 1, int(rng.integers(1, 3))):
            add(
                i,
                int(day),
                "social",
                ctx.pick(text.social["negative"]),
                sentiment="negative",
                public=True,
            )
    if plan.churn[i] <= plan.today:
        reason = plan.churn_reason[i]
        add(
            i,
            int(plan.churn[i]),
            "exit_interview",
            text.churn_reasons[reason],
            sentiment="negative",
        )


__all__ = ["make_interactions", "np"]
