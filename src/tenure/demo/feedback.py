"""Support tickets (with complaints) and NPS answers, with the planted feedback signals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from tenure.demo.people import Contacts
from tenure.demo.profiles import NEVER, Plan
from tenure.demo.texts import SIZES, TICKET_CATEGORIES, LocaleText

TICKETS_PER_MONTH = {"micro": 0.4, "small": 0.6, "mid": 1.0, "large": 1.5, "enterprise": 2.2}
COMPLAINT_P = 0.03
SEVERITIES = ("low", "medium", "high", "critical")
_RESOLVE_HOURS = {"low": 72.0, "medium": 48.0, "high": 24.0, "critical": 8.0}
NPS_RESPONSE_P = {
    "decision_maker": 0.5,
    "key_user": 0.6,
    "champion": 0.6,
    "user": 0.3,
    "billing": 0.0,
}
SURVEY_MONTHS = (1, 4, 7, 10)  # quarterly relationship survey, sent on the 15th


@dataclass
class Context:
    """What the feedback generators share: the plan, texts, contact lookup and DB ids."""

    plan: Plan
    text: LocaleText
    rng: np.random.Generator
    contacts: Contacts
    account_ids: list[int]
    contact_ids: list[int]

    def __post_init__(self) -> None:
        self.by_account = self.contacts.of_account()
        self.end_of_as_of = dt.datetime.combine(self.plan.as_of + dt.timedelta(days=1), dt.time())

    def moment(self, day: int, first_hour: float = 9.0, last_hour: float = 18.0) -> dt.datetime:
        """A time during working hours on day number `day`."""
        hours = float(self.rng.uniform(first_hour, last_hour))
        base = dt.datetime.combine(self.plan.origin, dt.time())
        return base + dt.timedelta(days=int(day), seconds=round(hours * 3600))

    def contact(self, i: int, role: str | None = None) -> int:
        """DB id of a contact of account `i` (of `role` when it has one)."""
        pool = self.by_account[i]
        if role is not None:
            match = pool[self.contacts.role[pool] == role]
            if len(match):
                return self.contact_ids[int(match[0])]
        return self.contact_ids[int(pool[self.rng.integers(len(pool))])]

    def window(self, i: int) -> tuple[int, int]:
        """[first, end) day numbers of account `i` inside the window (end: churn or tomorrow)."""
        ws = (self.plan.window_start - self.plan.origin).days
        return max(int(self.plan.since[i]), ws), int(self.plan.end[i])

    def pick(self, options: tuple[Any, ...]) -> Any:
        return options[int(self.rng.integers(len(options)))]


def _ticket(
    ctx: Context, i: int, day: int, category: str, subject: str, body: str, complaint: bool
) -> dict[str, Any]:
    rng = ctx.rng
    p = [0.1, 0.3, 0.4, 0.2] if complaint else [0.35, 0.45, 0.15, 0.05]
    severity = SEVERITIES[int(rng.choice(4, p=p))]
    opened = ctx.moment(day)
    responded = opened + dt.timedelta(hours=float(rng.exponential(1.0 if complaint else 2.0)))
    hours = float(rng.exponential(_RESOLVE_HOURS[severity] * (1.5 if complaint else 1.0)))
    resolved = responded + dt.timedelta(hours=hours)
    return {
        "account_id": ctx.account_ids[i],
        "contact_id": ctx.contact(i),
        "opened_at": opened,
        "first_response_at": responded if responded < ctx.end_of_as_of else None,
        "resolved_at": resolved if resolved < ctx.end_of_as_of else None,
        "severity": severity,
        "category": category,
        "is_complaint": complaint,
        "subject": subject,
        "text": body,
    }


def _burst_days(ctx: Context, i: int, first: int, count: int, span: int) -> list[int]:
    """`count` days within `span` days from `first`, before the account's end."""
    end = min(first + span, int(ctx.plan.end[i]))
    if end <= first:
        return []
    return sorted(int(d) for d in ctx.rng.integers(first, end, count))


