"""Turn one cell into a typed value, or a precise reason why it cannot be one."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from tenure.imports.fields import FieldSpec

TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "on", "是", "真", "对"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "off", "否", "假", "错"})
ISO_DATE = "%Y-%m-%d"
ISO_DATETIME = "ISO 8601 (%Y-%m-%d or %Y-%m-%dT%H:%M:%S)"
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_LIST_SPLIT = re.compile(r"[,;|、，；]")


class CellError(ValueError):
    """A cell's value is not acceptable; the message says why, quoting the value."""


Converter = Callable[[Any], Any]


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else repr(str(value))


def to_str(value: Any, max_length: int | None = None) -> str:
    """Text of a cell; whole floats lose their `.0` (ids typed into spreadsheets)."""
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = str(value)
    if max_length is not None and len(text) > max_length:
        raise CellError(
            f"{_show(text[:40] + '…')} is longer than {max_length} characters ({len(text)})"
        )
    return text


def _number_text(value: str) -> str:
    return value.replace(",", "") if _THOUSANDS.match(value) else value


def to_float(value: Any) -> float:
    """A finite number from a number or text such as "1,234.5"."""
    if isinstance(value, bool):
        raise CellError(f"{_show(value)} is not a number")
    if isinstance(value, int | float):
        number = float(value)
    else:
        try:
            number = float(_number_text(str(value)))
        except ValueError:
            raise CellError(f"{_show(value)} is not a number") from None
    if not math.isfinite(number):
        raise CellError(f"{_show(value)} is not a finite number")
    return number


def to_int(value: Any) -> int:
    """A whole number; "12.0" is accepted, "12.5" is not."""
    try:
        number = to_float(value)
    except CellError:
        raise CellError(f"{_show(value)} is not a whole number") from None
    if not number.is_integer():
        raise CellError(f"{_show(value)} is not a whole number")
    return int(number)


def to_bool(value: Any) -> bool:
    """A yes/no value: true/false, yes/no, y/n, 1/0, on/off, 是/否, 真/假."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    word = str(value).strip().casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError(f"{_show(value)} is not a yes/no value (true/false, yes/no, y/n, 1/0, 是/否)")


def _parse_with(text: str, formats: Sequence[str]) -> dt.datetime | None:
    for fmt in formats:
        if fmt in ("epoch", "epoch_ms"):
            try:
                seconds = float(text) / (1000 if fmt == "epoch_ms" else 1)
                return dt.datetime.fromtimestamp(seconds, dt.UTC)
            except (ValueError, OverflowError, OSError):
                continue
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def to_date(value: Any, formats: Sequence[str] = ()) -> dt.date:
    """A calendar date, ISO by default or in one of the mapping's strptime `formats`."""
    label = " or ".join(formats) if formats else ISO_DATE
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            raise CellError(f"{_show(value.isoformat())} is a date-time, expected a date")
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = to_str(value).strip()
    if formats:
        parsed = _parse_with(text, formats)
        if parsed is not None:
            return parsed.date()
    else:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise CellError(f"{_show(text)} is not a date in format {label}")


def to_datetime(value: Any, formats: Sequence[str] = (), tz: ZoneInfo | None = None) -> dt.datetime:
    """A naive UTC date-time; naive input is in `tz` (UTC when None)."""
    label = " or ".join(formats) if formats else ISO_DATETIME
    if isinstance(value, dt.datetime):
        parsed: dt.datetime | None = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime(value.year, value.month, value.day)
    else:
        text = to_str(value).strip()
        if formats:
            parsed = _parse_with(text, formats)
        else:
            try:
                parsed = dt.datetime.fromisoformat(text)
            except ValueError:
                parsed = None
        if parsed is None:
            raise CellError(f"{_show(text)} is not a date-time in format {label}")
    if parsed is None:  # pragma: no cover - both branches above set it or raise
        raise CellError(f"{_show(value)} is not a date-time")
    if parsed.tzinfo is None and tz is not None:
        parsed = parsed.replace(tzinfo=tz)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def to_json_object(value: Any) -> dict[str, Any]:
    """A JSON object given as an object or as JSON text."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise CellError(f"{_show(value[:40])} is not valid JSON ({exc.msg})") from None
        if isinstance(parsed, dict):
            return parsed
    raise CellError(f"{_show(value)} is not a JSON object")


def _canonical_choice(value: Any) -> str:
    return re.sub(r"[\s\-]+", "_", str(value).strip().casefold())


def to_choice(value: Any, choices: Sequence[str]) -> str:
    """One allowed value; case, spaces and hyphens are forgiven ("Key User" → key_user)."""
    word = _canonical_choice(value)
    if word in choices:
        return word
    raise CellError(f"{_show(value)} is not one of {', '.join(choices)}")


def to_choice_list(value: Any, choices: Sequence[str]) -> list[str]:
    """A list of allowed values from a list or text separated by , ; or |."""
    items = value if isinstance(value, list) else _LIST_SPLIT.split(str(value))
    return [to_choice(item, choices) for item in items if str(item).strip()]


def _check_range(spec: FieldSpec, number: float, raw: Any) -> None:
    low, high = spec.minimum, spec.maximum
    if (low is not None and number < low) or (high is not None and number > high):
        if low is not None and high is not None:
            bounds = f"between {low:g} and {high:g}"
        else:
            bounds = f"at least {low:g}" if low is not None else f"at most {high:g}"
        raise CellError(f"{_show(raw)} is out of range: must be {bounds}")


def typed(spec: FieldSpec, formats: Sequence[str], tz: ZoneInfo | None) -> Converter:
    """The function turning a non-empty cell into the value of field `spec`."""
    kind = spec.kind
    if kind in ("str", "ref"):
        limit = spec.max_length

        def text(v: Any) -> str:
            if type(v) is str and (limit is None or len(v) <= limit):
                return v  # the common case, already stripped
            return to_str(v, limit).strip()

        return text
    if kind in ("int", "float", "money"):
        base = {"int": to_int, "float": to_float, "money": to_float}[kind]

        def number(v: Any) -> Any:
            value = base(v)
            _check_range(spec, value, v)
            return round(value, 2) if kind == "money" else value

        return number
    if kind == "bool":
        return to_bool
    if kind == "date":
        return lambda v: to_date(v, formats)
    if kind == "datetime":
        return lambda v: to_datetime(v, formats, tz)
    if kind == "enum":
        return lambda v: to_choice(v, spec.choices)
    if kind == "list":
        return lambda v: to_choice_list(v, spec.choices)
    return to_json_object


def codes_lookup(codes: Mapping[str, Any]) -> Callable[[Any], Any]:
    """Replace a coded value ("P1", "是", "Y") by its meaning; other values pass through."""
    exact = {str(k): v for k, v in codes.items()}
    folded = {str(k).casefold(): v for k, v in codes.items()}

    def lookup(value: Any) -> Any:
        key = to_str(value).strip() if not isinstance(value, str) else value
        if key in exact:
            return exact[key]
        return folded.get(key.casefold(), value)

    return lookup
