"""The settings page: the value scorecard, health measures, lifecycle and risk rules.

Every signed-in user may read it; admins edit it in a plain form. Saving goes through
`tenure.configs.service.save_config`, the same validation and versioning as
`PUT /api/v1/config`; a refused document is shown again with the user's input and every
problem next to its field, under the exact key the validator names
(`risk.rules[0].expression`, `health.measures[1].weight`, …).

Form fields are named by those keys. The sections the page does not show (`rfm`,
`features`) are kept as they are in the configuration in force.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, get_args

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tenure.auth.deps import OptionalPrincipal, Principal, check_csrf
from tenure.config import Category, Severity, load_config
from tenure.configs import service
from tenure.errors import ConfigError, ResourceAlreadyExists
from tenure.kit.deps import RuntimeDep, SessionDep
from tenure.kit.runtime import Runtime
from tenure.web.templating import login_redirect, render

HISTORY_SIZE = 20
COMMENT_MAX = 500
VALUE_NUMBERS = ("current_weight", "potential_weight", "current_cutoff", "potential_cutoff")
VALUE_MEASURES = ("current_measures", "potential_measures")
LIFECYCLE_INTS = ("onboarding_months", "growth_months", "declining_min_complaints")
LIFECYCLE_FLOATS = ("declining_usage_change",)
LIFECYCLE_FIELDS = ("onboarding_months", "growth_months", "declining_usage_change",
                    "declining_min_complaints")  # fmt: skip
MEASURE_FIELDS = ("feature", "weight", "good", "bad", "missing")
RULE_FIELDS = ("id", "name", "category", "severity", "expression")
RULE_TEXT = ("id", "name", "expression")
CATEGORIES: tuple[str, ...] = get_args(Category)
SEVERITIES: tuple[str, ...] = get_args(Severity)
ROW_KEY = re.compile(r"^(health\.measures|risk\.rules)\[(\d{1,4})\]\.([a-z_]+)$")
# Keys whose problems are shown above a section rather than next to one field.
SECTION_KEYS = {
    "value": ("value", "value.current_measures", "value.potential_measures"),
    "health": ("health", "health.measures"),
    "lifecycle": ("lifecycle",),
    "risk": ("risk", "risk.rules"),
}

router = APIRouter(include_in_schema=False)


@dataclass
class SettingsForm:
    """What the form shows: each field's text by its key, the rows, and the problems."""

    values: dict[str, str] = field(default_factory=dict)
    measures: list[int] = field(default_factory=list)
    rules: list[int] = field(default_factory=list)
    value_measures: dict[str, list[str]] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)
    comment: str = ""

    def value(self, key: str) -> str:
        return self.values.get(key, "")

    def errors(self, key: str) -> list[str]:
        return [message for k, message in self.problems if k == key]

    def section_errors(self, section: str) -> list[tuple[str, str]]:
        keys = SECTION_KEYS[section]
        return [(k, m) for k, m in self.problems if k in keys]

    def next_rule(self) -> int:
        """The index of the blank row that adds a rule."""
        return max(self.rules, default=-1) + 1


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    return str(value)


def form_from_config(config: dict[str, Any]) -> SettingsForm:
    """The form filled with a configuration (the JSON form of `TenureConfig`)."""
    form = SettingsForm()
    value = config.get("value", {})
    for name in VALUE_NUMBERS:
        form.values[f"value.{name}"] = _text(value.get(name))
    for section in VALUE_MEASURES:
        weights = value.get(section, {})
        form.value_measures[section] = list(weights)
        for name, weight in weights.items():
            form.values[f"value.{section}.{name}"] = _text(weight)
    lifecycle = config.get("lifecycle", {})
    for name in LIFECYCLE_FIELDS:
        form.values[f"lifecycle.{name}"] = _text(lifecycle.get(name))
    for i, measure in enumerate(config.get("health", {}).get("measures", [])):
        form.measures.append(i)
        for name in MEASURE_FIELDS:
            form.values[f"health.measures[{i}].{name}"] = _text(measure.get(name))
    for i, rule in enumerate(config.get("risk", {}).get("rules", [])):
        form.rules.append(i)
        for name in (*RULE_FIELDS, "enabled"):
            form.values[f"risk.rules[{i}].{name}"] = _text(rule.get(name))
    return form


