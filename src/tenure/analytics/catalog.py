"""The feature catalogue: every name a rule, health measure or scorecard may refer to.

Windows are inclusive of the as-of day: "last 7 days" for as-of D is D-6 .. D.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Feature:
    name: str
    source: str  # "events" or "operational"
    description: str


FEATURES: tuple[Feature, ...] = (
    # Product usage, from the event store.
    Feature("days_since_login", "events", "Days since the last login event (tenure if never)"),
    Feature("logins_7d", "events", "Login events in the last 7 days"),
    Feature("logins_30d", "events", "Login events in the last 30 days"),
    Feature("events_7d", "events", "Product events in the last 7 days"),
    Feature("events_30d", "events", "Product events in the last 30 days"),
    Feature("events_90d", "events", "Product events in the last 90 days"),
    Feature("events_prev_30d", "events", "Product events in the 30 days before the last 30"),
    Feature("usage_change", "events", "(events_30d - events_prev_30d) / max(events_prev_30d, 1)"),
    Feature("days_since_last_event", "events", "Days since the last product event of any kind"),
    Feature("core_features_used_30d", "events", "Distinct core features used in the last 30 days"),
    Feature("core_usage", "events", "Share of the configured core features used in 30 days"),
    Feature("cancel_attempts_30d", "events", "Account-cancellation attempts in the last 30 days"),
    # Relationship and transactions, from the operational store.
    Feature("tenure_days", "operational", "Days since the account became a customer"),
    Feature("tenure_months", "operational", "Whole calendar months since customer_since"),
    Feature("arr", "operational", "ARR of subscriptions active on the as-of date"),
    Feature("revenue_12m", "operational", "Order amount in the last 12 months"),
    Feature("margin_12m", "operational", "Order margin in the last 12 months"),
    Feature("orders_12m", "operational", "Orders in the last 12 months"),
    Feature("days_since_last_order", "operational", "Days since the last order"),
    Feature("purchase_period", "operational", "Order amount in the last purchase period"),
    Feature("purchase_prev_period", "operational", "Order amount in the period before that"),
    Feature("purchase_change", "operational", "(purchase_period - prev) / prev (null if prev = 0)"),
    Feature("days_renewal_overdue", "operational", "Days since the last contract ended unrenewed"),
    Feature("days_to_renewal", "operational", "Days until the earliest active contract ends"),
    Feature("tickets_30d", "operational", "Support tickets opened in the last 30 days"),
    Feature("open_tickets", "operational", "Tickets opened and not resolved by the as-of date"),
    Feature("complaints_30d", "operational", "Complaint tickets in the last 30 days"),
    Feature("complaints_prev_30d", "operational", "Complaint tickets in the 30 days before that"),
    Feature("complaints_change", "operational", "(complaints_30d - prev) / max(prev, 1)"),
    Feature("nps_90d", "operational", "Account NPS (-100..100) over the last 90 days"),
    Feature("nps_prev_90d", "operational", "Account NPS over the 90 days before that"),
    Feature("nps_change", "operational", "nps_90d - nps_prev_90d"),
    Feature("nps_responses_90d", "operational", "NPS responses in the last 90 days"),
    Feature("negative_comments_30d", "operational", "Negative public comments in the last 30 days"),
    Feature("industry_influence", "operational", "Potential-value input, 0-100"),
    Feature("innovation_synergy", "operational", "Potential-value input, 0-100"),
    Feature("growth_potential", "operational", "Potential-value input, 0-100"),
)

FEATURE_NAMES: frozenset[str] = frozenset(f.name for f in FEATURES)
EVENT_FEATURES: tuple[str, ...] = tuple(f.name for f in FEATURES if f.source == "events")
OPERATIONAL_FEATURES: tuple[str, ...] = tuple(f.name for f in FEATURES if f.source == "operational")
