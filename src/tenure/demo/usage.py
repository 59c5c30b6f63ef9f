"""Product-usage events, generated as whole arrays (contacts x days) with numpy.

Each contact logs in on a day with a probability set by role, weekday and the account's
trajectory; every login opens a session of follow-up events (core features the account has
adopted, page views, exports, ...). Churners fade out, then only log in every 8-14 days with one
core feature left, and some try to cancel. Nothing is generated after an account's churn day.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tenure.demo.dates import weekday_factor
from tenure.demo.people import Contacts
from tenure.demo.profiles import NEVER, Plan
from tenure.events.schema import EVENT_SCHEMA

OTHER_EVENTS = (
    "page.view",
    "export.csv",
    "search.run",
    "settings.update",
    "user.invite",
    "file.upload",
)
OTHER_P = (0.6, 0.12, 0.12, 0.05, 0.03, 0.08)
OTHER_PER_LOGIN = 0.5  # mean non-core events per session
CORE_DAILY_P = 0.4  # chance an adopted core feature is used on a day the account logs in
CORE_REPEAT = 0.25  # mean extra uses that day
PLATFORMS = ("web", "web", "web", "mobile", "desktop")
DAY_SECONDS = 86_400


def _trajectory(plan: Plan, rng: np.random.Generator) -> np.ndarray:
    """Activity multiplier per account and day (0 outside the customer's active days)."""
    day = np.arange(plan.today + 1)[None, :]
    since = plan.since[:, None]
    mult = np.clip(0.6 + 0.4 * (day - since) / 21.0, 0.6, 1.0)  # onboarding ramp
    growth = (plan.cohort == "growth")[:, None]
    g0 = np.maximum(since, 0)
    ramp = 0.85 + 0.45 * np.clip((day - g0) / np.maximum(plan.today - g0, 1), 0, 1)
    mult = mult * np.where(growth, ramp, 1.0)
    risk, dark = plan.risk_from[:, None], plan.dark_from[:, None]
    fade = 1.0 - 0.7 * np.clip((day - risk) / np.maximum(dark - risk, 1), 0, 1)
    mult = mult * np.where(day < risk, 1.0, np.where(day < dark, fade, 0.0))
    gap = (plan.noise_kind == "login_gap")[:, None]
    gap_end = plan.noise_day[:, None] + rng.integers(8, 12, plan.n)[:, None]
    mult = np.where(gap & (day >= plan.noise_day[:, None]) & (day < gap_end), 0.0, mult)
    active = (day >= since) & (day < plan.end[:, None])
    return (mult * active * plan.activity[:, None]).astype(np.float32)


def _adoption(
    plan: Plan, rng: np.random.Generator, core: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(first day, end day) each account uses each core feature."""
    k = len(core)
    start = np.full((plan.n, k), NEVER, dtype=np.int64)
    end = np.full((plan.n, k), NEVER, dtype=np.int64)
    report = core.index("report.create") if "report.create" in core else -1
    ws = (plan.window_start - plan.origin).days
    for i in range(plan.n):
        order = list(rng.permutation(k))
        if plan.hidden_need[i] and report >= 0:
            order.remove(report)
        cohort = plan.cohort[i]
        if cohort == "growth":
            n_used = len(order)
        elif cohort in ("churned", "at_risk"):
            n_used = int(rng.integers(3, 5))
        else:
            n_used = int(rng.integers(3, k + 1))
        since = int(plan.since[i])
        for rank, f in enumerate(order[: min(n_used, len(order))]):
            if rank < 2:
                start[i, f] = since + int(rng.integers(0, 7))
            elif rank == 2:
                start[i, f] = since + int(rng.integers(5, 30))
            elif cohort == "growth":
                lo = max(since, ws) + 30
                start[i, f] = int(rng.integers(lo, max(lo + 1, plan.today)))
            else:
                start[i, f] = since + int(rng.integers(20, 240))
            if plan.risk_from[i] < NEVER and rank > 0:
                end[i, f] = int(plan.risk_from[i]) + int(rng.integers(0, 8))
    return start, end


def _sporadic(plan: Plan, rng: np.random.Generator) -> dict[int, list[int]]:
    """Login days of each churner once it has gone dark: one every 8-14 days."""
    out: dict[int, list[int]] = {}
    for i in np.flatnonzero(plan.dark_from < NEVER):
        churned = plan.churn[i] <= plan.today
        stop = int(plan.churn[i]) - int(rng.integers(3, 12)) if churned else plan.today + 1
        day = int(plan.dark_from[i]) - 1 + int(rng.integers(8, 15))
        if not churned:
            day = min(day, plan.today - 1)
        days = []
        while day < stop:
            days.append(day)
            day += int(rng.integers(8, 15))
        out[int(i)] = days
    return out


def _utc_offsets(plan: Plan, zones: list[str]) -> np.ndarray:
    """Seconds to subtract from local time to get UTC, per time zone and day."""
    out = np.zeros((len(zones), plan.today + 1), dtype=np.int64)
    for z, name in enumerate(zones):
        tz = zoneinfo.ZoneInfo(name)
        for d in range(0, plan.today + 1, 7):
            noon = dt.datetime.combine(plan.origin + dt.timedelta(days=d), dt.time(12), tzinfo=tz)
            offset = noon.utcoffset()
            out[z, d : d + 7] = int(offset.total_seconds()) if offset else 0
    return out


def _logins(
    plan: Plan, contacts: Contacts, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, dict[int, list[int]]]:
    """Login (contact, day) pairs, and each fading churner's last sessions (row numbers)."""
    mult = _trajectory(plan, rng)
    # 1 - (1 - p)^m keeps a key user near-daily when the multiplier dips a little (no false
    # "no login for 7 days") and still lets a fading account fade.
    miss = (1.0 - contacts.login_p[:, None]).astype(np.float32)
    prob = (1.0 - miss ** mult[contacts.account]) * weekday_factor(plan.origin, plan.today + 1)
    c_log, d_log = np.nonzero(rng.random(prob.shape, dtype=np.float32) < prob)
    del prob, mult
    key_user = {
        int(contacts.account[c]): int(c) for c in np.flatnonzero(contacts.role == "key_user")
    }
    sessions: dict[int, list[int]] = {}
    extra_c: list[int] = []
    extra_d: list[int] = []
    for a, days in _sporadic(plan, rng).items():
        first = len(c_log) + len(extra_c)
        sessions[a] = list(range(first, first + len(days)))
        extra_c += [key_user[a]] * len(days)
        extra_d += days
    c_log = np.concatenate([c_log, np.array(extra_c, dtype=np.int64)])
    d_log = np.concatenate([d_log, np.array(extra_d, dtype=np.int64)])
    return c_log, d_log, sessions


def _core_uses(
    plan: Plan, rng: np.random.Generator, core: Sequence[str], a_log: np.ndarray, d_log: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(session row, core feature index) of every core-feature event.

    On each day an account logs in, each feature it has adopted is used with probability
    CORE_DAILY_P, in one of that day's sessions: a team that relies on a feature touches it
    most days, so a healthy account never looks as if it dropped one.
    """
    n_days = plan.today + 1
    key = a_log.astype(np.int64) * n_days + d_log
    by_key = np.argsort(key, kind="stable")
    pairs, first, n_sessions = np.unique(key[by_key], return_index=True, return_counts=True)
    acc, day = pairs // n_days, pairs % n_days
    start, end = _adoption(plan, rng, core)
    usable = (start[acc] <= day[:, None]) & (day[:, None] < end[acc])
    p_use = np.where(day >= plan.risk_from[acc], CORE_DAILY_P * 0.6, CORE_DAILY_P)
    draw = rng.random(usable.shape, dtype=np.float32)
    pair, feature = np.nonzero(usable & (draw < p_use[:, None]))
    reps = 1 + rng.poisson(CORE_REPEAT, len(pair))
    pair, feature = np.repeat(pair, reps), np.repeat(feature, reps)
    chosen = first[pair] + (rng.random(len(pair)) * n_sessions[pair]).astype(np.int64)
    return by_key[chosen], feature


def _cancel_sessions(
    plan: Plan, rng: np.random.Generator, a_log: np.ndarray, sessions: dict[int, list[int]]
) -> np.ndarray:
    """Sessions with a cancellation attempt: 2-3 on a planted churner's last two sessions,
    and a single stray click at 1.5% of healthy and growing accounts (which no rule flags)."""
    rows: list[int] = []
    for a, mine in sessions.items():
        if "cancel_attempts" in plan.signals[a] and mine:
            last_two = mine[-2:]
            rows += [last_two[t % len(last_two)] for t in range(int(rng.integers(2, 4)))]
    stray = np.isin(plan.cohort, ["healthy", "growth"]) & (rng.random(plan.n) < 0.015)
    for account in np.flatnonzero(stray):
        own = np.flatnonzero(a_log == account)
        if len(own):
            rows.append(int(rng.choice(own)))
    return np.array(rows, dtype=np.int64)


def make_events(
    plan: Plan,
    contacts: Contacts,
    rng: np.random.Generator,
    *,
    login: str,
    core: Sequence[str],
    cancel: str,
) -> pa.Table:
    """Every product event of the demo as a table in `EVENT_SCHEMA` (sorted by time)."""
    vocab = list(dict.fromkeys([login, cancel, *core, *OTHER_EVENTS]))
    code = {name: n for n, name in enumerate(vocab)}
    c_log, d_log, sessions = _logins(plan, contacts, rng)
    a_log = contacts.account[c_log]
    n_log = len(c_log)

    # A few other events per session (fewer once the decline began).
    counts = rng.poisson(np.where(d_log >= plan.risk_from[a_log], 0.3, OTHER_PER_LOGIN))
    other_src = np.repeat(np.arange(n_log), counts)
    other_pos = np.arange(len(other_src)) - np.repeat(np.cumsum(counts) - counts, counts) + 1
    other_kind = np.array([code[e] for e in OTHER_EVENTS])[
        rng.choice(len(OTHER_EVENTS), len(other_src), p=OTHER_P)
    ]
    core_src, feature = _core_uses(plan, rng, core, a_log, d_log)
    cancels = _cancel_sessions(plan, rng, a_log, sessions)

    # Each event: the session (login row) it belongs to, its kind, its place in the session.
    ev_src = np.concatenate([np.arange(n_log), other_src, core_src, cancels])
    ev_kind = np.concatenate(
        [np.full(n_log, code[login]), other_kind, np.array([code[f] for f in core])[feature],
         np.full(len(cancels), code[cancel])]
    )  # fmt: skip
    ev_pos = np.concatenate(
        [np.zeros(n_log, dtype=np.int64), other_pos, rng.integers(1, 8, len(core_src)),
         np.full(len(cancels), 8)]
    )  # fmt: skip

    offsets = _utc_offsets(plan, contacts.timezones)
    local = (rng.uniform(8.5, 18.5, n_log) * 3600).astype(np.int64)
    start = d_log.astype(np.int64) * DAY_SECONDS + local - offsets[contacts.timezone[c_log], d_log]
    seconds = start[ev_src] + ev_pos * rng.integers(30, 600, len(ev_src))
    # Nothing after the as-of date or on/after the churn day (UTC).
    seconds = np.minimum(seconds, plan.end[a_log[ev_src]].astype(np.int64) * DAY_SECONDS - 1)
    order = np.argsort(seconds, kind="stable")
    ev_src, ev_kind, seconds = ev_src[order], ev_kind[order], seconds[order]

    base = int(dt.datetime.combine(plan.origin, dt.time(), tzinfo=dt.UTC).timestamp())
    n = len(ev_src)
    ids = pc.utf8_lpad(pc.cast(pa.array(np.arange(1, n + 1)), pa.string()), width=9, padding="0")
    props = pa.array([json.dumps({"platform": p}) for p in PLATFORMS])
    return pa.table(
        {
            "message_id": pc.binary_join_element_wise(f"demo-{plan.seed}-", ids, ""),
            "account_id": pa.array(plan.external_id).take(pa.array(a_log[ev_src])),
            "contact_id": pa.array(contacts.external_id).take(pa.array(c_log[ev_src])),
            "event": pa.array(vocab).take(pa.array(ev_kind)),
            "timestamp": pa.array((seconds + base) * 1_000_000, type=pa.int64()).cast(
                pa.timestamp("us", tz="UTC")
            ),
            "properties": props.take(pa.array(rng.integers(0, len(PLATFORMS), n))),
        },
        schema=EVENT_SCHEMA,
    )