def form_from_post(data: dict[str, str]) -> SettingsForm:
    """The form as the user sent it (to show again, untouched, when it is refused)."""
    form = SettingsForm(comment=data.get("comment", "")[:COMMENT_MAX])
    measures: set[int] = set()
    rules: set[int] = set()
    for key, text in data.items():
        if key.startswith(("value.", "lifecycle.")):
            form.values[key] = text
            for section in VALUE_MEASURES:
                prefix = f"value.{section}."
                if key.startswith(prefix):
                    form.value_measures.setdefault(section, []).append(key[len(prefix) :])
            continue
        found = ROW_KEY.match(key)
        if found is None:
            continue
        form.values[key] = text
        (measures if found.group(1) == "health.measures" else rules).add(int(found.group(2)))
    for section in VALUE_MEASURES:
        form.value_measures.setdefault(section, [])
    form.measures = sorted(measures)
    # The blank "new rule" row is left out (the page adds a fresh one).
    form.rules = [i for i in sorted(rules) if not _blank(form, f"risk.rules[{i}]", RULE_TEXT)]
    return form


def _float(text: str) -> Any:
    """A number typed in a field; text that is not one goes to the validator as it is."""
    try:
        return float(text.strip())
    except ValueError:
        return text


def _int(text: str) -> Any:
    try:
        return int(text.strip())
    except ValueError:
        return _float(text)


def _optional_float(text: str) -> Any:
    return None if not text.strip() else _float(text)


def _blank(form: SettingsForm, row: str, names: tuple[str, ...]) -> bool:
    return all(not form.value(f"{row}.{name}").strip() for name in names)


