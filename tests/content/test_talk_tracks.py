"""The talk-track library: search in Chinese and English on SQLite and PostgreSQL, changes."""

from __future__ import annotations

import pytest

from tenure.content import install, service
from tenure.content.errors import InvalidContent
from tenure.db import transaction
from tenure.errors import ResourceAlreadyExists
from tenure.kit.pagination import InvalidQuery
from tenure.kit.runtime import Runtime

from .conftest import ContentBook


def found(
    where: ContentBook | Runtime, q: str | None = None, **filters: str
) -> list[tuple[str, str]]:
    runtime = where.runtime if isinstance(where, ContentBook) else where
    with runtime.sessions() as s:
        page = service.search_talk_tracks(s, q, filters.get("locale"), filters.get("tag"))
    assert page.total == len(page.items)
    return [(t.key, t.locale) for t in page.items]


class TestSearch:
    """Each case runs on the embedded store and on PostgreSQL."""

    def test_chinese_substrings(self, any_library: Runtime) -> None:
        assert found(any_library, "续约") == [("renewal_terms", "zh-CN")]
        # In the answer only ("宽限期" appears nowhere else).
        assert found(any_library, "宽限期") == [("renewal_terms", "zh-CN")]
        # A tag only: "流失" is a tag of the cancellation track, in no text.
        assert found(any_library, "流失") == [("cancellation_process", "zh-CN")]
        assert found(any_library, "个人信息") == [("data_security_pipl", "zh-CN")]

    def test_english_any_case_and_every_word(self, any_library: Runtime) -> None:
        assert found(any_library, "RENEWAL discount") == [("renewal_terms", "en")]
        assert found(any_library, "pipl") == [
            ("data_security_pipl", "en"),
            ("data_security_pipl", "zh-CN"),
        ]
        # Topic matches come first: "SLA" is in both SLA topics, and in no other track.
        assert found(any_library, "sla") == [
            ("sla_support_hours", "en"),
            ("sla_support_hours", "zh-CN"),
        ]
        assert found(any_library, "sla", locale="zh-CN") == [("sla_support_hours", "zh-CN")]
        assert found(any_library, "renewal nothing-like-this") == []

    def test_tag_filter_is_an_exact_tag(self, any_library: Runtime) -> None:
        assert found(any_library, tag="合规") == [("data_security_pipl", "zh-CN")]
        assert found(any_library, tag="Compliance") == [("data_security_pipl", "en")]
        assert found(any_library, tag="compl") == []
        assert found(any_library, "数据", tag="数据删除") == [("cancellation_process", "zh-CN")]

    def test_wildcards_are_literal(self, any_library: Runtime) -> None:
        assert found(any_library, "99.9%") == [
            ("sla_support_hours", "en"),
            ("sla_support_hours", "zh-CN"),
        ]
        assert found(any_library, "%") == found(any_library, "99.9%")
        assert found(any_library, "_") == []

    def test_paging(self, any_library: Runtime) -> None:
        with any_library.sessions() as s:
            first = service.search_talk_tracks(s, None, None, None, limit=5, offset=0)
            rest = service.search_talk_tracks(s, None, None, None, limit=10, offset=5)
            assert first.total == rest.total == 12
            keys = [(t.key, t.locale) for t in first.items + rest.items]
            assert len(set(keys)) == 12
            with pytest.raises(InvalidQuery):
                service.search_talk_tracks(s, None, "fr", None)


class TestChanges:
    def test_create_edit_and_find_new_words(self, content_book: ContentBook) -> None:
        with transaction(content_book.runtime.sessions) as s:
            track = service.create_talk_track(s, "tester", {
                "key": "invoice", "locale": "zh-CN", "topic": "发票开具",
                "question": "什么时候能开发票？", "answer": "付款到账后 3 个工作日内开具增值税专用发票。",
                "tags": ["发票", "财务", "发票"], "department": "财务部",
            })  # fmt: skip
            assert track.tags == ["发票", "财务"]
            with pytest.raises(ResourceAlreadyExists):
                service.create_talk_track(s, "tester", {**track.model_dump(include={
                    "key", "locale", "topic", "question", "answer"})})  # fmt: skip
            edited = service.update_talk_track(s, "tester", track.id, {"tags": ["增值税"]})
            assert edited.tags == ["增值税"] and not edited.shipped
        assert found(content_book, "专用发票") == [("invoice", "zh-CN")]
        assert found(content_book, tag="增值税") == [("invoice", "zh-CN")]
        assert found(content_book, tag="发票") == []

    def test_invalid_fields(self, content_book: ContentBook) -> None:
        with content_book.runtime.sessions() as s, pytest.raises(InvalidContent) as caught:
            service.create_talk_track(s, "t", {"key": "x", "locale": "zh-CN", "topic": "",
                                               "question": "q", "answer": "a"})  # fmt: skip
        assert caught.value.problems[0][0] == "topic"

    def test_edited_shipped_track_is_kept(self, content_book: ContentBook) -> None:
        with transaction(content_book.runtime.sessions) as s:
            track = service.find_talk_track(s, "sla_support_hours", "en")
            service.update_talk_track(s, "tester", track.id, {"answer": "Ours: 99.95%."})
            report = install.install_shipped(s, "tester")
            assert report.talk_tracks["kept"] == 1
            assert service.get_talk_track(s, track.id).answer == "Ours: 99.95%."
