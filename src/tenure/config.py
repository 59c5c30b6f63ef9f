"""Where Tenure keeps its data (`Settings`) and how it scores (`TenureConfig`, tenure.toml)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tenure.analytics.catalog import FEATURE_NAMES
from tenure.errors import ConfigError

CONFIG_FILE = "tenure.toml"
DEFAULT_CONFIG_PATH = Path(__file__).with_name("default_config.toml")
WEIGHT_TOLERANCE = 1e-6


class Settings(BaseModel):
    """Locations of one Tenure data set (its "home")."""

    home: Path
    database_url: str

    @classmethod
    def load(cls, home: str | Path | None = None, database_url: str | None = None) -> Settings:
        """Resolve the home folder (`--home`, `TENURE_HOME`, then ~/.tenure) and database URL."""
        raw = home or os.environ.get("TENURE_HOME") or Path.home() / ".tenure"
        path = Path(raw).expanduser().resolve()
        url = (
            database_url
            or os.environ.get("TENURE_DATABASE_URL")
            or f"sqlite:///{path / 'tenure.db'}"
        )
        return cls(home=path, database_url=url)

    @property
    def events_path(self) -> Path:
        return self.home / "events"

    @property
    def config_path(self) -> Path:
        return self.home / CONFIG_FILE

    @property
    def rejects_dir(self) -> Path:
        return self.home / "rejects"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_weights(weights: dict[str, float], where: str, problems: list[tuple[str, str]]) -> None:
    total = sum(weights.values())
    if weights and abs(total - 1.0) > WEIGHT_TOLERANCE:
        problems.append((where, f"weights must add up to 1.0, they add up to {total:g}"))


class ValueConfig(_Strict):
    current_weight: float = Field(0.6, ge=0, le=1)
    potential_weight: float = Field(0.4, ge=0, le=1)
    current_cutoff: float = Field(50.0, ge=0, le=100)
    potential_cutoff: float = Field(50.0, ge=0, le=100)
    current_measures: dict[str, float] = Field(
        default_factory=lambda: {"revenue_12m": 0.7, "margin_12m": 0.3}
    )
    potential_measures: dict[str, float] = Field(
        default_factory=lambda: {
            "industry_influence": 0.4,
            "innovation_synergy": 0.3,
            "growth_potential": 0.3,
        }
    )


class RfmConfig(_Strict):
    bins: int = Field(5, ge=2, le=10)


class LifecycleConfig(_Strict):
    onboarding_months: int = Field(3, ge=0)
    growth_months: int = Field(12, ge=1)
    declining_usage_change: float = Field(-0.3, le=0)
    declining_min_complaints: int = Field(2, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> LifecycleConfig:
        if self.growth_months <= self.onboarding_months:
            raise ValueError("growth_months must be greater than onboarding_months")
        return self


class FeaturesConfig(_Strict):
    login_events: list[str] = Field(default_factory=lambda: ["login"], min_length=1)
    core_features: list[str] = Field(min_length=1, max_length=62)
    cancel_events: list[str] = Field(default_factory=lambda: ["account.cancel_attempt"])
    purchase_period_days: int = Field(365, ge=7, le=3650)


class HealthMeasure(_Strict):
    feature: str
    weight: float = Field(gt=0, le=1)
    good: float
    bad: float
    missing: float | None = Field(None, ge=0, le=100, description="score when the value is null")

    @model_validator(mode="after")
    def _distinct(self) -> HealthMeasure:
        if self.good == self.bad:
            raise ValueError("good and bad must differ")
        return self


class HealthConfig(_Strict):
    measures: list[HealthMeasure] = Field(min_length=1)


Severity = Literal["low", "medium", "high", "critical"]
Category = Literal["behaviour", "transaction", "feedback", "other"]


class RiskRule(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,99}$")
    name: str = Field(min_length=1, max_length=200)
    category: Category = "other"
    severity: Severity = "medium"
    expression: str = Field(min_length=1)
    enabled: bool = True


class RiskConfig(_Strict):
    rules: list[RiskRule] = Field(default_factory=list)


class EngagementConfig(_Strict):
    """Limits every outgoing message to a customer contact honours (guide, section 2.3)."""

    # Public address of this server, for links in messages (unsubscribe, surveys).
    base_url: str = Field("http://127.0.0.1:8000", pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    # Contacts without a time zone are treated as being in this one.
    default_timezone: str = "Asia/Shanghai"
    # No message reaches a contact between these local times; it waits for the end instead.
    quiet_hours_start: str = Field("21:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    quiet_hours_end: str = Field("08:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    # At most this many messages per contact in any window of this many days (0: no cap).
    max_messages_per_contact: int = Field(3, ge=0, le=1000)
    cap_window_days: int = Field(7, ge=1, le=365)
    # Delivery: attempts before a message is dead, and the back-off between them.
    max_attempts: int = Field(8, ge=1, le=100)
    retry_base_seconds: float = Field(30.0, gt=0, le=3600)
    retry_max_seconds: float = Field(6 * 3600.0, gt=0, le=7 * 24 * 3600)
    # NPS survey links expire after this many days; non-respondents get reminders.
    survey_valid_days: int = Field(14, ge=1, le=365)
    survey_reminder_days: int = Field(3, ge=1, le=90)
    survey_max_reminders: int = Field(1, ge=0, le=5)


class TenureConfig(_Strict):
    """Everything `tenure.toml` configures, with the guide's defaults."""

    value: ValueConfig = Field(default_factory=ValueConfig)
    rfm: RfmConfig = Field(default_factory=RfmConfig)
    lifecycle: LifecycleConfig = Field(default_factory=LifecycleConfig)
    features: FeaturesConfig
    health: HealthConfig
    risk: RiskConfig = Field(default_factory=RiskConfig)
    engagement: EngagementConfig = Field(default_factory=EngagementConfig)