def build_document(
    form: SettingsForm, current: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The configuration the form describes, on top of `current` (for the sections the page
    does not show), and how the document's row keys map back to the form's rows."""
    doc = {k: v for k, v in current.items() if k not in ("value", "lifecycle", "health", "risk")}
    value: dict[str, Any] = {name: _float(form.value(f"value.{name}")) for name in VALUE_NUMBERS}
    for section in VALUE_MEASURES:
        value[section] = {
            name: _float(form.value(f"value.{section}.{name}"))
            for name in form.value_measures.get(section, [])
        }
    doc["value"] = value
    doc["lifecycle"] = {
        name: (_int if name in LIFECYCLE_INTS else _float)(form.value(f"lifecycle.{name}"))
        for name in LIFECYCLE_FIELDS
    }
    rows: dict[str, str] = {}
    measures: list[dict[str, Any]] = []
    for i in form.measures:
        key = f"health.measures[{i}]"
        if form.value(f"{key}.delete") or _blank(form, key, MEASURE_FIELDS):
            continue
        rows[f"health.measures[{len(measures)}]"] = key
        measures.append(
            {
                "feature": form.value(f"{key}.feature").strip(),
                "weight": _float(form.value(f"{key}.weight")),
                "good": _float(form.value(f"{key}.good")),
                "bad": _float(form.value(f"{key}.bad")),
                "missing": _optional_float(form.value(f"{key}.missing")),
            }
        )
    doc["health"] = {"measures": [{k: v for k, v in m.items() if v is not None} for m in measures]}
    rules: list[dict[str, Any]] = []
    for i in form.rules:
        key = f"risk.rules[{i}]"
        if form.value(f"{key}.delete") or _blank(form, key, RULE_TEXT):
            continue
        rows[f"risk.rules[{len(rules)}]"] = key
        rules.append(
            {
                "id": form.value(f"{key}.id").strip(),
                "name": form.value(f"{key}.name").strip(),
                "category": form.value(f"{key}.category"),
                "severity": form.value(f"{key}.severity"),
                "expression": form.value(f"{key}.expression").strip(),
                "enabled": bool(form.value(f"{key}.enabled")),
            }
        )
    doc["risk"] = {"rules": rules}
    return doc, rows


ROW_PREFIX = re.compile(r"^((?:health\.measures|risk\.rules)\[\d+\])")


def form_key(key: str, rows: dict[str, str]) -> str:
    """A problem's key in the document, as the key of the form row the user typed it in."""
    found = ROW_PREFIX.match(key)
    if found is None or found.group(1) not in rows:
        return key
    return rows[found.group(1)] + key[found.end() :]


def _current_config(runtime: Runtime) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The configuration in force as JSON; the shipped defaults (and the problems) when the
    file on disk is broken."""
    try:
        return load_config(runtime.settings.config_path).model_dump(mode="json"), []
    except ConfigError as exc:
        return load_config(None).model_dump(mode="json"), list(exc.problems)


def _page(
    request: Request,
    session: Session,
    runtime: Runtime,
    principal: Principal,
    *,
    form: SettingsForm | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    current, broken = _current_config(runtime)
    effective = None if broken else service.effective_config(session, runtime)
    if form is None:
        form = form_from_config(current)
    saved = request.query_params.get("saved")
    return render(
        request,
        "settings.html",
        principal=principal,
        nav="settings",
        status_code=status_code,
        form=form,
        editable=principal.is_admin,
        effective=effective,
        broken=broken,
        base_version=(effective.version if effective and effective.version else ""),
        versions=service.list_versions(session, limit=HISTORY_SIZE, offset=0),
        categories=CATEGORIES,
        severities=SEVERITIES,
        saved=saved if saved and saved.isdigit() else None,
        error=error,
    )


@router.get("/settings")
def settings(
    request: Request, session: SessionDep, runtime: RuntimeDep, principal: OptionalPrincipal
) -> Response:
    """The configuration in force and its versions; a form for admins."""
    if principal is None:
        return login_redirect(request)
    return _page(request, session, runtime, principal)


def _save(
    request: Request,
    session: Session,
    runtime: Runtime,
    principal: Principal,
    data: dict[str, str],
) -> Response:
    form = form_from_post(data)
    latest = service.effective_config(session, runtime).version if _current_ok(runtime) else None
    sent_base = data.get("base_version", "")
    if sent_base != (str(latest) if latest else ""):
        return _page(
            request, session, runtime, principal, form=form, error="settings.conflict",
            status_code=409,
        )  # fmt: skip
    current, _ = _current_config(runtime)
    document, rows = build_document(form, current)
    comment = form.comment.strip() or None
    try:
        saved = service.save_config(session, runtime, principal, document, comment)
    except ConfigError as exc:
        form.problems = [(form_key(key, rows), message) for key, message in exc.problems]
        return _page(
            request, session, runtime, principal, form=form, error="settings.invalid",
            status_code=422,
        )  # fmt: skip
    except ResourceAlreadyExists:
        return _page(
            request, session, runtime, principal, form=form, error="settings.conflict",
            status_code=409,
        )  # fmt: skip
    return RedirectResponse(f"/settings?saved={saved.version}", status_code=303)


def _current_ok(runtime: Runtime) -> bool:
    return not _current_config(runtime)[1]


@router.post("/settings")
async def save_settings(
    request: Request, session: SessionDep, runtime: RuntimeDep, principal: OptionalPrincipal
) -> Response:
    """Validate and save the form (admins) as the next configuration version."""
    if principal is None:
        return login_redirect(request)
    await check_csrf(request, principal)
    if not principal.can_admin():
        return await run_in_threadpool(
            _page, request, session, runtime, principal, error="settings.forbidden",
            status_code=403,
        )  # fmt: skip
    raw = await request.form()
    data = {key: value for key, value in raw.items() if isinstance(value, str)}
    return await run_in_threadpool(_save, request, session, runtime, principal, data)
