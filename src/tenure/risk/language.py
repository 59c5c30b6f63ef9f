"""The rule language: safe boolean expressions over feature names, evaluated vectorised.

A rule such as ``days_since_login >= 7 and core_usage < 0.3`` is parsed with sqlglot (DuckDB
dialect), every node is checked against an allow-list, and the tree becomes numpy closures.
Nothing is handed to ``eval``/``exec`` or templated into SQL.

Allowed: unqualified feature names, number/string/true/false/NULL literals, ``= == != <> < <= >
>=``, ``and or not``, ``+ - * /``, unary minus, parentheses, ``IS [NOT] NULL``, ``[NOT]
BETWEEN``, ``[NOT] IN (literal, ...)`` and the functions abs, coalesce, greatest, least.

Semantics are SQL's: NULL and NaN are unknown; comparisons and arithmetic with unknown are
unknown; AND/OR/NOT are three-valued (``NULL or TRUE`` is TRUE, ``NULL and FALSE`` is FALSE);
a rule fires only where it is TRUE. ``/`` is float division and ``x / 0`` is NULL;
greatest/least ignore NULLs (as DuckDB and PostgreSQL do). Error positions are 0-based
character offsets into the expression.
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from tenure.errors import RuleError
from tenure.risk import evaluate as ev

__all__ = ["FUNCTIONS", "MAX_DEPTH", "MAX_LENGTH", "CompiledRule", "RuleError", "compile_rule"]

MAX_LENGTH = 2000
MAX_DEPTH = 40
FUNCTIONS = ("abs", "coalesce", "greatest", "least")
_DIALECT = "duckdb"
_TOO_DEEP = f"expression is nested too deeply (more than {MAX_DEPTH} levels)"
if TYPE_CHECKING:
    Node = exp.Expr
else:  # sqlglot < 30 has no common base class `Expr`
    Node = getattr(exp, "Expr", exp.Expression)
_T = TokenType
# Every token a rule may contain; anything else is refused even if the parser would skip it.
_TOKENS = {_T.VAR, _T.IDENTIFIER, _T.NUMBER, _T.STRING, _T.TRUE, _T.FALSE, _T.NULL}
_TOKENS |= {_T.L_PAREN, _T.R_PAREN, _T.COMMA, _T.DOT, _T.EQ, _T.NEQ, _T.LT, _T.LTE, _T.GT}
_TOKENS |= {_T.GTE, _T.PLUS, _T.DASH, _T.STAR, _T.SLASH, _T.AND, _T.OR, _T.NOT, _T.IS}
_TOKENS |= {_T.BETWEEN, _T.IN}
_FORBIDDEN: tuple[tuple[type[Node], str], ...] = (
    (exp.Subquery, "subqueries are not allowed"),
    (exp.Query, "subqueries are not allowed"),
    (exp.Star, "'*' is not allowed"),
    (exp.Cast, "casts are not allowed"),
    (exp.DPipe, "string concatenation '||' is not allowed"),
    (exp.Alias, "aliases are not allowed (is an operator missing between two terms?)"),
    (exp.Case, "CASE expressions are not allowed"),
    (exp.Placeholder, "parameters are not allowed"),
    (exp.Mod, "operator '%' is not allowed"),
    (exp.IntDiv, "operator '//' is not allowed"),
    (exp.Pow, "powers are not allowed"),
)


@dataclass(frozen=True)
class CompiledRule:
    """A checked rule: `evaluate` says where it fires, `to_sql` renders it for a dialect."""

    expression: str
    features: tuple[str, ...]
    _ast: Node = field(repr=False, compare=False)
    _fn: ev.Fn = field(repr=False, compare=False)

    def evaluate(self, frame: pd.DataFrame) -> np.ndarray:
        """One bool per row of `frame`: True where the rule is TRUE (NULL counts as False)."""
        return ev.run_rule(self.expression, self.features, self._fn, frame)

    def to_sql(self, dialect: str = _DIALECT) -> str:
        """The rule as SQL for a sqlglot dialect; divisors are wrapped in NULLIF(x, 0)."""

        def guard(node: Node) -> Node:
            if isinstance(node, exp.Div):
                zero = exp.Literal.number(0)
                node.set("expression", exp.Nullif(this=node.expression, expression=zero))
            return node

        return self._ast.copy().transform(guard, copy=False).sql(dialect=dialect)


def _position(node: Node | None) -> int | None:
    """Leftmost offset recorded for `node` or its contents, else for its nearest ancestor."""
    while node is not None:
        starts = [n.meta["start"] for n in node.walk() if "start" in n.meta]
        if starts:
            return min(starts)
        node = node.parent
    return None


def _snippet(node: Node) -> str:
    text = node.sql(dialect=_DIALECT)
    return text if len(text) <= 40 else text[:37] + "..."


class _Compiler:
    """Walks a sqlglot AST once, checking every node and building the closure tree."""

    def __init__(self, expression: str, tokens: list[Token], allowed: Collection[str]) -> None:
        self.expression = expression
        self.tokens = tokens
        self.allowed = set(allowed)
        self.features: set[str] = set()

    def error(self, message: str, node: Node | None = None) -> RuleError:
        return RuleError(self.expression, message, _position(node))

    def check(self, what: str, need: str, operands: list[Node], kinds: list[str]) -> None:
        """Raise unless operand kinds fit `need`: "bool", "num", "same" (one kind) or "any"."""
        if need in ("bool", "num"):
            for operand, kind in zip(operands, kinds, strict=True):
                if kind not in (need, "null", "any"):
                    got = f"{_snippet(operand)!r} is {ev.KIND_NAMES[kind]}"
                    raise self.error(f"{what} needs {ev.KIND_NAMES[need]}, but {got}", operand)
        elif need == "same" and ev.common_kind(kinds) is None:
            i = next(i for i, k in enumerate(kinds) if k not in ("null", "any"))
            j = next(j for j, k in enumerate(kinds) if k not in ("null", "any", kinds[i]))
            first = f"{_snippet(operands[i])!r} is {ev.KIND_NAMES[kinds[i]]}"
            second = f"{_snippet(operands[j])!r} is {ev.KIND_NAMES[kinds[j]]}"
            raise self.error(f"{what}: {first} but {second}", operands[j])

    def compile(self, node: Node, depth: int = 0) -> tuple[ev.Fn, str]:
        """The closure computing `node` and its kind as far as known before seeing data."""
        if depth > MAX_DEPTH:
            raise self.error(_TOO_DEEP, node)
        kind = type(node)
        if kind is exp.Paren:
            return self.compile(node.this, depth + 1)
        if kind is exp.Column:
            return self.column(node)
        if kind is exp.Literal:
            if node.is_string:
                return ev.constant("str", str(node.this)), "str"
            try:
                return ev.constant("num", float(node.this)), "num"
            except ValueError:
                raise self.error(f"{node.this!r} is not a number", node) from None
        if kind is exp.Boolean:
            return ev.constant("bool", bool(node.this)), "bool"
        if kind is exp.Null:
            return ev.null_constant, "null"
        if kind is exp.Is and not isinstance(node.expression, exp.Null):
            raise self.error("only IS NULL and IS NOT NULL are allowed after IS", node.expression)
        if kind is exp.Between and node.args.get("symmetric"):
            raise self.error("BETWEEN SYMMETRIC is not allowed", node)
        if kind is exp.In:
            self.check_in_list(node)
        if kind in _FUNCTIONS and "start" not in node.meta:  # e.g. DuckDB's `@x` for abs(x)
            raise self.error(f"write {kind.__name__.lower()}(...) as a function call", node)
        if kind not in _OPS or (kind in _FUNCTIONS and self.func_name(node) not in FUNCTIONS):
            raise self.error(self.forbidden(node), node)
        what, need, combine, result = _OPS[kind]
        operands = _operands(node)
        if not operands:
            raise self.error("syntax error: an operand is missing", node)
        if kind not in (exp.And, exp.Or, exp.Is):  # every child must be vetted, or to_sql leaks it
            for child in node.iter_expressions():
                if all(child is not operand for operand in operands):
                    raise self.error(f"{_snippet(child)!r} is not allowed here", child)
        compiled = [self.compile(o, depth + 1) for o in operands]
        self.check(what, need, operands, [k for _, k in compiled])

        def run(env: dict[str, ev.Val], n: int) -> ev.Val:
            vals = [fn(env, n) for fn, _ in compiled]
            self.check(what, need, operands, [v.kind for v in vals])
            common = ev.common_kind([v.kind for v in vals])
            if need != "any" and common is not None:
                target = common if common != "null" else ("bool" if need == "bool" else "num")
                vals = [ev.as_kind(v, target, n) for v in vals]
            return combine(vals, n)

        return run, result or ev.common_kind([k for _, k in compiled]) or "any"

    def forbidden(self, node: Node) -> str:
        for kind, message in _FORBIDDEN:
            if isinstance(node, kind):
                return message
        name = self.func_name(node) if isinstance(node, exp.Func) else ""
        if name:
            return f"function {name!r} is not allowed; allowed: {', '.join(FUNCTIONS)}"
        _check_tokens(self.expression, self.tokens)  # an odd token is the more precise answer
        return (
            f"{_snippet(node)!r} is not allowed; a rule may use features, literals, comparisons, "
            f"and/or/not, + - * /, IS [NOT] NULL, BETWEEN, IN (...) and {', '.join(FUNCTIONS)}"
        )

    def func_name(self, node: Node) -> str:
        """The function name as typed ("" for operators that sqlglot maps to functions)."""
        start, end = node.meta.get("start"), node.meta.get("end")
        if isinstance(node, exp.Anonymous):
            return str(node.name).lower()
        return "" if start is None or end is None else self.expression[start : end + 1].lower()

    def column(self, node: Node) -> tuple[ev.Fn, str]:
        name = node.name
        if isinstance(node.this, exp.Star):
            raise self.error("'*' is not allowed", node)
        if any(node.args.get(part) for part in ("table", "db", "catalog")):
            hint = f"use the feature name {name!r}"
            raise self.error(f"qualified name {_snippet(node)!r} is not allowed; {hint}", node)
        if name.startswith("__"):
            raise self.error(f"name {name!r} is not allowed", node)
        if name not in self.allowed:
            close = difflib.get_close_matches(name.lower(), sorted(self.allowed), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise self.error(f"unknown feature {name!r}{hint}", node)
        self.features.add(name)
        return ev.feature(name), "any"

    def check_in_list(self, node: Node) -> None:
        if any(node.args.get(part) for part in ("query", "unnest", "field")):
            raise self.error("IN needs a list of literal values, e.g. x IN (1, 2)", node)
        for item in node.expressions:
            number = isinstance(item, exp.Neg) and isinstance(item.this, exp.Literal)
            if not (isinstance(item, exp.Literal | exp.Boolean | exp.Null) or number):
                raise self.error(f"IN accepts only literal values, not {_snippet(item)!r}", item)


def _operands(node: Node) -> list[Node]:
    """Operands to compile; a chain `a and b and c` is one flat node, so it adds no depth."""
    if isinstance(node, exp.Is):
        return [node.this]
    if type(node) in (exp.And, exp.Or):
        operands, stack = [], [node]
        while stack:
            item = stack.pop()
            if type(item) is type(node):
                stack += [item.expression, item.this]
            else:
                operands.append(item)
        return operands
    keys = ("this", "expression", "low", "high")
    return [node.args[k] for k in keys if node.args.get(k) is not None] + list(node.expressions)


def _cmp(op: Callable[[Any, Any], Any]) -> tuple[str, str, ev.Combine, str]:
    return "cannot compare", "same", ev.comparison(op), "bool"


_FUNCTIONS = (exp.Abs, exp.Coalesce, exp.Greatest, exp.Least)
_ONE_TYPE = "needs arguments of one type"
# node type -> (name used in errors, operand kind needed, how values combine, result kind)
_OPS: dict[type[Node], tuple[str, str, ev.Combine, str | None]] = {
    exp.And: ("'and'", "bool", ev.chain("and"), "bool"),
    exp.Or: ("'or'", "bool", ev.chain("or"), "bool"),
    exp.Not: ("'not'", "bool", ev.negate, "bool"),
    exp.Is: ("IS", "any", ev.is_null, "bool"),
    exp.EQ: _cmp(operator.eq),
    exp.NEQ: _cmp(operator.ne),
    exp.LT: _cmp(operator.lt),
    exp.LTE: _cmp(operator.le),
    exp.GT: _cmp(operator.gt),
    exp.GTE: _cmp(operator.ge),
    exp.Between: ("cannot compare", "same", ev.between, "bool"),
    exp.In: ("cannot compare", "same", ev.in_list, "bool"),
    exp.Add: ("'+'", "num", ev.arithmetic("+"), "num"),
    exp.Sub: ("'-'", "num", ev.arithmetic("-"), "num"),
    exp.Mul: ("'*'", "num", ev.arithmetic("*"), "num"),
    exp.Div: ("'/'", "num", ev.arithmetic("/"), "num"),
    exp.Neg: ("'-'", "num", ev.arithmetic("-"), "num"),
    exp.Abs: ("abs()", "num", ev.absolute, "num"),
    exp.Coalesce: (f"coalesce() {_ONE_TYPE}", "same", ev.pick("coalesce"), None),
    exp.Greatest: (f"greatest() {_ONE_TYPE}", "same", ev.pick("greatest"), None),
    exp.Least: (f"least() {_ONE_TYPE}", "same", ev.pick("least"), None),
}


def _syntax_error(expression: str, exc: ParseError) -> RuleError:
    """Turn sqlglot's parse error into a short message and the offset of the bad token."""
    info = exc.errors[0] if exc.errors else {}
    description = str(info.get("description") or exc).split(". Line ")[0]
    highlight = str(info.get("highlight") or "")
    position = None
    if info.get("line") and info.get("col"):  # sqlglot reports where the bad token ends
        lines = expression.split("\n")
        line = min(int(info["line"]), len(lines))
        end = sum(len(text) + 1 for text in lines[: line - 1]) + int(info["col"]) - 1
        position = max(0, min(end - max(len(highlight), 1) + 1, len(expression)))
    if description.startswith("Required keyword"):
        message = f"'{highlight}' is missing an operand" if highlight else "incomplete expression"
    elif description.startswith("Expecting"):
        message = f"expected '{description.removeprefix('Expecting').strip()}'"
    elif description.startswith("Invalid expression"):
        message = f"unexpected '{highlight}'"
    else:
        message = description
    return RuleError(expression, f"syntax error: {message}", position)


