"""Vectorised evaluation of compiled rules: SQL three-valued logic over numpy columns."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tenure.errors import RuleError

KIND_NAMES = {"num": "a number", "str": "a string", "bool": "true/false", "null": "NULL"}


@dataclass(frozen=True, slots=True)
class Val:
    """A column of values: kind ("num", "str", "bool" or "null"), data and NULL mask."""

    kind: str
    data: np.ndarray
    null: np.ndarray


Fn = Callable[[dict[str, Val], int], Val]
Combine = Callable[[list[Val], int], Val]


def common_kind(kinds: list[str]) -> str | None:
    """The kind operands share, ignoring NULL and not-yet-known ("any"); None if they clash."""
    known = {k for k in kinds if k not in ("null", "any")}
    if len(known) > 1:
        return None
    return known.pop() if known else ("any" if "any" in kinds else "null")


def as_kind(val: Val, kind: str, n: int) -> Val:
    """Give an all-NULL value blank data of `kind`, so arrays of mixed types never form."""
    if val.kind != "null":
        return val
    blank = {"str": np.full(n, "", dtype=object), "bool": np.zeros(n, dtype=bool)}
    return Val(kind, blank.get(kind, np.zeros(n)), val.null)


def run_rule(expression: str, features: Sequence[str], fn: Fn, frame: pd.DataFrame) -> np.ndarray:
    """One bool per row of `frame`: True where the rule is TRUE (NULL counts as False)."""
    for name in features:
        if name not in frame.columns:
            raise RuleError(expression, f"the data has no feature {name!r}")
    env = {name: load(expression, name, frame[name]) for name in features}
    with np.errstate(all="ignore"):
        val = fn(env, len(frame))
    if val.kind not in ("bool", "null"):
        message = f"a rule must be true/false, this one is {KIND_NAMES[val.kind]}"
        raise RuleError(expression, message)
    val = as_kind(val, "bool", len(frame))
    return np.asarray(val.data & ~val.null, dtype=bool)


def load(expression: str, name: str, series: pd.Series) -> Val:
    """A feature column as a `Val`; bool, numeric and string columns are supported."""
    null = series.isna().to_numpy(dtype=bool)
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return Val("bool", series.fillna(False).to_numpy(dtype=bool), null)
    if pd.api.types.is_numeric_dtype(dtype):
        data = series.to_numpy(dtype=float, na_value=np.nan)
        nan = np.isnan(data)
        return Val("num", np.where(nan, 0.0, data), nan)
    if dtype is np.dtype(object) or isinstance(dtype, pd.StringDtype):
        values = series.to_numpy(dtype=object)
        present = list(values[~null])
        if not present:  # e.g. an all-NULL column read from a database
            return Val("null", np.zeros(len(series)), null)
        if all(isinstance(v, str) for v in present):
            return Val("str", np.where(null, "", values), null)
        if all(isinstance(v, bool | np.bool_) for v in present):
            return Val("bool", np.where(null, False, values).astype(bool), null)
        try:
            return load(expression, name, pd.to_numeric(series))
        except (TypeError, ValueError):
            pass
    message = f"feature {name!r} holds values of type {dtype}, which rules cannot use"
    raise RuleError(expression, message)


def feature(name: str) -> Fn:
    """The closure reading feature `name` from the environment."""
    return lambda env, n: env[name]


def constant(kind: str, value: object) -> Fn:
    """The closure giving a literal `value` of `kind` on every row."""
    dtype = object if kind == "str" else None
    return lambda env, n: Val(kind, np.full(n, value, dtype=dtype), np.zeros(n, dtype=bool))


def null_constant(env: dict[str, Val], n: int) -> Val:
    return Val("null", np.zeros(n), np.ones(n, dtype=bool))


def compare(op: Callable[[Any, Any], Any], a: Val, b: Val) -> Val:
    null = a.null | b.null
    return Val("bool", np.asarray(op(a.data, b.data), dtype=bool) & ~null, null)


def comparison(op: Callable[[Any, Any], Any]) -> Combine:
    return lambda v, n: compare(op, v[0], v[1])


def and_or(word: str, a: Val, b: Val) -> Val:
    """Three-valued AND / OR: FALSE and x is FALSE, TRUE or x is TRUE, otherwise NULL wins."""
    a_true, b_true = a.data & ~a.null, b.data & ~b.null
    a_false, b_false = ~a.data & ~a.null, ~b.data & ~b.null
    if word == "and":
        true, false = a_true & b_true, a_false | b_false
    else:
        true, false = a_true | b_true, a_false & b_false
    return Val("bool", true, ~(true | false))


def negate(v: list[Val], n: int) -> Val:
    return Val("bool", ~v[0].data & ~v[0].null, v[0].null)


def is_null(v: list[Val], n: int) -> Val:
    return Val("bool", v[0].null, np.zeros(n, dtype=bool))


def absolute(v: list[Val], n: int) -> Val:
    return Val("num", np.abs(v[0].data), v[0].null)


def arithmetic(symbol: str) -> Combine:
    ops = {"+": np.add, "-": np.subtract, "*": np.multiply}

    def combine(vals: list[Val], n: int) -> Val:
        null = np.logical_or.reduce([v.null for v in vals])
        if len(vals) == 1:
            data = -vals[0].data
        elif symbol == "/":
            divisor = vals[1].data
            null = null | (divisor == 0)
            data = vals[0].data / np.where(divisor == 0, 1.0, divisor)
        else:
            data = ops[symbol](vals[0].data, vals[1].data)
        null = null | np.isnan(data)
        return Val("num", np.where(null, 0.0, data), null)

    return combine


def pick(name: str) -> Combine:
    """coalesce (first non-NULL), greatest and least (both ignore NULLs)."""
    better = operator.gt if name == "greatest" else operator.lt

    def combine(vals: list[Val], n: int) -> Val:
        out = vals[0]
        for v in vals[1:]:
            take = ~v.null & out.null
            if name != "coalesce":
                take |= ~v.null & np.asarray(better(v.data, out.data), dtype=bool)
            out = Val(out.kind, np.where(take, v.data, out.data), out.null & v.null)
        return out

    return combine


def chain(word: str) -> Combine:
    def combine(vals: list[Val], n: int) -> Val:
        out = vals[0]
        for v in vals[1:]:
            out = and_or(word, out, v)
        return out

    return combine


def in_list(vals: list[Val], n: int) -> Val:
    out = Val("bool", np.zeros(n, dtype=bool), np.zeros(n, dtype=bool))
    for item in vals[1:]:
        out = and_or("or", out, compare(operator.eq, vals[0], item))
    return out


def between(v: list[Val], n: int) -> Val:
    return and_or("and", compare(operator.ge, v[0], v[1]), compare(operator.le, v[0], v[2]))
