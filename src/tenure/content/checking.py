"""Checking template texts before they are saved: syntax, names, fields, filters, refusals."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import SecurityError, TemplateSyntaxError
from jinja2.meta import find_undeclared_variables

from tenure.analytics.catalog import FEATURE_NAMES
from tenure.content.errors import TemplateProblem
from tenure.content.sandbox import (
    HELPER_METHODS,
    SAFE_METHODS,
    TEMPLATE_FILENAME,
    environment,
    refusal,
    template_line,
)

FIELDS: tuple[str, ...] = ("subject", "body", "html")
# The variables a template may name, and the fields of those with a fixed shape (a
# misspelt field is refused at save time too). `links` is whatever the caller passes.
ACCOUNT_KEYS = ("id", "name", "external_id", "industry", "region", "size", "employees",
                "status", "customer_since", "renewal_date", "arr", "attributes")  # fmt: skip
CONTACT_KEYS = ("id", "name", "title", "role", "locale", "email", "format")
OWNER_KEYS = ("name", "email")
SCORE_KEYS = ("as_of", "health_score", "value_score", "quadrant", "lifecycle_stage",
              "health_change", "current_value", "potential_value")  # fmt: skip
ALERT_KEYS = ("alert_id", "rule_id", "rule_name", "category", "severity", "evidence",
              "opened_as_of")  # fmt: skip
KNOWN_FIELDS: dict[str, frozenset[str]] = {
    "account": frozenset(ACCOUNT_KEYS),
    "contact": frozenset(CONTACT_KEYS),
    "owner": frozenset(OWNER_KEYS),
    "scores": frozenset(SCORE_KEYS),
    "outcomes": FEATURE_NAMES,
    "alert": frozenset(ALERT_KEYS),
}
ALLOWED_NAMES: tuple[str, ...] = ("account", "contact", "owner", "scores", "outcomes", "links",
                                  "now", "alert")  # fmt: skip
UNAVAILABLE_TAGS: dict[type[nodes.Node], str] = {
    nodes.Macro: "macro",
    nodes.CallBlock: "call",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from … import",
    nodes.Extends: "extends",
}


def _closest(name: str, choices: Collection[str]) -> str:
    found = difflib.get_close_matches(name, sorted(choices), n=1, cutoff=0.75)
    return f" (did you mean {found[0]!r}?)" if found else ""


def _line(node: nodes.Node) -> int | None:
    line: int | None = getattr(node, "lineno", None)
    return line


def _walk_problems(ast: nodes.Template, allowed: Collection[str]) -> Iterator[TemplateProblem]:
    env = environment(html=False)
    for kind, tag in UNAVAILABLE_TAGS.items():
        for found in ast.find_all(kind):
            yield TemplateProblem(_line(found), f"{{% {tag} %}} is not available in messages")
    try:
        undeclared = find_undeclared_variables(ast)
    except TemplateSyntaxError:  # an unknown filter or test, reported below
        undeclared = {n.name for n in ast.find_all(nodes.Name) if n.ctx == "load"} - set(
            env.globals
        )
    reported: set[str] = set()
    for name in ast.find_all(nodes.Name):
        unknown = name.name in undeclared and name.name not in allowed
        if name.ctx == "load" and unknown and name.name not in reported:
            reported.add(name.name)
            yield TemplateProblem(
                name.lineno,
                f"unknown variable {name.name!r}{_closest(name.name, allowed)}; "
                f"variables are {', '.join(sorted(allowed))}",
            )
    assigned = {n.name for n in ast.find_all(nodes.Name) if n.ctx in ("store", "param")}
    called = {id(call.node) for call in ast.find_all(nodes.Call)}
    node: Any
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Getattr):
            attr: Any = node.attr
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            attr = node.arg.value
        else:
            continue
        if attr.startswith("_"):
            yield TemplateProblem(
                node.lineno,
                f"attribute {attr!r} is refused by the sandbox (names starting with '_' "
                "reach Python internals)",
            )
            continue
        if isinstance(node, nodes.Getattr) and id(node) in called:
            methods = SAFE_METHODS[str] | SAFE_METHODS[dict]
            if attr not in methods | HELPER_METHODS:
                yield TemplateProblem(
                    node.lineno,
                    f"method {attr}() is refused by the sandbox; allowed methods: "
                    f"{', '.join(sorted(methods))} (or use a filter)",
                )
                continue
        owner = node.node
        if isinstance(owner, nodes.Name) and owner.name in KNOWN_FIELDS:
            if owner.name in assigned or id(node) in called:
                continue
            fields = KNOWN_FIELDS[owner.name]
            if attr not in fields:
                yield TemplateProblem(
                    node.lineno,
                    f"{owner.name} has no field {attr!r}{_closest(attr, fields)}",
                )
    for node in ast.find_all((nodes.Filter, nodes.Test)):
        known = env.filters if isinstance(node, nodes.Filter) else env.tests
        if node.name not in known:
            what = "filter" if isinstance(node, nodes.Filter) else "test"
            yield TemplateProblem(
                node.lineno, f"unknown {what} {node.name!r}{_closest(node.name, known)}"
            )


def check_template(
    text: str,
    *,
    html: bool = False,
    allowed: Collection[str] = ALLOWED_NAMES,
    sample: Mapping[str, Any] | None = None,
) -> list[TemplateProblem]:
    """Every problem found in one template text, each with its line (empty when fine).

    With `sample` variables the text is also rendered once, so that the sandbox's refusals
    only visible at run time (an attribute name built from pieces) are found too; a sample
    lacking something a real account would have is not reported.
    """
    env = environment(html=html)
    try:
        ast = env.parse(text, filename=TEMPLATE_FILENAME)
    except TemplateSyntaxError as exc:
        return [TemplateProblem(exc.lineno, f"syntax error: {exc.message}")]
    problems = list(_walk_problems(ast, allowed))
    if problems:
        return problems
    try:
        compiled = env.from_string(ast)
    except TemplateSyntaxError as exc:
        return [TemplateProblem(exc.lineno, f"syntax error: {exc.message}")]
    if sample is not None:
        try:
            compiled.render(dict(sample))
        except SecurityError as exc:
            return [TemplateProblem(template_line(exc.__traceback__), refusal(exc))]
        except Exception:  # data-dependent errors are the preview's to show
            pass
    return []


def check_fields(
    fields: Mapping[str, str | None],
    *,
    allowed: Collection[str] = ALLOWED_NAMES,
    sample: Mapping[str, Any] | None = None,
) -> list[TemplateProblem]:
    """`check_template` on each part present (subject, body, html), problems named by part."""
    problems: list[TemplateProblem] = []
    for name in FIELDS:
        text = fields.get(name)
        if text is None:
            continue
        for problem in check_template(text, html=name == "html", allowed=allowed, sample=sample):
            problems.append(TemplateProblem(problem.line, problem.message, name))
    return problems
