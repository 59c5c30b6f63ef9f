"""The playbooks shipped from the strategy guide (section 2 and the alert push of section 3).

Installed by `tenure playbooks install-shipped` (and `make demo`); re-installing updates
a shipped playbook unless an admin has edited it (it is then no longer `shipped`).
Template keys refer to the shipped templates of `tenure.content`.
"""

from __future__ import annotations

from typing import Any

SHIPPED: list[dict[str, Any]] = [
    {
        "key": "onboarding",
        "name": "Onboarding: training, tutorial, usage follow-up",
        "description": "Guide 2.1: one-to-one training for key users, the tutorial in their "
        "preferred format, and a usage follow-up two weeks in.",
        "definition": {
            "trigger": {"type": "stage", "stage": "onboarding"},
            "audience": {"target": "contacts", "roles": ["key_user", "champion"]},
            "steps": [
                {"action": "send", "template": "onboarding_welcome"},
                {
                    "action": "task",
                    "title": "One-to-one training for the key users of {{ account.name }}",
                    "due_days": 5,
                    "priority": "high",
                },
                {"action": "wait", "days": 2},
                {"action": "send", "template": "onboarding_tutorial"},
                {"action": "wait", "days": 14},
                {"action": "send", "template": "usage_follow_up"},
            ],
        },
    },
    {
        "key": "growth",
        "name": "Growth: case study, webinar, optimisation advice",
        "description": "Guide 2.1: a same-industry case study, a webinar invitation, and "
        "advice drawn from the account's own usage.",
        "definition": {
            "trigger": {"type": "stage", "stage": "growth"},
            "audience": {"target": "contacts", "roles": ["decision_maker", "key_user", "champion"]},
            "steps": [
                {"action": "send", "template": "growth_case_study"},
                {"action": "wait", "days": 10},
                {"action": "send", "template": "webinar_invitation"},
                {"action": "wait", "days": 20},
                {"action": "send", "template": "optimisation_advice"},
            ],
        },
    },
    {
        "key": "mature",
        "name": "Mature: upsell module, advisory board",
        "description": "Guide 2.1: recommend the next module, invite to the customer "
        "advisory board.",
        "definition": {
            "trigger": {"type": "stage", "stage": "mature"},
            "audience": {"target": "contacts", "roles": ["decision_maker", "champion"]},
            "steps": [
                {"action": "send", "template": "upsell_module"},
                {"action": "wait", "days": 30},
                {"action": "send", "template": "advisory_board_invitation"},
            ],
        },
    },
    {
        "key": "declining",
        "name": "Declining: root cause, renewal offer",
        "description": "Guide 2.1: find out why usage is falling, then offer renewal terms.",
        "definition": {
            "trigger": {"type": "stage", "stage": "declining"},
            "audience": {"target": "contacts", "roles": ["decision_maker"]},
            "steps": [
                {
                    "action": "case",
                    "title": "Find the root cause of the decline at {{ account.name }}",
                    "detail": "Usage change {{ outcomes.usage_change }}, complaints in 30 days "
                    "{{ outcomes.complaints_30d }}. Interview the key users and record the cause.",
                    "due_days": 3,
                    "priority": "high",
                },
                {"action": "wait", "days": 7},
                {"action": "send", "template": "renewal_offer"},
            ],
        },
    },
    {
        "key": "no_login_3d_tutorial",
        "name": "No login for 3 days: new-feature tutorial",
        "description": "Guide 2.2: a contact who has not logged in for three days gets the "
        "new-feature tutorial (at most once a fortnight).",
        "definition": {
            "trigger": {"type": "schedule", "every": "day"},
            "conditions": "days_since_login >= 3 and days_since_login < 7",
            "audience": {"target": "contacts", "roles": ["key_user", "user", "champion"]},
            "steps": [{"action": "send", "template": "feature_tutorial"}],
            "cooldown_days": 14,
        },
    },
    {
        "key": "heavy_reporting_case_study",
        "name": "Heavy use of reports: the matching case study",
        "description": "Guide 2.2: an account that creates reports while it is a heavy user "
        "(200+ events in 30 days) gets the reporting case study, at most monthly.",
        "definition": {
            "trigger": {"type": "event", "event": "report.create"},
            "conditions": "events_30d >= 200",
            "audience": {"target": "contacts", "roles": ["key_user", "champion"]},
            "steps": [{"action": "send", "template": "feature_case_study"}],
            "reenrol": "after_cooldown",
            "cooldown_days": 30,
        },
    },
    {
        "key": "weekly_onboarding_tips",
        "name": "Weekly tips while onboarding",
        "description": "Guide 2.4 cadence: every Monday while the account is onboarding.",
        "definition": {
            "trigger": {
                "type": "schedule",
                "every": "week",
                "weekday": 1,
                "stages": ["onboarding"],
            },
            "audience": {"target": "contacts", "roles": ["key_user", "user"]},
            "steps": [{"action": "send", "template": "weekly_tips"}],
        },
    },
    {
        "key": "monthly_industry_insight",
        "name": "Monthly industry insight when mature",
        "description": "Guide 2.4 cadence: on the 1st of each month for mature accounts.",
        "definition": {
            "trigger": {"type": "schedule", "every": "month", "day": 1, "stages": ["mature"]},
            "audience": {"target": "contacts", "roles": ["decision_maker", "champion"]},
            "steps": [{"action": "send", "template": "monthly_industry_insight"}],
        },
    },
    {
        "key": "alert_push",
        "name": "Push every risk alert to the owning CSM",
        "description": "Guide 3.2: every alert goes to the account's CSM with its evidence.",
        "definition": {
            "trigger": {"type": "rule", "rule": "*", "on": "fired"},
            "steps": [{"action": "notify_owner", "template": "alert_notification"}],
            "reenrol": "always",
        },
    },
]