def make_tickets(ctx: Context) -> list[dict[str, Any]]:
    """Background tickets by size, churners' complaint bursts, noise bursts, hidden needs."""
    plan, text, rng = ctx.plan, ctx.text, ctx.rng
    rows: list[dict[str, Any]] = []
    for i in range(plan.n):
        first, end = ctx.window(i)
        if end <= first:
            continue
        churner = plan.risk_from[i] < NEVER
        rate = TICKETS_PER_MONTH[SIZES[plan.size[i]]] * (0.8 if plan.cohort[i] == "growth" else 1.0)
        for day in rng.integers(first, end, rng.poisson(rate * (end - first) / 30.4)):
            if churner and day >= plan.risk_from[i]:
                continue  # the decline's complaints are planted below
            if rng.random() < COMPLAINT_P:
                category, subject, body = ctx.pick(text.complaints)
                rows.append(_ticket(ctx, i, int(day), category, subject, body, True))
            else:
                category = TICKET_CATEGORIES[int(rng.integers(len(TICKET_CATEGORIES)))]
                subject, body = ctx.pick(text.tickets[category])
                rows.append(_ticket(ctx, i, int(day), category, subject, body, False))
        burst: list[int] = []
        if "complaints_up" in plan.signals[i]:
            last = end - 1
            start = max(int(plan.risk_from[i]), last - 27)
            burst = _burst_days(ctx, i, start, int(rng.integers(3, 7)), last - start + 1)
        elif plan.noise_kind[i] == "complaint_burst":
            burst = _burst_days(ctx, i, int(plan.noise_day[i]), 3, 10)
        for day in burst:
            category, subject, body = ctx.pick(text.complaints)
            rows.append(_ticket(ctx, i, day, category, subject, body, True))
        if plan.hidden_need[i]:
            for day in rng.integers(first, end, int(rng.integers(1, 3))):
                subject, body = ctx.pick(text.hidden_need)
                rows.append(_ticket(ctx, i, int(day), "feature_request", subject, body, False))
    rows.sort(key=lambda r: r["opened_at"])
    for n, row in enumerate(rows, 1):
        row["external_id"] = f"T{n:06d}"
    return rows


def survey_days(plan: Plan) -> list[int]:
    """Day numbers of the quarterly surveys from a quarter before the window to the as-of date."""
    first = plan.window_start - dt.timedelta(days=100)
    days = []
    for year in range(first.year, plan.as_of.year + 1):
        for month in SURVEY_MONTHS:
            sent = dt.date(year, month, 15)
            if first <= sent <= plan.as_of:
                days.append((sent - plan.origin).days)
    return days


def _nps_class(plan: Plan, i: int, day: int) -> int:
    """Answer class of account `i` on `day`: 0 detractor, 1 passive, 2 promoter."""
    if "nps_drop" in plan.signals[i] and day >= plan.risk_from[i]:
        return 0
    if plan.cohort[i] == "growth" and day >= (plan.today + plan.since[i]) // 2:
        return 2
    return int(plan.nps_class[i])


def _score(rng: np.random.Generator, cls: int, churner: bool) -> int:
    if cls == 2:
        return int(rng.choice([9, 10]))
    if cls == 1:
        return int(rng.choice([7, 8]))
    return int(rng.integers(0, 6) if churner else rng.integers(4, 7))


def make_nps(ctx: Context) -> list[dict[str, Any]]:
    """Quarterly answers per contact; each account answers in one class unless a signal moves it."""
    plan, text, rng = ctx.plan, ctx.text, ctx.rng
    waves = survey_days(plan)
    classes = ("detractor", "passive", "promoter")
    rows: list[dict[str, Any]] = []

    def answer(i: int, contact: int, day: int, cls: int, churner: bool) -> None:
        comment = ctx.pick(text.nps_comments[classes[cls]]) if rng.random() < 0.6 else None
        rows.append(
            {
                "account_id": ctx.account_ids[i],
                "contact_id": contact,
                "responded_at": ctx.moment(day, 8.0, 22.0),
                "score": _score(rng, cls, churner),
                "comment": comment,
            }
        )

    for i in range(plan.n):
        end = int(plan.end[i])
        dip_wave: int | None = None
        if plan.noise_kind[i] == "nps_dip":
            later = [w for w in waves if w >= plan.noise_day[i]]
            dip_wave = later[0] if later else None
        churner = plan.risk_from[i] < NEVER
        for wave in waves:
            if wave < plan.since[i] + 14 or wave >= end:
                continue
            for c in ctx.by_account[i]:
                day = wave + int(rng.integers(0, 11))
                if day >= end or day > plan.today:
                    continue
                if rng.random() < NPS_RESPONSE_P[ctx.contacts.role[c]]:
                    cls = 0 if wave == dip_wave else _nps_class(plan, i, day)
                    answer(i, ctx.contact_ids[int(c)], day, cls, churner)
        if "nps_drop" in plan.signals[i] and plan.dark_from[i] < end:
            day = int(rng.integers(plan.dark_from[i], end))
            answer(i, ctx.contact(i, "key_user"), day, 0, True)
    rows.sort(key=lambda r: r["responded_at"])
    for n, row in enumerate(rows, 1):
        row["external_id"] = f"N{n:06d}"
    return rows
