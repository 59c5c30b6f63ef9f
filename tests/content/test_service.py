"""Saving templates, choosing a variant, rendering with an account's data, shipped content."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from tenure.accounts.models import Contact
from tenure.auth.models import AuditEntry
from tenure.content import compose, install, service
from tenure.content.errors import InvalidContent, TemplateError
from tenure.content.models import MessageTemplate, TalkTrack
from tenure.content.shipped import SHIPPED_TALK_TRACKS, SHIPPED_TEMPLATES
from tenure.db import transaction
from tenure.errors import ResourceAlreadyExists, ResourceNotFound

from .conftest import ContentBook

NOW = dt.datetime(2024, 7, 1, 8, 30)


def template(
    key: str = "hello", locale: str = "en", format: str = "any", **extra: Any
) -> dict[str, Any]:
    return {"key": key, "locale": locale, "format": format, "name": f"{key} {locale} {format}",
            "subject": f"{locale}/{format}", "body": f"{key}:{locale}:{format}", **extra}  # fmt: skip


class TestTemplates:
    def test_create_update_delete_are_audited(self, content_book: ContentBook) -> None:
        with transaction(content_book.runtime.sessions) as s:
            created = service.create_template(s, "tester", template())
            assert not created.shipped
            updated = service.update_template(
                s, "tester", created.id, {"body": "Hi {{ account.name }}"}
            )
            assert updated.body == "Hi {{ account.name }}"
            service.delete_template(s, "tester", created.id)
            entries = s.scalars(
                select(AuditEntry).where(AuditEntry.entity == "message_template",
                                         AuditEntry.entity_id == str(created.id))
                .order_by(AuditEntry.id)
            ).all()  # fmt: skip
        assert [(e.action, e.actor) for e in entries] == [
            ("create", "tester"), ("update", "tester"), ("delete", "tester"),
        ]  # fmt: skip
        assert entries[1].before["body"] == "hello:en:any"
        assert entries[1].after["body"] == "Hi {{ account.name }}"

    def test_variant_is_unique(self, content_book: ContentBook) -> None:
        with transaction(content_book.runtime.sessions) as s:
            service.create_template(s, "tester", template())
            with pytest.raises(
                ResourceAlreadyExists, match="already has a en variant in format 'any'"
            ):
                service.create_template(s, "tester", template())
            other = service.create_template(s, "tester", template(format="video"))
            with pytest.raises(ResourceAlreadyExists):
                service.update_template(s, "tester", other.id, {"format": "any"})

    def test_refused_text_names_field_and_line(self, content_book: ContentBook) -> None:
        with transaction(content_book.runtime.sessions) as s:
            with pytest.raises(TemplateError) as caught:
                service.create_template(s, "tester", template(
                    body="Hi\n{{ acount.name }}", html="<p>\n\n{{ ''.__class__ }}</p>"))  # fmt: skip
            assert s.scalar(select(MessageTemplate).where(MessageTemplate.key == "hello")) is None
        assert caught.value.problems[0][0] == "body"
        assert caught.value.problems[0][1].startswith("line 2: unknown variable 'acount'")
        assert caught.value.problems[1] == (
            "html", "line 3: attribute '__class__' is refused by the sandbox (names starting "
            "with '_' reach Python internals)",
        )  # fmt: skip

    def test_bad_fields_are_invalid_content(self, content_book: ContentBook) -> None:
        with (
            transaction(content_book.runtime.sessions) as s,
            pytest.raises(InvalidContent) as caught,
        ):
            service.create_template(s, "tester", template(key="Bad Key", locale="fr"))
        assert {field for field, _ in caught.value.problems} == {"key", "locale"}

    def test_editing_a_shipped_template_keeps_it_from_reinstalls(
        self, content_book: ContentBook
    ) -> None:
        with transaction(content_book.runtime.sessions) as s:
            welcome = service.pick_variant(s, "onboarding_welcome", "en", None)
            assert welcome.shipped
            service.update_template(
                s, "tester", welcome.id, {"subject": "Welcome, {{ account.name }}"}
            )
            nps = service.pick_variant(s, "nps_survey", "en", None)
            nps.body = "an old shipped text"  # as an older release shipped it
            report = install.install_shipped(s, "tester")
        assert report.templates == {"created": 0, "updated": 1, "unchanged": len(SHIPPED_TEMPLATES) - 2,
                                    "kept": 1}  # fmt: skip
        assert report.talk_tracks["unchanged"] == len(SHIPPED_TALK_TRACKS)
        with content_book.runtime.sessions() as s:
            welcome = service.pick_variant(s, "onboarding_welcome", "en", None)
            assert (welcome.subject, welcome.shipped) == ("Welcome, {{ account.name }}", False)
            assert (
                "an old shipped text" not in service.pick_variant(s, "nps_survey", "en", None).body
            )

    def test_a_deleted_shipped_template_comes_back(self, content_book: ContentBook) -> None:
        with transaction(content_book.runtime.sessions) as s:
            service.delete_template(
                s, "tester", service.pick_variant(s, "weekly_tips", "en", None).id
            )
            assert install.install_shipped(s, "tester").templates["created"] == 1


class TestPickVariant:
    def test_fallback_order(self, content_book: ContentBook) -> None:
        """exact → (locale, any) → other locale in the format → other locale any → rest."""
        with transaction(content_book.runtime.sessions) as s:

            def chosen() -> tuple[str, str]:
                v = service.pick_variant(s, "hello", "zh-CN", "video")
                return v.locale, v.format

            service.create_template(s, "t", template(locale="en", format="document"))
            assert chosen() == ("en", "document")  # nothing better: any variant at all
            service.create_template(s, "t", template(locale="zh-CN", format="document"))
            assert chosen() == ("zh-CN", "document")  # the locale's other format first
            service.create_template(s, "t", template(locale="en", format="any"))
            assert chosen() == ("en", "any")
            service.create_template(s, "t", template(locale="en", format="video"))
            assert chosen() == ("en", "video")
            service.create_template(s, "t", template(locale="zh-CN", format="any"))
            assert chosen() == ("zh-CN", "any")
            service.create_template(s, "t", template(locale="zh-CN", format="video"))
            assert chosen() == ("zh-CN", "video")

    def test_locale_tags_and_missing_preferences(self, content_book: ContentBook) -> None:
        with content_book.runtime.sessions() as s:
            assert (
                service.pick_variant(s, "onboarding_tutorial", "zh-Hans-CN", None).locale == "zh-CN"
            )
            assert (
                service.pick_variant(s, "onboarding_tutorial", "en-GB", "video").format == "video"
            )
            # No "any" variant: a contact without a preference gets the document.
            assert service.pick_variant(s, "onboarding_tutorial", None, None).format == "document"
            assert service.pick_variant(s, "nps_survey", "fr", None).locale == "zh-CN"

    def test_unknown_key(self, content_book: ContentBook) -> None:
        with (
            content_book.runtime.sessions() as s,
            pytest.raises(ResourceNotFound, match="no template has key 'nope'"),
        ):
            service.pick_variant(s, "nope", "en", "any")


class TestRenderFor:
    def test_renders_with_the_accounts_data(self, content_book: ContentBook) -> None:
        ids = content_book.ids
        with transaction(content_book.runtime.sessions) as s:
            li = s.scalar(select(Contact).where(Contact.external_id == "C2"))
            assert li is not None
            li.locale = "en"
            body = (
                "{{ account.name }}|{{ account.arr|number }}|{{ account.renewal_date }}|"
                "{{ account.attributes.tier }}|{{ contact.name }}, {{ contact.title }}|"
                "{{ owner.name }}|{{ scores.health_score }}|{{ scores.quadrant }}|"
                "{{ scores.health_change }}|{{ outcomes.core_usage|percent }}|"
                "{{ outcomes.days_since_login }}|{{ links.survey }}|{{ now|date }}"
            )
            service.create_template(s, "t", template(key="facts", locale="en", format="document",
                                                      body=body, subject="For {{ contact.name }}"))  # fmt: skip
            rendered = compose.render_for(
                s, "facts", ids["ACME"], li.id, {"survey": "https://x/s/1"}, now=NOW
            )
        assert rendered.text == (
            "Acme Manufacturing|120,000|2025-06-30|gold|Li Na, CFO|Alice Chen|82.0|"
            "strategic_partner|47.0|50%|2|https://x/s/1|2024-07-01"
        )
        assert (rendered.subject, rendered.locale, rendered.format, rendered.key) == (
            "For Li Na", "en", "document", "facts",
        )  # fmt: skip

    def test_the_contacts_preferences_pick_the_shipped_variant(
        self, content_book: ContentBook
    ) -> None:
        ids = content_book.ids
        with content_book.runtime.sessions() as s:
            wang = s.scalar(select(Contact).where(Contact.external_id == "C1"))
            assert wang is not None and wang.format_preference == "video" and wang.locale is None
            rendered = compose.render_for(
                s, "feature_tutorial", ids["ACME"], wang.id, {"tutorial": "https://x/t"}, now=NOW
            )
        assert (rendered.locale, rendered.format) == ("zh-CN", "video")
        assert rendered.text.startswith("Wang Wei，您好！")
        assert "观看地址：https://x/t" in rendered.text
        assert "Alice Chen｜客户成功经理" in rendered.text

    def test_alert_notification_to_the_owner(self, content_book: ContentBook) -> None:
        alert = {"rule_name": "No login for 7 days", "severity": "critical",
                 "evidence": {"days_since_login": 9, "expression": "days_since_login >= 7"},
                 "opened_as_of": "2024-06-20"}  # fmt: skip
        with content_book.runtime.sessions() as s:
            rendered = compose.render_for(
                s, "alert_notification", content_book.ids["GAMMA"], None,
                {"account": "https://t/accounts/GAMMA"}, locale="zh-CN", extra={"alert": alert},
            )  # fmt: skip
        assert rendered.subject == "【风险预警·紧急】Gamma Tech：No login for 7 days"
        assert "- 当前健康度：20.0（较上期 -70.0）" in rendered.text
        assert "- 年度经常性收入（ARR）：100,000" in rendered.text
        assert "- days_since_login：9" in rendered.text and "expression" not in rendered.text
        assert "- 首次出现：2024年6月20日" in rendered.text

    def test_an_account_never_scored(self, content_book: ContentBook) -> None:
        with transaction(content_book.runtime.sessions) as s:
            service.create_template(s, "t", template(
                key="scored", body="{{ scores.health_score|number }} {{ outcomes.core_usage|percent }} "
                "{{ owner.name if owner else 'nobody' }}"))  # fmt: skip
            rendered = compose.render_for(s, "scored", content_book.ids["DELTA"], locale="en")
        assert rendered.text == "— — nobody"

    def test_contact_of_another_account_is_refused(self, content_book: ContentBook) -> None:
        with content_book.runtime.sessions() as s:
            wang = s.scalar(select(Contact.id).where(Contact.external_id == "C1"))
            with pytest.raises(InvalidContent, match="is not a contact of account 'BETA'"):
                compose.render_for(s, "nps_survey", content_book.ids["BETA"], wang)

    def test_undefined_link_fails_with_field_and_line(self, content_book: ContentBook) -> None:
        with content_book.runtime.sessions() as s, pytest.raises(TemplateError) as caught:
            compose.render_for(s, "nps_survey", content_book.ids["ACME"], None, {}, "en")
        assert caught.value.problems[0][0] == "body"
        assert caught.value.problems[0][1].startswith("line ")
        assert "has no attribute 'survey'" in caught.value.problems[0][1]

    def test_render_text_for_task_titles(self, content_book: ContentBook) -> None:
        with content_book.runtime.sessions() as s:
            title = compose.render_text(s, "Call {{ account.name }} ({{ scores.health_score }})",
                                        account_id=content_book.ids["ACME"])  # fmt: skip
            assert title == "Call Acme Manufacturing (82.0)"
            with pytest.raises(TemplateError, match="text: line 1: unknown variable 'acount'"):
                compose.render_text(s, "{{ acount }}", account_id=content_book.ids["ACME"])

    def test_extra_variables_must_be_known_names(self, content_book: ContentBook) -> None:
        with (
            content_book.runtime.sessions() as s,
            pytest.raises(InvalidContent, match="unknown variables \\['secret'\\]"),
        ):
            compose.render_for(s, "nps_survey", content_book.ids["ACME"], extra={"secret": 1})


class TestPreview:
    def test_sample_data_without_an_account(self, content_book: ContentBook) -> None:
        with content_book.runtime.sessions() as s:
            tpl = service.pick_variant(s, "alert_notification", "en", None)
            result = compose.preview(s, template_id=tpl.id)
        assert result.ok and result.sample
        assert result.subject == "[HIGH] Northwind Manufacturing: No login for 7 days"

    def test_problems_are_returned(self, content_book: ContentBook) -> None:
        with content_book.runtime.sessions() as s:
            result = compose.preview(s, fields={"subject": "x", "body": "a\n{{ x.__class__ }}"},
                                     account="ACME")  # fmt: skip
        assert not result.ok
        assert [(p.field, p.line) for p in result.problems] == [("body", 2), ("body", 2)]

    def test_real_account_and_contact(self, content_book: ContentBook) -> None:
        with content_book.runtime.sessions() as s:
            result = compose.preview(
                s, fields={"subject": "{{ account.name }}", "body": "{{ contact.title }}"},
                account="ACME", contact="C2",
            )  # fmt: skip
            assert (result.ok, result.subject, result.text, result.sample) == (
                True, "Acme Manufacturing", "CFO", False,
            )  # fmt: skip
            with pytest.raises(InvalidContent, match="belongs to another account"):
                compose.preview(s, fields={"body": "x"}, account="BETA", contact="C2")


def test_install_shipped_on_an_empty_home_and_again(any_runtime: Any) -> None:
    with transaction(any_runtime.sessions) as s:
        first = install.install_shipped(s)
    with transaction(any_runtime.sessions) as s:
        second = install.install_shipped(s)
        assert s.query(MessageTemplate).filter_by(shipped=True).count() == len(SHIPPED_TEMPLATES)
        assert s.query(TalkTrack).count() == len(SHIPPED_TALK_TRACKS)
    assert first.templates["created"] == len(SHIPPED_TEMPLATES) == 36
    assert first.talk_tracks["created"] == len(SHIPPED_TALK_TRACKS) == 12
    assert second.templates == {"created": 0, "updated": 0, "unchanged": 36, "kept": 0}
    variants = {(t.key, t.locale, t.format) for t in SHIPPED_TEMPLATES}
    for key in ("onboarding_tutorial", "feature_tutorial"):
        for locale in ("zh-CN", "en"):
            assert {(key, locale, "video"), (key, locale, "document")} <= variants
