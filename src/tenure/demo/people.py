"""The CS team (users), the customer companies (accounts) and their people (contacts)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from faker import Faker

from tenure.demo.profiles import Plan
from tenure.demo.texts import INDUSTRIES, SIZES, LocaleText

ACCOUNTS_PER_CSM = 80
_CONTACTS_BY_SIZE = {
    "micro": (2, 3),
    "small": (2, 4),
    "mid": (3, 5),
    "large": (4, 6),
    "enterprise": (5, 6),
}
_EXTRA_ROLES = ("champion", "user", "billing", "user")
# Chance that a contact logs in on a working day, by role.
LOGIN_P = {"decision_maker": 0.2, "key_user": 0.9, "champion": 0.6, "user": 0.45, "billing": 0.05}
VENDOR_DOMAIN = "tenure-demo.example"


@dataclass
class Contacts:
    """Contacts as arrays for the generators, plus the rows to insert."""

    account: np.ndarray  # account index of each contact
    role: np.ndarray
    timezone: np.ndarray  # index into `timezones`
    timezones: list[str]
    external_id: list[str]
    login_p: np.ndarray
    rows: list[dict[str, Any]]

    def of_account(self) -> list[np.ndarray]:
        """Contact indices per account (contacts are stored account by account)."""
        bounds = np.searchsorted(self.account, np.arange(self.account.max() + 2))
        return [np.arange(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]


def make_users(n_accounts: int, text: LocaleText, fake: Faker) -> list[dict[str, Any]]:
    """One admin, two managers and a CSM per ~80 accounts."""
    roles = ["admin", "manager", "manager"] + ["csm"] * max(
        1, math.ceil(n_accounts / ACCOUNTS_PER_CSM)
    )
    rows = []
    for i, role in enumerate(roles):
        rows.append(
            {
                "external_id": f"U{i + 1:03d}",
                "email": f"{fake.user_name()}.{i + 1}@{VENDOR_DOMAIN}",
                "name": fake.name(),
                "role": role,
                "department": text.departments[role],
                "locale": text.language,
                "is_active": True,
            }
        )
    return rows


def _company_name(
    fake: Faker, text: LocaleText, city: str, industry: str, size: str, rng: np.random.Generator
) -> str:
    word = str(rng.choice(text.industry_words[industry]))
    if text.code == "zh":
        suffixes = text.name_suffixes[:2] if size in ("micro", "small") else text.name_suffixes
        return f"{city}{fake.company_prefix()}{word}{rng.choice(suffixes)}"
    return f"{fake.last_name()} {word} {rng.choice(text.name_suffixes)}"


def make_accounts(
    plan: Plan, text: LocaleText, fake: Faker, rng: np.random.Generator, csm_ids: list[int]
) -> list[dict[str, Any]]:
    """Account rows, owned by the CSMs in `csm_ids`."""
    owners = np.array(csm_ids)[rng.permutation(plan.n) % len(csm_ids)]
    seen: set[str] = set()
    rows = []
    for i in range(plan.n):
        label, city, _tz = text.regions[plan.region[i]]
        industry = INDUSTRIES[plan.industry[i]]
        size = SIZES[plan.size[i]]
        name = _company_name(fake, text, city, industry, size, rng)
        for attempt in range(2, 50):
            if name not in seen:
                break
            name = _company_name(fake, text, city, industry, size, rng)
            if attempt > 5:
                name = f"{name} {attempt}"
        seen.add(name)
        churned = plan.churn[i] <= plan.today
        rows.append(
            {
                "external_id": plan.external_id[i],
                "name": name,
                "industry": text.industry_labels[industry],
                "size": size,
                "employees": int(plan.employees[i]),
                "region": label,
                "owner_id": int(owners[i]),
                "customer_since": plan.date(int(plan.since[i])),
                "status": "churned" if churned else "active",
                "churn_date": plan.date(int(plan.churn[i])) if churned else None,
                "churn_reason": plan.churn_reason[i] if churned else None,
                "industry_influence": float(plan.potential[i, 0]),
                "innovation_synergy": float(plan.potential[i, 1]),
                "growth_potential": float(plan.potential[i, 2]),
                "strategic_goal": plan.goal[i],
                "attributes": {"demo_cohort": plan.cohort[i], "demo_segment": plan.segment[i]},
            }
        )
    return rows


def make_contacts(
    plan: Plan, text: LocaleText, fake: Faker, rng: np.random.Generator, account_ids: list[int]
) -> Contacts:
    """2-6 contacts per account with roles, preferred channel and format, locale, time zone."""
    timezones = sorted({tz for _, _, tz in text.regions})
    channels = [c for c, _ in text.channels]
    channel_p = np.array([p for _, p in text.channels])
    accounts: list[int] = []
    roles: list[str] = []
    zones: list[int] = []
    ids: list[str] = []
    rows: list[dict[str, Any]] = []
    for i in range(plan.n):
        lo, hi = _CONTACTS_BY_SIZE[SIZES[plan.size[i]]]
        k = int(rng.integers(lo, hi + 1))
        account_roles = ["decision_maker", "key_user", *_EXTRA_ROLES[: k - 2]]
        region, _city, tz = text.regions[plan.region[i]]
        domain = fake.domain_name()
        for j, role in enumerate(account_roles):
            zone = tz if rng.random() > 0.1 else str(rng.choice(timezones))
            ext = f"{plan.external_id[i]}-P{j + 1:02d}"
            if text.code == "zh":
                contact_locale = text.language
            else:
                contact_locale = "en-US" if region.startswith("US") else "en-GB"
            rows.append(
                {
                    "external_id": ext,
                    "account_id": account_ids[i],
                    "name": fake.name(),
                    "email": f"{fake.user_name()}{j + 1}@{domain}",
                    "phone": fake.phone_number(),
                    "title": str(rng.choice(text.titles[role])),
                    "role": role,
                    "channel_preference": channels[rng.choice(len(channels), p=channel_p)],
                    "format_preference": "video" if rng.random() < 0.4 else "document",
                    "locale": contact_locale,
                    "timezone": zone,
                    "opt_out_channels": [],
                    "opted_out_all": False,
                }
            )
            accounts.append(i)
            roles.append(role)
            zones.append(timezones.index(zone))
            ids.append(ext)
    role_arr = np.array(roles, dtype=object)
    acc = np.array(accounts)
    login_p = np.array([LOGIN_P[r] for r in roles])
    small_boss = (role_arr == "decision_maker") & (plan.size[acc] <= SIZES.index("small"))
    login_p[small_boss] = 0.35
    return Contacts(acc, role_arr, np.array(zones), timezones, ids, login_p, rows)
