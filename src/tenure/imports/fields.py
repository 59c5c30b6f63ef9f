"""What each importable entity's columns are: type, required, allowed values, references."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Literal

import sqlalchemy as sa

from tenure.accounts.models import (
    Account,
    AccountStatus,
    Channel,
    Contact,
    ContactRole,
    ContentFormat,
    Role,
    StrategicGoal,
    User,
)
from tenure.commerce.models import Order, Subscription, SubscriptionStatus
from tenure.feedback.models import Direction, Interaction, NpsResponse, Sentiment, Severity, Ticket

Kind = Literal[
    "str", "int", "float", "money", "bool", "date", "datetime", "enum", "ref", "json", "list"
]


@dataclass(frozen=True)
class FieldSpec:
    """One importable field: how a cell becomes a value of the column `column`."""

    name: str
    kind: Kind
    required: bool = False
    choices: tuple[str, ...] = ()
    ref: str | None = None  # entity named by external id (users: external id or email)
    column: str | None = None  # database column when it differs from `name`
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    nullable: bool = True
    default: Any = None  # stored on insert when the cell is empty and the column is not nullable
    description: str = ""

    @property
    def db_column(self) -> str:
        return self.column or self.name

    def type_label(self) -> str:
        """Short human description of the accepted values (for docs and `fields`)."""
        if self.kind == "enum":
            return "one of " + ", ".join(self.choices)
        if self.kind == "list":
            return "list of " + ", ".join(self.choices) + " (separated by , or ;)"
        if self.kind == "ref":
            return f"{self.ref} external id" + (" or email" if self.ref == "users" else "")
        label = {"money": "number (2 decimals)", "json": "JSON object"}.get(self.kind, self.kind)
        if self.minimum is not None and self.maximum is not None:
            label += f" {self.minimum:g}-{self.maximum:g}"
        elif self.minimum is not None:
            label += f" >= {self.minimum:g}"
        if self.max_length:
            label += f" (max {self.max_length} characters)"
        return label


@dataclass(frozen=True)
class EntitySpec:
    """An importable entity: its table, its fields and its natural key."""

    name: str
    description: str
    table: sa.Table | None  # None for events (they go to the event store)
    fields: tuple[FieldSpec, ...]
    key: str = "external_id"
    extras_field: str | None = None  # JSON field that keeps the mapping's extra columns
    by_name: dict[str, FieldSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields if f.required]


def _choices(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


def _bind(table: sa.Table, *fields: FieldSpec) -> tuple[FieldSpec, ...]:
    """Complete each field with its column's length, nullability and scalar default."""
    bound = []
    for spec in fields:
        col = table.c[spec.db_column]
        default = spec.default
        if default is None and col.default is not None and getattr(col.default, "is_scalar", False):
            default = col.default.arg  # type: ignore[attr-defined]
        length = getattr(col.type, "length", None) if spec.kind in ("str", "enum") else None
        bound.append(replace(spec, nullable=bool(col.nullable), default=default, max_length=length))
    return tuple(bound)


def _f(name: str, kind: Kind, description: str = "", **kw: Any) -> FieldSpec:
    return FieldSpec(name=name, kind=kind, description=description, **kw)


_KEY = _f("external_id", "str", "your system's id; the import key", required=True)
_ACCOUNT = _f("account_id", "ref", "the account's external id", required=True, ref="accounts")
_CONTACT = _f("contact_id", "ref", "the contact's external id (same account)", ref="contacts")
_SCORE: dict[str, Any] = {"minimum": 0, "maximum": 100}

USERS = EntitySpec(
    "users",
    "members of the CS team",
    User.__table__,  # type: ignore[arg-type]
    _bind(
        User.__table__,  # type: ignore[arg-type]
        _KEY,
        _f("email", "str", "sign-in email, unique", required=True),
        _f("name", "str", required=True),
        _f("role", "enum", choices=_choices(Role)),
        _f("department", "str"),
        _f("locale", "str", "zh-CN or en"),
        _f("is_active", "bool"),
    ),
)

ACCOUNTS = EntitySpec(
    "accounts",
    "customer companies",
    Account.__table__,  # type: ignore[arg-type]
    _bind(
        Account.__table__,  # type: ignore[arg-type]
        _KEY,
        _f("name", "str", required=True),
        _f("industry", "str"),
        _f("size", "str"),
        _f("employees", "int", minimum=0),
        _f("region", "str"),
        _f("owner", "ref", "owning CSM", ref="users", column="owner_id"),
        _f("customer_since", "date"),
        _f("status", "enum", choices=_choices(AccountStatus)),
        _f("churn_date", "date"),
        _f("churn_reason", "str"),
        _f("industry_influence", "float", **_SCORE),
        _f("innovation_synergy", "float", **_SCORE),
        _f("growth_potential", "float", **_SCORE),
        _f("strategic_goal", "enum", choices=_choices(StrategicGoal)),
        _f("attributes", "json", "custom attributes, merged into the stored ones"),
    ),
    extras_field="attributes",
)

