"""Rendering message templates in Jinja2's immutable sandbox (pure: no database, no I/O).

A template is three sandboxed Jinja2 texts: `subject`, `body` (text/Markdown) and an optional
`html` part, the only one autoescaped. Templates see plain data only (dicts, lists, text,
numbers; see `tenure.content.variables`) under the names in `ALLOWED_NAMES`. The sandbox
refuses anything that would reach Python itself: attributes starting with "_", and every
method of a Python object except a few harmless ones on text and dicts (`SAFE_METHODS`).

`check_template` finds what can be found before sending (syntax errors, unknown variables
and fields, refused attributes, tags a message cannot use), each with its line; `render`
renders, turning whatever goes wrong into a `TemplateError` naming the field and the line.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from types import TracebackType
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError
from jinja2.meta import find_undeclared_variables
from jinja2.runtime import Context, LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Cycler, Joiner

from tenure.analytics.catalog import FEATURE_NAMES
from tenure.errors import TenureError

TEMPLATE_FILENAME = "<template>"
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
STR_METHODS = frozenset(
    ("upper", "lower", "title", "capitalize", "strip", "lstrip", "rstrip", "startswith",
     "endswith", "split")
)  # fmt: skip
SAFE_METHODS: dict[type, frozenset[str]] = {
    str: STR_METHODS,
    dict: frozenset({"items", "keys", "values", "get"}),
}
# Jinja2's filters that cannot blow up memory or time from a short template (`format`,
# `center`, `indent`, `batch`, `slice` can), plus ours.
SAFE_FILTERS = frozenset({
    "abs", "capitalize", "count", "d", "default", "dictsort", "e", "escape", "first", "float",
    "forceescape", "groupby", "int", "items", "join", "last", "length", "list", "lower", "map",
    "max", "min", "reject", "rejectattr", "reverse", "round", "safe", "select", "selectattr",
    "sort", "string", "striptags", "sum", "title", "tojson", "trim", "truncate", "unique",
    "upper", "urlencode", "urlize", "wordcount", "wordwrap",
})  # fmt: skip
# Methods of Jinja2's own helpers (`loop.cycle(…)`, `cycler.next()`), checked at run time.
HELPER_METHODS = frozenset({"cycle", "changed", "next", "reset"})
UNAVAILABLE_TAGS: dict[type[nodes.Node], str] = {
    nodes.Macro: "macro",
    nodes.CallBlock: "call",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from … import",
    nodes.Extends: "extends",
}
MAX_RANGE = 1000
MAX_EXPONENT = 64
MAX_POWER_BITS = 4096
MAX_OUTPUT = 200_000  # characters of one rendered part
PLAIN_TYPES = (str, int, float, bool, type(None))
DATE_STYLES = ("iso", "zh-CN", "en")
EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")  # fmt: skip


@dataclass(frozen=True)
class TemplateProblem:
    """One thing wrong with a template: its line (None when it has none) and what is wrong."""

    line: int | None
    message: str
    field: str | None = None

    def text(self) -> str:
        """`line 3: …`, or the message alone when there is no line."""
        return f"line {self.line}: {self.message}" if self.line else self.message

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return where + self.text()


class TemplateError(TenureError):
    """A template that cannot be saved or rendered; `problems` pairs each field with a
    message that starts with the line (`("body", "line 3: unknown variable 'acount'")`)."""

    status_code = 422

    def __init__(self, problems: list[TemplateProblem]) -> None:
        self.template_problems = problems
        self.problems = [(p.field or "template", p.text()) for p in problems]
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class Rendered:
    """A rendered message: one-line subject, text body, HTML part (None without one).

    `locale`, `format`, `key` and `template_id` name the variant it came from (set by
    `tenure.content.service.render_for`; None when rendered from bare fields)."""

    subject: str
    text: str
    html: str | None
    locale: str | None = None
    format: str | None = None
    key: str | None = None
    template_id: int | None = None


# -- filters -------------------------------------------------------------------------------


def _number_or_none(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            parsed = float(value.replace(",", ""))
        except ValueError:
            return None
        return parsed if math.isfinite(parsed) else None
    return None


def number(value: Any, digits: int = 0) -> str:
    """`1234567.8|number` is "1,234,568"; `|number(1)` keeps one decimal; "—" when missing."""
    parsed = _number_or_none(value)
    if parsed is None:
        return "—" if value is None else str(value)
    return f"{parsed:,.{max(0, min(int(digits), 6))}f}"


def percent(value: Any, digits: int = 0) -> str:
    """A fraction as a percentage: `0.423|percent` is "42%", `|percent(1)` "42.3%"."""
    parsed = _number_or_none(value)
    if parsed is None:
        return "—" if value is None else str(value)
    return f"{parsed * 100:,.{max(0, min(int(digits), 6))}f}%"


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip()).date()
        except ValueError:
            return None
    return None


def date(value: Any, style: str = "iso") -> str:
    """A date (or ISO text): "2024-06-30" (`iso`), "2024年6月30日" (`zh-CN`), "30 June 2024"
    (`en`); "—" when missing, the value itself when it is not a date."""
    if style not in DATE_STYLES:
        raise ValueError(f"unknown date style {style!r}; styles: {', '.join(DATE_STYLES)}")
    day = _as_date(value)
    if day is None:
        return "—" if value is None else str(value)
    if style == "zh-CN":
        return f"{day.year}年{day.month}月{day.day}日"
    if style == "en":
        return f"{day.day} {EN_MONTHS[day.month - 1]} {day.year}"
    return day.isoformat()


def month(value: Any, style: str = "iso") -> str:
    """The month of a date (or ISO text): "2024-06" (`iso`), "2024年6月" (`zh-CN`),
    "June 2024" (`en`)."""
    if style not in DATE_STYLES:
        raise ValueError(f"unknown month style {style!r}; styles: {', '.join(DATE_STYLES)}")
    day = _as_date(value)
    if day is None:
        return "—" if value is None else str(value)
    if style == "zh-CN":
        return f"{day.year}年{day.month}月"
    if style == "en":
        return f"{EN_MONTHS[day.month - 1]} {day.year}"
    return f"{day.year:04d}-{day.month:02d}"


def bounded_replace(value: Any, old: str, new: str, count: int | None = None) -> str:
    """`str.replace`, refused when the result would exceed MAX_OUTPUT characters."""
    text, old, new = str(value), str(old), str(new)
    hits = text.count(old) if old else len(text) + 1
    if count is not None and count >= 0:
        hits = min(hits, count)
    if len(text) + hits * (len(new) - len(old)) > MAX_OUTPUT:
        raise SecurityError(f"replace would make more than {MAX_OUTPUT:,} characters")
    return text.replace(old, new, -1 if count is None else count)


def safe_range(*args: int) -> range:
    """`range`, at most MAX_RANGE items."""
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SecurityError(f"range() of {len(numbers):,} items; templates may use {MAX_RANGE}")
    return numbers


# -- the environment -----------------------------------------------------------------------


class MessageSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, stricter still: only a few methods of text and dicts, bounded
    repetition and powers, no printf-style formatting of text."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        """Only Jinja2's loop helpers and the few methods of SAFE_METHODS."""
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if isinstance(obj, LoopContext | Cycler | Joiner):
            return True  # loop.index, loop.first, cycler.next(): Jinja2's own helpers
        for kind, allowed in SAFE_METHODS.items():
            if isinstance(obj, kind):
                return attr in allowed
        return False

    def wrap_str_format(self, value: Any) -> None:
        """`str.format` is refused like any other method (Jinja2 would wrap it instead)."""
        return None

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """`*`, `**` and `%` with their bounds (see the class docstring)."""
        if operator == "%" and isinstance(left, str):
            raise SecurityError("formatting text with % is not allowed; use the filters")
        if operator == "**" and isinstance(right, int | float):
            if abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponent {right} is above {MAX_EXPONENT}")
            if isinstance(left, int) and abs(left).bit_length() * abs(right) > MAX_POWER_BITS:
                raise SecurityError(f"power of more than {MAX_POWER_BITS} bits")
        if operator == "*":
            sequence, times = (left, right) if isinstance(right, int) else (right, left)
            repeats = isinstance(sequence, str | list | tuple) and isinstance(times, int)
            if repeats and len(sequence) * times > MAX_OUTPUT:
                raise SecurityError(f"repetition would make more than {MAX_OUTPUT:,} items")
        return super().call_binop(context, operator, left, right)