def _comment_start(expression: str, tokens: list[Token]) -> int | None:
    """Offset of the first ``--`` or ``/*`` outside a quoted string or name."""
    quoted = [(t.start, t.end) for t in tokens if t.text != expression[t.start : t.end + 1]]
    for i in range(len(expression) - 1):
        if expression[i : i + 2] in ("--", "/*") and not any(a <= i <= b for a, b in quoted):
            return i
    return None


def _scan(expression: str) -> list[Token]:
    """Token-level checks: one statement, no comments, bounded parenthesis depth."""
    try:
        tokens = Dialect.get_or_raise(_DIALECT).tokenize(expression)
    except TokenError as exc:
        unclosed = expression.count("'") % 2 or expression.count('"') % 2
        reason = "a quote is not closed" if unclosed else str(exc)
        raise RuleError(expression, f"syntax error: {reason}") from None
    depth = 0
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            raise RuleError(expression, "only one expression is allowed; found ';'", token.start)
        if token.comments:
            raise RuleError(
                expression, "comments are not allowed", _comment_start(expression, tokens)
            )
        depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(token.token_type, 0)
        if depth > MAX_DEPTH:
            raise RuleError(expression, _TOO_DEEP, token.start)
    return tokens


def _check_tokens(expression: str, tokens: list[Token]) -> None:
    """Refuse tokens the parser skips or reinterprets leniently (`x as`, `! x`)."""
    for token in tokens:
        if token.token_type not in _TOKENS:
            raise RuleError(expression, f"{token.text!r} is not allowed", token.start)
        if token.token_type == TokenType.NOT and token.text.lower() != "not":
            raise RuleError(expression, f"write 'not' instead of {token.text!r}", token.start)


def compile_rule(expression: str, allowed: Collection[str]) -> CompiledRule:
    """Parse and check `expression` against the feature names in `allowed`; raise `RuleError`."""
    if len(expression) > MAX_LENGTH:
        size = f"{len(expression)} characters; the limit is {MAX_LENGTH}"
        raise RuleError(expression, f"expression is too long ({size})")
    if not expression.strip():
        raise RuleError(expression, "expression is empty")
    tokens = _scan(expression)
    try:
        tree = sqlglot.parse_one(expression, read=_DIALECT)
    except ParseError as exc:
        raise _syntax_error(expression, exc) from None
    except RecursionError:  # e.g. hundreds of chained `not`
        raise RuleError(expression, _TOO_DEEP) from None
    compiler = _Compiler(expression, tokens, allowed)
    fn, kind = compiler.compile(tree)
    if kind not in ("bool", "any", "null"):
        message = f"a rule must be true/false, this one is {ev.KIND_NAMES[kind]}"
        raise RuleError(expression, message, 0)
    _check_tokens(expression, tokens)  # after the AST walk, whose messages are more precise
    return CompiledRule(expression, tuple(sorted(compiler.features)), tree, fn)
