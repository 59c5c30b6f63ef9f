"""The endpoint forms: one per plugin kind built from its models, and what a posted form holds."""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from tenure.channels.registry import plugins
from tenure.channels.schemas import EndpointRead
from tenure.errors import ResourceAlreadyExists, ResourceNotFound, TenureError

InputKind = Literal["text", "number", "select", "checkbox", "password"]


@dataclass(frozen=True)
class FieldSpec:
    """One input of a kind's form, read from a plugin model's field."""

    key: str  # the form field's name: settings.<name> or secrets.<name>
    name: str
    input: InputKind
    required: bool
    default: str
    description: str
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class KindForm:
    """A plugin kind and the inputs of its form."""

    kind: str
    label: str
    settings: tuple[FieldSpec, ...]
    secrets: tuple[FieldSpec, ...]


@dataclass
class EndpointForm:
    """What a form shows: typed values by field name, problems, and which secrets are set."""

    kind: str
    values: dict[str, str] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)
    secrets_set: tuple[str, ...] = ()

    def value(self, key: str) -> str:
        return self.values.get(key, "")

    def errors(self, key: str) -> list[str]:
        return [message for k, message in self.problems if k == key]


def _unwrap(annotation: Any) -> Any:
    """`X | None` as X."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    return str(value)


def field_specs(model: type[BaseModel], group: str) -> tuple[FieldSpec, ...]:
    """The inputs of a settings (`group` "settings") or secrets ("secrets") model."""
    specs = []
    for name, info in model.model_fields.items():
        annotation = _unwrap(info.annotation)
        options: tuple[str, ...] = ()
        kind: InputKind
        if group == "secrets":
            kind = "password"
        elif get_origin(annotation) is Literal:
            kind, options = "select", tuple(str(a) for a in get_args(annotation))
        elif annotation is bool:
            kind = "checkbox"
        elif annotation in (int, float):
            kind = "number"
        else:
            kind = "text"
        default = "" if info.is_required() else _text(info.get_default(call_default_factory=True))
        specs.append(
            FieldSpec(
                key=f"{group}.{name}", name=name, input=kind, required=info.is_required(),
                default=default, description=info.description or "", options=options,
            )
        )  # fmt: skip
    return tuple(specs)


def kind_forms() -> list[KindForm]:
    """Every installed plugin's form."""
    return [
        KindForm(
            kind=kind,
            label=cls.label,
            settings=field_specs(cls.Settings, "settings"),
            secrets=field_specs(cls.Secrets, "secrets"),
        )
        for kind, cls in plugins().items()
    ]


def blank_form(kind: KindForm) -> EndpointForm:
    """A new endpoint's form: the settings' defaults, enabled."""
    values = {spec.key: spec.default for spec in kind.settings}
    return EndpointForm(kind=kind.kind, values={**values, "enabled": "1"})


def form_of(endpoint: EndpointRead, account_key: str) -> EndpointForm:
    """An endpoint's form, filled with its settings (never its secrets)."""
    values = {f"settings.{k}": _text(v) for k, v in endpoint.settings.items()}
    values.update(
        name=endpoint.name, account=account_key, is_default=_text(endpoint.is_default),
        enabled=_text(endpoint.enabled),
    )  # fmt: skip
    return EndpointForm(kind=endpoint.kind, values=values, secrets_set=tuple(endpoint.secrets_set))


def form_from_post(kind: KindForm, data: dict[str, str]) -> EndpointForm:
    """The form as the user sent it (secrets left out: they are never shown again)."""
    values = {k: v for k, v in data.items() if not k.startswith("secrets.")}
    for spec in kind.settings:
        if spec.input == "checkbox":
            values[spec.key] = "1" if data.get(spec.key) else ""
    for name in ("is_default", "enabled"):
        values[name] = "1" if data.get(name) else ""
    return EndpointForm(kind=kind.kind, values=values)


def settings_from_post(kind: KindForm, data: dict[str, str]) -> dict[str, Any]:
    """The settings a form sent: an empty field is null (its default), a checkbox a bool."""
    settings: dict[str, Any] = {}
    for spec in kind.settings:
        if spec.input == "checkbox":
            settings[spec.name] = bool(data.get(spec.key))
        else:
            text = data.get(spec.key, "").strip()
            settings[spec.name] = text or None
    return settings


def secrets_from_post(kind: KindForm, data: dict[str, str]) -> dict[str, Any]:
    """The secrets a form sent: empty fields are left out (kept), "clear" ones are null."""
    secrets: dict[str, Any] = {}
    for spec in kind.secrets:
        if data.get(f"{spec.key}.clear"):
            secrets[spec.name] = None
        elif data.get(spec.key):
            secrets[spec.name] = data[spec.key]
    return secrets


def payload_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """A refused payload's problems by form field (`settings.port`)."""
    return [(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]


def kind_form(kind: str) -> KindForm | None:
    """The form of plugin kind `kind` (None when no such plugin is installed)."""
    return next((k for k in kind_forms() if k.kind == kind), None)


def problems_of(exc: TenureError) -> list[tuple[str, str]]:
    """A refused save's problems by form field (a name taken, an unknown account, …)."""
    if isinstance(exc, ResourceAlreadyExists):
        return [("name", exc.message)]
    if isinstance(exc, ResourceNotFound):
        return [("account", exc.message)]
    return list(getattr(exc, "problems", None) or [("", exc.message)])
