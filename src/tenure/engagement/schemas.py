"""The playbook definition (what the API, the editor and the shipped playbooks write) and
the read models of playbooks, runs and tasks."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tenure.accounts.models import ContactRole
from tenure.scoring.lifecycle import STAGES

QUADRANTS = ("strategic_partner", "growth", "profit", "basic")
# Score columns a playbook condition may name besides the features.
SCORE_NAMES = (
    "health_score",
    "value_score",
    "current_value",
    "potential_value",
    "health_change",
)
KEY_PATTERN = r"^[a-z][a-z0-9_]{0,99}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventTrigger(_Strict):
    """A tracked event arrives (optionally with matching properties)."""

    type: Literal["event"]
    event: str = Field(min_length=1, max_length=200)
    where: dict[str, str | int | float | bool] = Field(default_factory=dict)


class RuleTrigger(_Strict):
    """A risk rule opens an alert episode (fired) or its episode closes (cleared)."""

    type: Literal["rule"]
    rule: str = Field(min_length=1, max_length=100, description="a rule id, or * for any")
    on: Literal["fired", "cleared"] = "fired"


class StageTrigger(_Strict):
    """An account enters a lifecycle stage."""

    type: Literal["stage"]
    stage: str
    new_customer_days: int = Field(31, ge=0, le=3650)

    @field_validator("stage")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in STAGES:
            raise ValueError(f"unknown stage {value!r} (one of {', '.join(STAGES)})")
        return value


class QuadrantTrigger(_Strict):
    """An account enters a value quadrant."""

    type: Literal["quadrant"]
    quadrant: str
    new_customer_days: int = Field(31, ge=0, le=3650)

    @field_validator("quadrant")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in QUADRANTS:
            raise ValueError(f"unknown quadrant {value!r} (one of {', '.join(QUADRANTS)})")
        return value


class ScheduleTrigger(_Strict):
    """A cadence: every day, week (on `weekday`, 1 = Monday) or month (on `day`), for the
    accounts currently in `stages` / `quadrants` (empty: any)."""

    type: Literal["schedule"]
    every: Literal["day", "week", "month"]
    weekday: int = Field(1, ge=1, le=7)
    day: int = Field(1, ge=1, le=28)
    stages: list[str] = Field(default_factory=list)
    quadrants: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known(self) -> ScheduleTrigger:
        for stage in self.stages:
            if stage not in STAGES:
                raise ValueError(f"unknown stage {stage!r} (one of {', '.join(STAGES)})")
        for quadrant in self.quadrants:
            if quadrant not in QUADRANTS:
                raise ValueError(f"unknown quadrant {quadrant!r}")
        return self


Trigger = Annotated[
    EventTrigger | RuleTrigger | StageTrigger | QuadrantTrigger | ScheduleTrigger,
    Field(discriminator="type"),
]


class Audience(_Strict):
    """Who the run's messages go to: the account (its contacts of every role) or the
    contacts of `roles`."""

    target: Literal["account", "contacts"] = "account"
    roles: list[str] = Field(default_factory=list)

    @field_validator("roles")
    @classmethod
    def _known(cls, roles: list[str]) -> list[str]:
        known = [r.value for r in ContactRole]
        for role in roles:
            if role not in known:
                raise ValueError(f"unknown contact role {role!r} (one of {', '.join(known)})")
        return roles


class SendStep(_Strict):
    action: Literal["send"]
    template: str = Field(pattern=KEY_PATTERN)
    channel: str | None = Field(None, description="force a channel kind; default: preference")


class WaitStep(_Strict):
    action: Literal["wait"]
    days: float = Field(0, ge=0, le=365)
    hours: float = Field(0, ge=0, le=24 * 365)

    @model_validator(mode="after")
    def _some(self) -> WaitStep:
        if self.days == 0 and self.hours == 0:
            raise ValueError("a wait needs days or hours")
        return self


class TaskStep(_Strict):
    action: Literal["task", "case"]
    title: str = Field(min_length=1, max_length=300)
    detail: str | None = Field(None, max_length=10_000)
    due_days: int = Field(3, ge=0, le=365)
    priority: Literal["low", "normal", "high"] = "normal"


class NotifyOwnerStep(_Strict):
    action: Literal["notify_owner"]
    template: str = Field(pattern=KEY_PATTERN)
    endpoint: str | None = Field(None, description="a team endpoint's name; default e-mail")


class SetFieldStep(_Strict):
    action: Literal["set_field"]
    field: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
    value: str | int | float | bool | None


class SurveyStep(_Strict):
    action: Literal["survey"]
    survey: Literal["nps"] = "nps"


Step = Annotated[
    SendStep | WaitStep | TaskStep | NotifyOwnerStep | SetFieldStep | SurveyStep,
    Field(discriminator="action"),
]


class PlaybookDefinition(_Strict):
    """Trigger, audience, conditions, steps and re-enrolment of a playbook."""

    trigger: Trigger
    audience: Audience = Field(default_factory=Audience)
    conditions: str | None = Field(None, max_length=2000)
    steps: list[Step] = Field(min_length=1, max_length=50)
    reenrol: Literal["never", "after_cooldown", "always"] = "never"
    cooldown_days: int = Field(0, ge=0, le=3650)

    @field_validator("conditions")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        condition_rule(value)  # raises ValueError with the position
        return value


def condition_rule(expression: str) -> Any:
    """Compile a playbook condition (features and score columns); ValueError if invalid."""
    from tenure.analytics.catalog import FEATURES
    from tenure.risk.language import RuleError, compile_rule

    try:
        return compile_rule(expression, [f.name for f in FEATURES] + list(SCORE_NAMES))
    except RuleError as exc:
        raise ValueError(str(exc)) from None


class PlaybookWrite(_Strict):
    """Create or replace a playbook."""

    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    enabled: bool = True
    definition: PlaybookDefinition


class PlaybookPatch(_Strict):
    """Change some of a playbook."""

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    enabled: bool | None = None
    definition: PlaybookDefinition | None = None


class PlaybookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    name: str
    description: str | None
    enabled: bool
    shipped: bool
    trigger_type: str
    definition: dict[str, Any]
    version: int
    updated_at: dt.datetime | None
    runs_active: int = 0
    runs_total: int = 0


class StepLogRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    step_index: int
    action: str
    outcome: str
    detail: dict[str, Any]
    contact_id: int | None
    outbox_id: int | None
    at: dt.datetime


class RunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    playbook_key: str
    playbook_name: str
    playbook_version: int
    account_id: int
    account_external_id: str
    account_name: str
    trigger_key: str
    reason: dict[str, Any]
    status: str
    step_index: int
    next_step_at: dt.datetime | None
    started_at: dt.datetime
    finished_at: dt.datetime | None
    steps: list[StepLogRead] = Field(default_factory=list)


class TaskRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    account_id: int
    account_external_id: str
    account_name: str
    owner_id: int | None
    owner_name: str | None
    title: str
    detail: str | None
    priority: str
    due_date: dt.date | None
    status: str
    run_id: int | None
    alert_id: int | None
    created_at: dt.datetime | None
    completed_at: dt.datetime | None
