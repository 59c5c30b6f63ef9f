"""The Jinja2 sandbox messages render in: its limits, its filters and globals, its refusals."""

from __future__ import annotations

import datetime as dt
import math
from functools import cache
from types import TracebackType
from typing import Any

from jinja2 import StrictUndefined
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context, LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Cycler, Joiner

TEMPLATE_FILENAME = "<template>"
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
MAX_RANGE = 1000
MAX_EXPONENT = 64
MAX_POWER_BITS = 4096
MAX_OUTPUT = 200_000  # characters of one rendered part
DATE_STYLES = ("iso", "zh-CN", "en")
EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")  # fmt: skip


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


def template_line(tb: TracebackType | None) -> int | None:
    """The template line an exception was raised at (Jinja2 rewrites the traceback so its
    frames carry template lines under the template's file name)."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == TEMPLATE_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def refusal(exc: SecurityError) -> str:
    """What the sandbox refused, as a problem's message."""
    return f"refused by the sandbox: {exc.message or exc}"
