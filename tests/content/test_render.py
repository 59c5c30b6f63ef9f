"""The template sandbox and renderer, without a database."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from tenure.content.checking import ALLOWED_NAMES, check_fields, check_template
from tenure.content.errors import TemplateError
from tenure.content.render import render, render_part
from tenure.content.sandbox import MAX_RANGE, date, month, number, percent
from tenure.content.shipped import SHIPPED_TEMPLATES
from tenure.content.variables import sample_variables

SAMPLE = sample_variables("en", now=dt.datetime(2024, 6, 30, 9))

# Ways out of the sandbox to Python's internals; each must be refused when saved and when
# rendered.
ESCAPES = [
    "{{ account.__class__.__mro__ }}",
    "{{ ''.__class__.__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{% for x in ().__class__.__base__.__subclasses__() %}{{ x }}{% endfor %}",
    "{{ account['__class__'] }}",
    "{{ (account|attr('__class__')) }}",
    "{{ account.name.format(account) }}",
    "{{ ''.join }}",
    "{{ account.items.__self__ }}",
]
# The same reached through names the static check cannot see: only the sandbox stops them.
DYNAMIC_ESCAPES = [
    "{% set n = '__cla' %}{{ account[n ~ 'ss__'] }}",
    "{% set n = '__' ~ 'class' ~ '__' %}{{ ''[n] }}",
    "{{ account.name[('form' ~ 'at')] }}",
]


def problems_of(text: str, **kwargs: Any) -> list[str]:
    return [f"{p.line}: {p.message}" for p in check_template(text, **kwargs)]


class TestSandbox:
    @pytest.mark.parametrize("text", ESCAPES)
    def test_escape_refused_at_save(self, text: str) -> None:
        problems = check_template("Hello\n" + text, sample=SAMPLE)
        assert problems, text
        assert problems[0].line == 2
        assert "refused by the sandbox" in problems[0].message or "unknown filter" in (
            problems[0].message
        )

    @pytest.mark.parametrize("text", ESCAPES + DYNAMIC_ESCAPES)
    def test_escape_refused_at_render(self, text: str) -> None:
        with pytest.raises(TemplateError) as caught:
            render({"subject": "s", "body": "Hello\n" + text}, SAMPLE)
        problem = caught.value.template_problems[0]
        assert problem.field == "body"
        assert problem.line == 2
        assert "refused by the sandbox" in problem.message or "No filter named" in (problem.message)
        assert ("body", problem.text()) in caught.value.problems

    @pytest.mark.parametrize("text", DYNAMIC_ESCAPES)
    def test_dynamic_escape_found_by_the_trial_render(self, text: str) -> None:
        assert check_template(text) == []  # nothing visible in the syntax tree
        problems = check_template(text, sample=SAMPLE)
        assert len(problems) == 1
        assert problems[0].line == 1
        assert "refused by the sandbox" in problems[0].message

    def test_the_attr_filter_is_not_available(self) -> None:
        assert problems_of("{{ account|attr('name') }}") == [
            "1: unknown filter 'attr'",
        ]

    def test_harmless_methods_of_text_and_dicts_are_allowed(self) -> None:
        text = (
            "{{ account.name.upper() }} {{ account.name.startswith('N')|string|lower }} "
            "{% for k, v in scores.items() %}{% if k == 'quadrant' %}{{ v }}{% endif %}{% endfor %} "
            "{{ outcomes.get('core_usage')|percent }}"
        )
        assert check_template(text, sample=SAMPLE) == []
        assert render_part(text, SAMPLE, field="body") == (
            "NORTHWIND MANUFACTURING true growth 60%"
        )

    def test_repetition_powers_and_ranges_are_bounded(self) -> None:
        for text, message in [
            ("{{ 'a' * 1000000 }}", "repetition would make more than"),
            ("{{ [1] * 500000 }}", "repetition would make more than"),
            ("{{ 2 ** 100 }}", "exponent 100 is above 64"),
            ("{{ ((2 ** 64) ** 64) ** 64 }}", "power of more than 4096 bits"),
            ("{% for i in range(100000) %}{% endfor %}", f"templates may use {MAX_RANGE}"),
            ("{{ '%999999999s' % 1 }}", "formatting text with % is not allowed"),
        ]:
            with pytest.raises(TemplateError, match=message):
                render_part(text, SAMPLE, field="body")
        assert render_part("{{ 'ab' * 3 }} {{ 2 ** 10 }} {{ 7 % 4 }}", SAMPLE, field="b") == (
            "ababab 1024 3"
        )

    def test_replace_cannot_blow_up(self) -> None:
        text = "{{ ('x' * 1000)|replace('', 'y' * 1000) }}"
        with pytest.raises(TemplateError, match="replace would make more than"):
            render_part(text, SAMPLE, field="body")
        assert render_part("{{ 'a-b'|replace('-', '+') }}", SAMPLE, field="b") == "a+b"

    @pytest.mark.parametrize(
        ("text", "tag"),
        [
            ("{% macro m() %}x{% endmacro %}", "macro"),
            ("{% include 'x.html' %}", "include"),
            ("{% import 'x.html' as x %}", "import"),
            ("{% extends 'x.html' %}", "extends"),
        ],
    )
    def test_tags_that_reach_other_templates_are_refused(self, text: str, tag: str) -> None:
        assert problems_of(text) == [f"1: {{% {tag} %}} is not available in messages"]

    def test_variables_must_be_plain_data(self) -> None:
        with pytest.raises(TypeError, match=r"variables\.account\.owner is a object"):
            render({"body": "x"}, {"account": {"owner": object()}})


class TestCheck:
    def test_unknown_variable_with_its_line_and_a_suggestion(self) -> None:
        problems = check_template("Hello\n\n{{ acount.name }}")
        assert len(problems) == 1
        assert problems[0].line == 3
        assert problems[0].message.startswith(
            "unknown variable 'acount' (did you mean 'account'?); variables are "
        )

    def test_misspelt_field_of_a_known_variable(self) -> None:
        assert problems_of("{{ account.nmae }}\n{{ outcomes.core_usge }}") == [
            "1: account has no field 'nmae' (did you mean 'name'?)",
            "2: outcomes has no field 'core_usge' (did you mean 'core_usage'?)",
        ]

    def test_free_form_variables_take_any_field(self) -> None:
        text = "{{ links.webinar }} {{ account.attributes.tier }} {{ alert.evidence.x }}"
        assert check_template(text) == []

    def test_locally_assigned_names_are_not_checked_as_variables(self) -> None:
        text = (
            "{% set account = {'x': 1} %}{{ account.x }}{% for row in [1] %}{{ row }}{% endfor %}"
        )
        assert check_template(text) == []

    def test_syntax_error_with_its_line(self) -> None:
        [problem] = problems_of("a\nb\n{% if account %}\nc")
        assert problem.startswith("4: syntax error: Unexpected end of template.")
        assert "'endif'" in problem

    def test_unknown_filter_and_test(self) -> None:
        assert problems_of("{{ account.arr|numbr }}\n{% if account is mapingg %}{% endif %}") == [
            "1: unknown filter 'numbr' (did you mean 'number'?)",
            "2: unknown test 'mapingg' (did you mean 'mapping'?)",
        ]

    def test_alert_is_allowed_and_others_can_be_refused(self) -> None:
        assert "alert" in ALLOWED_NAMES
        assert check_template("{{ alert.rule_name }}") == []
        assert problems_of("{{ alert.rule_name }}", allowed=("account",))[0].startswith(
            "1: unknown variable 'alert'"
        )

    def test_check_fields_names_the_part(self) -> None:
        problems = check_fields(
            {"subject": "{{ x }}", "body": "ok", "html": "<p>{{ y.__class__ }}</p>"}
        )
        assert [(p.field, p.line) for p in problems] == [("subject", 1), ("html", 1), ("html", 1)]


class TestRender:
    def test_html_is_escaped_in_the_html_part_only(self) -> None:
        variables = {**SAMPLE, "account": {**SAMPLE["account"], "name": "<b>Acme & Co</b>"}}
        fields = {
            "subject": "Hi\n{{ account.name }}",
            "body": "{{ account.name }}",
            "html": "<p>{{ account.name }}</p>",
        }
        rendered = render(fields, variables)
        assert rendered.subject == "Hi <b>Acme & Co</b>"  # one line, never a header break
        assert rendered.text == "<b>Acme & Co</b>"
        assert rendered.html == "<p>&lt;b&gt;Acme &amp; Co&lt;/b&gt;</p>"
        assert render({"subject": "s", "body": "b", "html": ""}, variables).html is None

    def test_undefined_field_at_render_names_field_and_line(self) -> None:
        with pytest.raises(TemplateError) as caught:
            render({"subject": "ok", "body": "a\n{{ links.webinar }}"}, SAMPLE)
        assert (
            str(caught.value) == "body: line 2: undefined: 'dict object' has no attribute 'webinar'"
        )

    def test_missing_contact_is_an_error_unless_guarded(self) -> None:
        variables = {**SAMPLE, "contact": None}
        with pytest.raises(TemplateError, match="undefined"):
            render_part("{{ contact.name }}", variables, field="body")
        guarded = "{% if contact %}{{ contact.name }}{% else %}team{% endif %}"
        assert render_part(guarded, variables, field="body") == "team"

    def test_filters(self) -> None:
        assert number(1234567.891) == "1,234,568"
        assert number(1234.5, 1) == "1,234.5"
        assert number(None) == "—"
        assert percent(0.4234) == "42%"
        assert percent(0.4234, 1) == "42.3%"
        assert date("2024-06-30") == "2024-06-30"
        assert date("2024-06-30T09:00:00", "zh-CN") == "2024年6月30日"
        assert date(dt.date(2024, 6, 3), "en") == "3 June 2024"
        assert month("2024-06-30", "zh-CN") == "2024年6月"
        assert month("2024-06-30", "en") == "June 2024"
        assert date("not a date") == "not a date"
        with pytest.raises(ValueError, match="unknown date style"):
            date("2024-06-30", "fr")

    def test_every_shipped_template_passes_the_checks_and_renders(self) -> None:
        keys = set()
        for template in SHIPPED_TEMPLATES:
            fields = dataclasses.asdict(template)
            sample = sample_variables(template.locale)
            assert check_fields(fields, sample=sample) == [], template
            rendered = render(fields, sample)
            assert rendered.subject and rendered.text, template
            assert "None" not in rendered.text, template
            keys.add(template.key)
        assert len(keys) == 16

    def test_weekly_tips_change_with_the_week(self) -> None:
        tips = next(t for t in SHIPPED_TEMPLATES if t.key == "weekly_tips" and t.locale == "zh-CN")
        texts = {
            render(
                dataclasses.asdict(tips), sample_variables("zh-CN", now=dt.datetime(2024, 6, d))
            ).text
            for d in (1, 8, 15, 22, 29)
        }
        assert len(texts) == 5