@cache
def environment(*, html: bool = False) -> MessageSandbox:
    """The sandbox for one part: `html=True` autoescapes (built on first use)."""
    env = MessageSandbox(
        undefined=StrictUndefined,
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters = {name: env.filters[name] for name in SAFE_FILTERS}
    env.filters.update(
        number=number, percent=percent, date=date, month=month, replace=bounded_replace
    )
    env.globals = {"range": safe_range, "dict": dict, "cycler": Cycler, "joiner": Joiner}
    return env


# -- checking ------------------------------------------------------------------------------


def _closest(name: str, choices: Collection[str]) -> str:
    found = difflib.get_close_matches(name, sorted(choices), n=1, cutoff=0.75)
    return f" (did you mean {found[0]!r}?)" if found else ""


def _line(node: nodes.Node) -> int | None:
    line: int | None = getattr(node, "lineno", None)
    return line


def _template_line(tb: TracebackType | None) -> int | None:
    """The template line an exception was raised at (Jinja2 rewrites the traceback so its
    frames carry template lines under the template's file name)."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == TEMPLATE_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
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
            return [TemplateProblem(_template_line(exc.__traceback__), _refused(exc))]
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


# -- rendering -----------------------------------------------------------------------------


def _refused(exc: SecurityError) -> str:
    return f"refused by the sandbox: {exc.message or exc}"


def ensure_plain(value: Any, path: str = "variables") -> None:
    """Raise TypeError unless `value` is plain data (dicts with text keys, lists, text,
    numbers, booleans, None): templates never see an ORM object or a function."""
    if isinstance(value, PLAIN_TYPES):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path} has a key that is not text: {key!r}")
            ensure_plain(item, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            ensure_plain(item, f"{path}[{i}]")
        return
    raise TypeError(f"{path} is a {type(value).__name__}; template variables are plain data")


def render_part(text: str, variables: Mapping[str, Any], *, field: str, html: bool = False) -> str:
    """Render one template text; any failure is a TemplateError naming `field` and the line."""
    env = environment(html=html)

    def problem(line: int | None, message: str) -> TemplateError:
        return TemplateError([TemplateProblem(line, message, field)])

    try:
        result = env.from_string(text).render(dict(variables))
    except TemplateSyntaxError as exc:
        raise problem(exc.lineno, f"syntax error: {exc.message}") from None
    except SecurityError as exc:
        raise problem(_template_line(exc.__traceback__), _refused(exc)) from None
    except UndefinedError as exc:
        raise problem(_template_line(exc.__traceback__), f"undefined: {exc.message}") from None
    except RecursionError:
        raise problem(None, "the template nests too deeply") from None
    except Exception as exc:  # a filter given the wrong type, a division by zero, …
        line = _template_line(exc.__traceback__)
        raise problem(line, f"{type(exc).__name__}: {exc}") from None
    if len(result) > MAX_OUTPUT:
        raise problem(None, f"renders {len(result):,} characters; at most {MAX_OUTPUT:,}")
    return result


def one_line(text: str) -> str:
    """A subject on one line: newlines and runs of spaces become one space (no header
    injection through a variable holding a newline)."""
    return re.sub(r"\s+", " ", text).strip()


def render(template_fields: Mapping[str, str | None], variables: Mapping[str, Any]) -> Rendered:
    """Render a template's subject, body and html (when present) with plain `variables`."""
    ensure_plain(dict(variables))
    subject = one_line(render_part(template_fields.get("subject") or "", variables,
                                   field="subject"))  # fmt: skip
    text = render_part(template_fields.get("body") or "", variables, field="body").strip()
    html_source = template_fields.get("html")
    html = None
    if html_source:
        html = render_part(html_source, variables, field="html", html=True).strip()
    return Rendered(subject=subject, text=text, html=html)
