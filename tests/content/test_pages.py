"""The template and talk-track pages through the HTTP client."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from tests.web.conftest import form_token

from tenure.content import service

from .conftest import ContentBook, sign_in_as


def template_id(book: ContentBook, key: str, locale: str = "en", format: str | None = None) -> int:
    with book.runtime.sessions() as s:
        return service.pick_variant(s, key, locale, format).id


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-template="\d+" data-key="([^"]+)" data-locale="([^"]+)"', html)


class TestTemplatePages:
    def test_visitors_go_to_login(self, client: TestClient) -> None:
        for path in ("/templates", "/templates/1", "/talk-tracks"):
            response = client.get(path, follow_redirects=False)
            assert response.status_code == 303
            assert response.headers["location"].startswith("/login?next=")

    def test_list_filters_by_text_and_locale(self, client: TestClient) -> None:
        sign_in_as(client, "viewer")
        page = client.get("/templates?q=tutorial&locale=zh-CN")
        assert page.status_code == 200
        assert sorted(set(rows(page.text))) == [
            ("feature_tutorial", "zh-CN"), ("onboarding_tutorial", "zh-CN"),
        ]  # fmt: skip
        assert 'href="/templates"' in page.text and 'aria-current="page"' in page.text
        assert "template-new" not in page.text  # viewers cannot create
        fragment = client.get("/templates?q=nps", headers={"HX-Request": "true"})
        assert fragment.text.startswith('<section id="template-results"')
        assert len(rows(fragment.text)) == 4

    def test_reader_sees_the_texts_and_can_preview(
        self, client: TestClient, content_book: ContentBook
    ) -> None:
        sign_in_as(client, "csm")
        tid = template_id(content_book, "renewal_offer")
        page = client.get(f"/templates/{tid}")
        assert page.status_code == 200
        assert 'id="template-readonly"' in page.text and 'id="template-form"' not in page.text
        assert "{{ account.renewal_date|date(&#34;en&#34;) }}" in page.text
        preview = client.post(
            f"/templates/{tid}/preview",
            data={"preview_account": "ACME", "body": "{{ account.__class__ }}",
                  "csrf_token": form_token(page.text)},  # a reader's texts are ignored
        )  # fmt: skip
        assert preview.status_code == 200
        assert "Your current contract runs until 30 June 2025." in preview.text
        assert 'id="preview-problems"' not in preview.text

    def test_writer_saves_and_gets_field_errors_with_lines(
        self, client: TestClient, content_book: ContentBook
    ) -> None:
        sign_in_as(client, "manager")
        tid = template_id(content_book, "weekly_tips", "zh-CN")
        page = client.get(f"/templates/{tid}")
        assert 'id="template-form"' in page.text and 'id="template-shipped"' in page.text
        token = form_token(page.text)
        fields = {"key": "weekly_tips", "locale": "zh-CN", "format": "any", "name": "每周技巧",
                  "subject": "本周技巧", "html": "", "csrf_token": token}  # fmt: skip
        refused = client.post(f"/templates/{tid}",
                              data={**fields, "body": "第一行\n{{ ''.__class__.__mro__ }}"})  # fmt: skip
        assert refused.status_code == 422
        assert (
            'data-error-for="body">line 2: attribute &#39;__class__&#39; is refused by the sandbox'
            in (refused.text)
        )
        assert "第一行" in refused.text  # the input is kept
        saved = client.post(f"/templates/{tid}", data={**fields, "body": "{{ account.name }}，本周技巧"},
                            follow_redirects=False)  # fmt: skip
        assert saved.status_code == 303
        assert saved.headers["location"] == f"/templates/{tid}?saved=1"
        with content_book.runtime.sessions() as s:
            stored = service.get_template(s, tid)
        assert (stored.body, stored.shipped) == ("{{ account.name }}，本周技巧", False)

    def test_writer_previews_unsaved_text_and_creates(
        self, client: TestClient, content_book: ContentBook
    ) -> None:
        sign_in_as(client, "admin")
        page = client.get("/templates/new")
        token = form_token(page.text)
        preview = client.post("/templates/preview", data={
            "subject": "Hi", "body": "{{ account.name }}\n{{ scores.quadrant }}",
            "preview_account": "GAMMA", "csrf_token": token,
        })  # fmt: skip
        assert (
            '<pre id="preview-text" style="white-space: pre-wrap">Gamma Tech\nprofit</pre>'
            in preview.text
        )
        problems = client.post("/templates/preview", data={
            "body": "ok\n{{ acount }}", "preview_account": "", "csrf_token": token})  # fmt: skip
        assert "unknown variable &#39;acount&#39;" in problems.text and "line 2" in problems.text
        unknown = client.post("/templates/preview", data={
            "body": "x", "preview_account": "NOPE", "csrf_token": token})  # fmt: skip
        assert "no account has external id &#39;NOPE&#39;" in unknown.text
        created = client.post("/templates/new", data={
            "key": "kickoff", "locale": "en", "format": "any", "name": "Kickoff", "subject": "Kickoff",
            "body": "See you, {{ contact.name if contact else account.name }}", "html": "",
            "csrf_token": token,
        }, follow_redirects=False)  # fmt: skip
        assert created.status_code == 303
        with content_book.runtime.sessions() as s:
            assert service.pick_variant(s, "kickoff", "en", None).name == "Kickoff"

    def test_readers_cannot_post_and_csrf_is_checked(
        self, client: TestClient, content_book: ContentBook
    ) -> None:
        sign_in_as(client, "viewer")
        tid = template_id(content_book, "nps_survey")
        token = form_token(client.get(f"/templates/{tid}").text)
        refused = client.post(f"/templates/{tid}", data={"body": "x", "csrf_token": token})
        assert refused.status_code == 403
        assert (
            client.post(f"/templates/{tid}/delete", data={"csrf_token": token}).status_code == 403
        )
        assert client.post(f"/templates/{tid}/preview", data={}).status_code == 403  # no token
        assert client.get("/templates/new").status_code == 403
        assert client.get("/templates/999999").status_code == 404


class TestTalkTrackPages:
    def test_search_in_chinese_with_htmx(self, client: TestClient) -> None:
        sign_in_as(client, "csm")
        client.cookies.set("lang", "zh-CN")
        page = client.get("/talk-tracks")
        assert page.status_code == 200
        assert "话术库" in page.text and page.text.count("data-talk-track=") == 12
        fragment = client.get("/talk-tracks?q=解约", headers={"HX-Request": "true"})
        assert fragment.text.startswith('<section id="talk-track-results"')
        assert re.findall(r'data-key="([^"]+)" data-locale="([^"]+)"', fragment.text) == [
            ("cancellation_process", "zh-CN"),
        ]
        assert "共 1 条话术" in fragment.text
        assert 'class="small-btn" href="/talk-tracks/' not in fragment.text  # csm: no edit link

    def test_writer_edits_a_talk_track(self, client: TestClient, content_book: ContentBook) -> None:
        sign_in_as(client, "manager")
        with content_book.runtime.sessions() as s:
            track = service.find_talk_track(s, "onboarding_timeline", "zh-CN")
        page = client.get(f"/talk-tracks/{track.id}")
        assert 'id="talk-track-form"' in page.text
        token = form_token(page.text)
        fields = {"key": track.key, "locale": "zh-CN", "topic": track.topic,
                  "question": track.question, "department": "交付部", "csrf_token": token}  # fmt: skip
        refused = client.post(f"/talk-tracks/{track.id}", data={**fields, "answer": "", "tags": ""})
        assert refused.status_code == 422
        assert 'data-error-for="answer"' in refused.text
        saved = client.post(f"/talk-tracks/{track.id}",
                            data={**fields, "answer": "一般 4 周上线。", "tags": "上线，实施, 培训"},
                            follow_redirects=False)  # fmt: skip
        assert saved.status_code == 303
        with content_book.runtime.sessions() as s:
            stored = service.get_talk_track(s, track.id)
        assert (stored.answer, stored.tags, stored.department) == (
            "一般 4 周上线。",
            ["上线", "实施", "培训"],
            "交付部",
        )