def _loc(parts: tuple[int | str, ...]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def semantic_problems(config: TenureConfig) -> list[tuple[str, str]]:
    """Problems pydantic cannot see: unknown features, weights, bad rule expressions."""
    from tenure.risk.language import RuleError, compile_rule

    problems: list[tuple[str, str]] = []
    value = config.value
    if abs(value.current_weight + value.potential_weight - 1.0) > WEIGHT_TOLERANCE:
        problems.append(
            (
                "value",
                "current_weight + potential_weight must be 1.0, "
                f"they are {value.current_weight + value.potential_weight:g}",
            )
        )
    for section in ("current_measures", "potential_measures"):
        weights: dict[str, float] = getattr(value, section)
        _check_weights(weights, f"value.{section}", problems)
        for name, weight in weights.items():
            if name not in FEATURE_NAMES:
                problems.append((f"value.{section}.{name}", f"unknown feature {name!r}"))
            if weight < 0:
                problems.append((f"value.{section}.{name}", "weight must not be negative"))
    _check_weights(
        {m.feature: m.weight for m in config.health.measures}, "health.measures", problems
    )
    for i, measure in enumerate(config.health.measures):
        if measure.feature not in FEATURE_NAMES:
            problems.append(
                (f"health.measures[{i}].feature", f"unknown feature {measure.feature!r}")
            )
    seen: set[str] = set()
    for i, rule in enumerate(config.risk.rules):
        if rule.id in seen:
            problems.append((f"risk.rules[{i}].id", f"duplicate rule id {rule.id!r}"))
        seen.add(rule.id)
        try:
            compile_rule(rule.expression, FEATURE_NAMES)
        except RuleError as exc:
            problems.append((f"risk.rules[{i}].expression", exc.reason))
    if not _known_timezone(config.engagement.default_timezone):
        problems.append(
            (
                "engagement.default_timezone",
                f"unknown time zone {config.engagement.default_timezone!r} "
                "(an IANA name such as 'Asia/Shanghai')",
            )
        )
    return problems


def _known_timezone(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _raw_rule_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    """Rule-expression problems found in a document that failed validation elsewhere."""
    from tenure.risk.language import RuleError, compile_rule

    problems: list[tuple[str, str]] = []
    rules = data.get("risk", {}).get("rules", []) if isinstance(data.get("risk"), dict) else []
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        expression = rule.get("expression") if isinstance(rule, dict) else None
        if isinstance(expression, str) and expression:
            try:
                compile_rule(expression, FEATURE_NAMES)
            except RuleError as exc:
                problems.append((f"risk.rules[{i}].expression", exc.reason))
    return problems


def parse_config(data: dict[str, Any]) -> TenureConfig:
    """Validate a parsed TOML document; raise `ConfigError` listing every problem."""
    try:
        config = TenureConfig.model_validate(data)
    except ValidationError as exc:
        problems = [(_loc(tuple(err["loc"])) or "(top level)", err["msg"]) for err in exc.errors()]
        raise ConfigError(problems + _raw_rule_problems(data)) from None
    problems = semantic_problems(config)
    if problems:
        raise ConfigError(problems)
    return config


def load_config(path: Path | None) -> TenureConfig:
    """Load `path` (or the shipped defaults when it does not exist) and validate it."""
    source = path if path is not None and path.exists() else DEFAULT_CONFIG_PATH
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([(str(source), f"not valid TOML: {exc}")]) from None
    return parse_config(data)


def write_default_config(path: Path) -> bool:
    """Write the shipped defaults to `path` unless a file is there; True if written."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    return True
