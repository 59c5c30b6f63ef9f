"""The rule language: what it accepts, how it evaluates, what it refuses and why."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tenure.analytics.catalog import FEATURE_NAMES
from tenure.config import RiskRule, load_config
from tenure.risk.language import MAX_DEPTH, MAX_LENGTH, RuleError, compile_rule

ALLOWED = {"x", "y", "plan", "active", "days_since_login"}
NAN = np.nan


@pytest.fixture
def frame() -> pd.DataFrame:
    """Four accounts; row 1 is null everywhere, row 3 has y = 0 and a null flag."""
    return pd.DataFrame(
        {
            "x": [1.0, NAN, 3.0, 0.0],
            "y": pd.array([2, None, 3, 0], dtype="Int64"),
            "plan": ["basic", None, "pro", "basic"],
            "active": pd.array([True, None, False, None], dtype="boolean"),
        }
    )


def fires(expression: str, frame: pd.DataFrame) -> list[bool]:
    result = compile_rule(expression, ALLOWED).evaluate(frame)
    assert result.dtype == bool
    return result.tolist()


class TestAllowedConstructs:
    @pytest.mark.parametrize(
        ("expression", "expected"),
        [
            ("x >= 1", [True, False, True, False]),
            ("x > 1", [False, False, True, False]),
            ("x < 1", [False, False, False, True]),
            ("x <= 1", [True, False, False, True]),
            ("x = 1", [True, False, False, False]),
            ("x == 1", [True, False, False, False]),
            ("x != 1", [False, False, True, True]),
            ("x <> 1", [False, False, True, True]),
            ("x + y = 5", [False, False, False, False]),
            ("x + y = 6", [False, False, True, False]),
            ("y - x = 1", [True, False, False, False]),
            ("x * y = 9", [False, False, True, False]),
            ("y / x = 2", [True, False, False, False]),
            ("-x < -2", [False, False, True, False]),
            ("(x + 1) * 2 = 8", [False, False, True, False]),
            ("x + 1 * 2 = 5", [False, False, True, False]),
            ("x is null", [False, True, False, False]),
            ("x is not null", [True, False, True, True]),
            ("x between 1 and 3", [True, False, True, False]),
            ("x not between 1 and 2", [False, False, True, True]),
            ("x in (0, 3)", [False, False, True, True]),
            ("x in (-1, 1)", [True, False, False, False]),
            ("x not in (0, 3)", [True, False, False, False]),
            ("plan = 'basic'", [True, False, False, True]),
            ("plan in ('pro', 'enterprise')", [False, False, True, False]),
            ("plan != 'basic'", [False, False, True, False]),
            ("active", [True, False, False, False]),
            ("not active", [False, False, True, False]),
            ("active = true", [True, False, False, False]),
            ("abs(x - 2) = 1", [True, False, True, False]),
            ("coalesce(x, -1) < 0", [False, True, False, False]),
            ("coalesce(plan, 'none') = 'none'", [False, True, False, False]),
            ("greatest(x, y) = 3", [False, False, True, False]),
            ("least(x, y) = 0", [False, False, False, True]),
            ("true", [True, True, True, True]),
            ("false", [False, False, False, False]),
        ],
    )
    def test_evaluates(self, frame: pd.DataFrame, expression: str, expected: list[bool]) -> None:
        assert fires(expression, frame) == expected

    def test_features_are_sorted_and_unique(self) -> None:
        rule = compile_rule("y > 1 and x < 2 or y is null", ALLOWED)
        assert rule.features == ("x", "y")
        assert rule.expression == "y > 1 and x < 2 or y is null"

    def test_works_on_an_empty_frame(self) -> None:
        empty = pd.DataFrame({"x": pd.Series([], dtype=float)})
        assert compile_rule("x > 1", ALLOWED).evaluate(empty).tolist() == []

    def test_numbers_from_an_object_column(self) -> None:
        data = pd.DataFrame({"x": pd.Series([None, 3, 1], dtype=object)})
        assert fires("x > 2", data) == [False, True, False]


class TestNullSemantics:
    """SQL three-valued logic: unknown is neither true nor false; it fires as False."""

    @pytest.mark.parametrize(
        ("expression", "expected"),
        [
            ("null or true", True),
            ("null or false", False),
            ("null and false", False),
            ("null and true", False),
            ("not (null and false)", True),
            ("not (null or false)", False),
            ("null = null", False),
            ("null is null", True),
            ("not null", False),
        ],
    )
    def test_literals(self, expression: str, expected: bool) -> None:
        assert fires(expression, pd.DataFrame(index=[0])) == [expected]

    def test_null_feature_with_or_and_not(self, frame: pd.DataFrame) -> None:
        # Row 1 has x null: `x > 0` is unknown, so OR with a true side is true ...
        assert fires("x > 0 or y is null", frame) == [True, True, True, False]
        # ... and NOT of unknown stays unknown, so it never fires.
        assert fires("not (x > 0)", frame) == [False, False, False, True]

    def test_in_list_with_null_is_never_false_for_not_in(self, frame: pd.DataFrame) -> None:
        assert fires("x in (1, null)", frame) == [True, False, False, False]
        assert fires("x not in (1, null)", frame) == [False, False, False, False]

    def test_division_by_zero_is_null(self, frame: pd.DataFrame) -> None:
        assert fires("x / y is null", frame) == [False, True, False, True]
        assert fires("x / 0 > 0 or x / 0 <= 0", frame) == [False] * 4
        assert fires("coalesce(x / y, -1) = -1", frame) == [False, True, False, True]

    def test_greatest_and_least_ignore_nulls(self) -> None:
        data = pd.DataFrame({"x": [NAN, 5.0, NAN], "y": [4.0, NAN, NAN]})
        assert fires("greatest(x, y) = 4", data) == [True, False, False]
        assert fires("least(x, y) = 5", data) == [False, True, False]
        assert fires("greatest(x, y) is null", data) == [False, False, True]


def refused(expression: str, allowed: set[str] | frozenset[str] = frozenset(ALLOWED)) -> RuleError:
    with pytest.raises(RuleError) as caught:
        compile_rule(expression, allowed)
    assert caught.value.expression == expression
    return caught.value


class TestRefused:
    @pytest.mark.parametrize(
        ("expression", "message", "position"),
        [
            (
                "__import__('os')",
                "function '__import__' is not allowed; allowed: abs, coalesce, greatest, least",
                0,
            ),
            (
                "days_since_login >= 7 or exec(1)",
                "function 'exec' is not allowed; allowed: abs, coalesce, greatest, least",
                25,
            ),
            ("sqrt(x) > 1", "function 'sqrt' is not allowed", 0),
            ("ifnull(x, 0) > 1", "function 'ifnull' is not allowed", 0),
            ("now() > 1", "function 'now' is not allowed", 0),
            ("(select 1)", "subqueries are not allowed", None),
            ("x in (select 1)", "IN needs a list of literal values", 0),
            ("x in (y, 2)", "IN accepts only literal values, not 'y'", 6),
            ("x > 1; drop table accounts", "only one expression is allowed; found ';'", 5),
            ("x > 1;", "only one expression is allowed; found ';'", 5),
            ("*", "'*' is not allowed", 0),
            ("t.x > 1", "qualified name 't.x' is not allowed; use the feature name 'x'", 0),
            ("cast(x as int) > 1", "casts are not allowed", None),
            ("x::int > 1", "casts are not allowed", 0),
            ("plan || 'x' = 'basicx'", "string concatenation '||' is not allowed", 0),
            ("x % 2 = 1", "operator '%' is not allowed", 0),
            ("x ** 2 > 1", "powers are not allowed", 0),
            ("case when x > 1 then true end", "CASE expressions are not allowed", None),
            ("x is true", "only IS NULL and IS NOT NULL are allowed after IS", 0),
            ("x between symmetric 3 and 1", "BETWEEN SYMMETRIC is not allowed", 0),
            ("x > $1", "parameters are not allowed", 0),
            ("__class__ > 1", "name '__class__' is not allowed", 0),
            ("x y", "aliases are not allowed", 0),
            ("x >= 7 -- and y < 1", "comments are not allowed", 7),
            ("x /* hidden */ >= 7", "comments are not allowed", 2),
            ("x > 1 as", "'as' is not allowed", 6),
            ("! (x > 1)", "write 'not' instead of '!'", 0),
            ("x > 1 and y -> 1", "'->' is not allowed", 12),
        ],
    )
    def test_forbidden_construct(self, expression: str, message: str, position: int | None) -> None:
        error = refused(expression)
        assert message in error.message
        if position is not None:
            assert error.position == position

    def test_unknown_feature_suggests_the_closest_name(self) -> None:
        error = refused("days_since_logn >= 7", FEATURE_NAMES)
        assert error.message.startswith(
            "unknown feature 'days_since_logn' (did you mean 'days_since_login'?) (at character 0)"
        )

    def test_unknown_feature_without_a_close_name(self) -> None:
        error = refused("x > 1 and zzz_qqq > 2")
        assert error.message.startswith("unknown feature 'zzz_qqq' (at character 10)")

    def test_feature_names_are_case_sensitive(self) -> None:
        assert "unknown feature 'X' (did you mean 'x'?)" in refused("X > 1").message

    @pytest.mark.parametrize(
        ("expression", "message", "position"),
        [
            ("x >=", "syntax error: '>=' is missing an operand", 2),
            ("x > 1 and and y", "syntax error: 'and' is missing an operand", 10),
            ("((x > 1)", "syntax error: expected ')'", 7),
            ("x > 1 y z", "syntax error: unexpected 'z'", 8),
            ("plan = 'basic", "syntax error: a quote is not closed", None),
        ],
    )
    def test_syntax_errors(self, expression: str, message: str, position: int | None) -> None:
        error = refused(expression)
        assert error.message.startswith(message)
        assert error.position == position

    @pytest.mark.parametrize(
        ("expression", "message"),
        [
            ("x + 1", "a rule must be true/false, this one is a number"),
            ("x > 1 and 1", "'and' needs true/false, but '1' is a number"),
            ("'a' + 1 > 0", "'+' needs a number, but \"'a'\" is a string"),
            ("1 = 'a'", "cannot compare: '1' is a number but \"'a'\" is a string"),
            ("coalesce(1, 'a') = 1", "coalesce() needs arguments of one type"),
            ("abs('a') = 1", "abs() needs a number"),
        ],
    )
    def test_type_errors_found_before_any_data(self, expression: str, message: str) -> None:
        assert message in refused(expression, {"x"}).message

    @pytest.mark.parametrize(
        ("expression", "message"),
        [
            ("x = plan", "cannot compare: 'x' is a number but 'plan' is a string"),
            ("plan + 1 > 2", "'+' needs a number, but 'plan' is a string"),
            ("not x", "'not' needs true/false, but 'x' is a number"),
            ("x", "a rule must be true/false, this one is a number"),
        ],
    )
    def test_type_errors_found_on_the_data(
        self, frame: pd.DataFrame, expression: str, message: str
    ) -> None:
        rule = compile_rule(expression, ALLOWED)
        with pytest.raises(RuleError) as caught:
            rule.evaluate(frame)
        assert message in caught.value.message

    def test_missing_feature_column(self) -> None:
        with pytest.raises(RuleError, match="the data has no feature 'y'"):
            compile_rule("y > 1", ALLOWED).evaluate(pd.DataFrame({"x": [1.0]}))

    def test_empty_and_too_long(self) -> None:
        assert refused("   ").message.startswith("expression is empty")
        long = "x > 1" + " " * MAX_LENGTH
        assert refused(long).message.startswith(
            f"expression is too long ({MAX_LENGTH + 5} characters; the limit is {MAX_LENGTH})"
        )

    def test_nesting_limits(self) -> None:
        deep = "(" * (MAX_DEPTH + 1) + "x > 1" + ")" * (MAX_DEPTH + 1)
        error = refused(deep)
        assert error.message.startswith(f"expression is nested too deeply (more than {MAX_DEPTH}")
        assert error.position == MAX_DEPTH
        assert "nested too deeply" in refused("not " * 300 + "x > 1").message
        assert "nested too deeply" in refused("- " * 300 + "x > 1").message
        assert fires("(" * 10 + "x > 1" + ")" * 10, pd.DataFrame({"x": [2.0]})) == [True]

    def test_long_and_or_chains_are_not_nesting(self) -> None:
        data = pd.DataFrame({"x": [2.0, 1.0, NAN]})
        assert fires(" and ".join(["x > 1"] * 190), data) == [True, False, False]
        assert fires(" or ".join(["x > 1"] * 190 + ["x is null"]), data) == [True, False, True]

    def test_and_binds_tighter_than_or(self) -> None:
        data = pd.DataFrame({"x": [6.0, 1.0, 3.0, -1.0]})
        assert fires("x > 5 or x < 2 and x < 0", data) == [True, False, False, True]
        assert fires("x > 5 or (x < 2 and x < 0)", data) == [True, False, False, True]
        assert fires("(x > 5 or x < 2) and x < 0", data) == [False, False, False, True]


class TestToSql:
    def test_renders_for_each_dialect(self) -> None:
        rule = compile_rule("days_since_login >= 7 and x != 1", ALLOWED)
        assert rule.to_sql() == "days_since_login >= 7 AND x <> 1"
        assert rule.to_sql("postgres") == "days_since_login >= 7 AND x <> 1"

    def test_division_is_guarded_against_zero(self) -> None:
        rule = compile_rule("x / y > 2", ALLOWED)
        assert rule.to_sql("duckdb") == "x / NULLIF(y, 0) > 2"
        assert rule.to_sql("postgres") == "CAST(x AS DOUBLE PRECISION) / NULLIF(y, 0) > 2"


# Shipped rules: for each, rows just past the threshold (fire) and just before it (quiet).
SHIPPED_CASES: dict[str, tuple[list[dict[str, float]], list[dict[str, float]]]] = {
    "no_login_7d": (
        [{"days_since_login": 7}, {"days_since_login": 30}],
        [{"days_since_login": 6}, {"days_since_login": 0}, {"days_since_login": NAN}],
    ),
    "low_core_usage": (
        [{"tenure_days": 30, "core_usage": 0.29}, {"tenure_days": 400, "core_usage": 0.0}],
        [
            {"tenure_days": 30, "core_usage": 0.30},
            {"tenure_days": 29, "core_usage": 0.0},
            {"tenure_days": 30, "core_usage": NAN},
        ],
    ),
    "cancel_attempts": ([{"cancel_attempts_30d": 2}], [{"cancel_attempts_30d": 1}]),
    "renewal_overdue": (
        [{"days_renewal_overdue": 31}],
        [{"days_renewal_overdue": 30}, {"days_renewal_overdue": NAN}],
    ),
    "purchase_drop": (  # purchase_change = (purchase_period - prev) / prev
        [{"purchase_prev_period": 100, "purchase_change": (50 - 100) / 100}],
        [
            {"purchase_prev_period": 100, "purchase_change": (51 - 100) / 100},
            {"purchase_prev_period": 0, "purchase_change": NAN},
        ],
    ),
    "complaints_up": (  # complaints_change = (now - prev) / max(prev, 1)
        [
            {"complaints_30d": 13, "complaints_change": (13 - 10) / 10},
            {"complaints_30d": 3, "complaints_change": (3 - 2) / 2},
        ],
        [
            {"complaints_30d": 12, "complaints_change": (12 - 10) / 10},
            {"complaints_30d": 2, "complaints_change": (2 - 1) / 1},
        ],
    ),
    "nps_drop": (  # nps_change = nps_90d - nps_prev_90d
        [{"nps_change": 30 - 50}, {"nps_change": -60}],
        [{"nps_change": 31 - 50}, {"nps_change": NAN}],
    ),
    "negative_comments": ([{"negative_comments_30d": 1}], [{"negative_comments_30d": 0}]),
}
SHIPPED_RULES = load_config(None).risk.rules


def test_every_shipped_rule_has_boundary_cases() -> None:
    assert {rule.id for rule in SHIPPED_RULES} == set(SHIPPED_CASES)


@pytest.mark.parametrize("rule", SHIPPED_RULES, ids=lambda rule: rule.id)
def test_shipped_rule_fires_just_past_its_threshold(rule: RiskRule) -> None:
    compiled = compile_rule(rule.expression, FEATURE_NAMES)
    fire, quiet = SHIPPED_CASES[rule.id]
    rows = fire + quiet
    data = pd.DataFrame(rows, columns=list(compiled.features), dtype=float)
    assert compiled.evaluate(data).tolist() == [True] * len(fire) + [False] * len(quiet)