CONTACTS = EntitySpec(
    "contacts",
    "people at customers",
    Contact.__table__,  # type: ignore[arg-type]
    _bind(
        Contact.__table__,  # type: ignore[arg-type]
        _KEY,
        _ACCOUNT,
        _f("name", "str", required=True),
        _f("email", "str"),
        _f("phone", "str"),
        _f("title", "str"),
        _f("role", "enum", choices=_choices(ContactRole)),
        _f("channel_preference", "enum", choices=_choices(Channel)),
        _f("format_preference", "enum", choices=_choices(ContentFormat)),
        _f("locale", "str"),
        _f("timezone", "str", "IANA name, e.g. Asia/Shanghai"),
        _f("opt_out_channels", "list", choices=_choices(Channel), default=[]),
        _f("opted_out_all", "bool"),
        _f("notes", "str"),
    ),
)

SUBSCRIPTIONS = EntitySpec(
    "subscriptions",
    "contracts",
    Subscription.__table__,  # type: ignore[arg-type]
    _bind(
        Subscription.__table__,  # type: ignore[arg-type]
        _KEY,
        _ACCOUNT,
        _f("product", "str", required=True),
        _f("start_date", "date", required=True),
        _f("end_date", "date", "not before start_date"),
        _f("arr", "money", minimum=0),
        _f("mrr", "money", minimum=0),
        _f("currency", "str", "ISO 4217 code, e.g. CNY"),
        _f("status", "enum", choices=_choices(SubscriptionStatus)),
        _f("auto_renew", "bool"),
    ),
)

ORDERS = EntitySpec(
    "orders",
    "purchases",
    Order.__table__,  # type: ignore[arg-type]
    _bind(
        Order.__table__,  # type: ignore[arg-type]
        _KEY,
        _ACCOUNT,
        _f("order_date", "date", required=True),
        _f("amount", "money", required=True),
        _f("margin", "money"),
        _f("currency", "str", "ISO 4217 code, e.g. CNY"),
        _f("product", "str"),
    ),
)

TICKETS = EntitySpec(
    "tickets",
    "support tickets",
    Ticket.__table__,  # type: ignore[arg-type]
    _bind(
        Ticket.__table__,  # type: ignore[arg-type]
        _KEY,
        _ACCOUNT,
        _CONTACT,
        _f("opened_at", "datetime", required=True),
        _f("first_response_at", "datetime"),
        _f("resolved_at", "datetime"),
        _f("severity", "enum", choices=_choices(Severity)),
        _f("category", "str"),
        _f("is_complaint", "bool"),
        _f("subject", "str"),
        _f("text", "str"),
    ),
)

NPS = EntitySpec(
    "nps",
    "NPS survey answers",
    NpsResponse.__table__,  # type: ignore[arg-type]
    _bind(
        NpsResponse.__table__,  # type: ignore[arg-type]
        _KEY,
        _ACCOUNT,
        _CONTACT,
        _f("responded_at", "datetime", required=True),
        _f("score", "int", required=True, minimum=0, maximum=10),
        _f("comment", "str"),
    ),
)

INTERACTIONS = EntitySpec(
    "interactions",
    "touches with customers on any channel",
    Interaction.__table__,  # type: ignore[arg-type]
    _bind(
        Interaction.__table__,  # type: ignore[arg-type]
        _KEY,
        _ACCOUNT,
        _CONTACT,
        _f("user_id", "ref", "the CS team member (external id or email)", ref="users"),
        _f("occurred_at", "datetime", required=True),
        _f("channel", "enum", required=True, choices=_choices(Channel)),
        _f("direction", "enum", choices=_choices(Direction)),
        _f("type", "str", "e.g. call, visit, qbr, comment", required=True),
        _f("summary", "str"),
        _f("sentiment", "enum", choices=_choices(Sentiment)),
    ),
)

EVENTS = EntitySpec(
    "events",
    "product-usage events (to the event store)",
    None,
    (
        _f("message_id", "str", "unique id; generated from the content when empty", max_length=200),
        _f("account_id", "ref", "the account's external id", required=True, ref="accounts"),
        _f("contact_id", "str", "the contact's external id (not checked)"),
        _f("event", "str", "event name, e.g. login", required=True, max_length=200),
        _f("timestamp", "datetime", required=True, nullable=False),
        _f("properties", "json"),
    ),
    key="message_id",
    extras_field="properties",
)

ENTITIES: dict[str, EntitySpec] = {
    spec.name: spec
    for spec in (
        USERS,
        ACCOUNTS,
        CONTACTS,
        SUBSCRIPTIONS,
        ORDERS,
        TICKETS,
        NPS,
        INTERACTIONS,
        EVENTS,
    )
}
