"""Invitations, answers, reminders and figures, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import delete, select

from tenure.accounts.models import Contact
from tenure.analytics.operational_features import compute_operational_features
from tenure.channels.secrets import load_key
from tenure.config import EngagementConfig
from tenure.content.models import MessageTemplate
from tenure.db import transaction
from tenure.engagement.outbox import utcnow
from tenure.feedback.models import NpsResponse
from tenure.kit.runtime import Runtime
from tenure.surveys.answers import InvalidAnswer, InvitationNotFound, record_answer
from tenure.surveys.invitations import InvalidSurvey, invite, send_reminders
from tenure.surveys.messages import TemplateMissing
from tenure.surveys.models import SurveyInvitation
from tenure.surveys.reports import list_invitations, survey_stats
from tenure.surveys.tokens import InvalidToken

from .conftest import DAYTIME, SurveyBook, build_survey_book, invitation_of, outbox, token_of

# No quiet hours unless a test sets them: the tests run at any time of day.
CONFIG = EngagementConfig(quiet_hours_start="00:00", quiet_hours_end="00:00")


@pytest.fixture
def rt(any_runtime: Runtime) -> Runtime:
    return any_runtime


@pytest.fixture
def book(rt: Runtime) -> SurveyBook:
    return build_survey_book(rt)


@pytest.fixture
def key(rt: Runtime) -> bytes:
    return load_key(rt.settings.home)


def send(rt: Runtime, book: SurveyBook, key: bytes, **options: Any) -> Any:
    options.setdefault("config", CONFIG)
    options.setdefault("now", utcnow())
    with transaction(rt.sessions) as s:
        return invite(s, key=key, account_id=book["ACME"], source="survey:test", **options)


def link_of(rt: Runtime, contact_id: int) -> str:
    with rt.sessions() as s:
        message = next(m for m in outbox(s) if m.contact_id == contact_id)
        return str(message.links["survey"])


class TestInvite:
    def test_one_message_per_reachable_contact_with_its_link(
        self, rt: Runtime, book: SurveyBook, key: bytes
    ) -> None:
        invited = send(rt, book, key)
        assert sorted(i.contact_id for i in invited) == sorted([book["C-EN"], book["C-ZH"]])
        skipped = {s.contact_external_id: s.reason for s in invited.skipped}
        assert skipped == {
            "C-OUT": "opted_out",
            "C-NOMAIL": "no_channel",
            "C-NOEMAIL-OK": "no_channel",
        }
        with rt.sessions() as s:
            messages = outbox(s)
            assert len(messages) == 2
            by_contact = {m.contact_id: m for m in messages}
            for contact in ("C-EN", "C-ZH"):
                invitation = invitation_of(s, book[contact])
                message = by_contact[book[contact]]
                link = message.links["survey"]
                assert link.startswith("http://127.0.0.1:8000/s/")
                assert link in message.text
                assert message.idempotency_key == f"survey:{invitation.id}"
                assert message.source == "survey:test"
                assert message.status == "queued"
                assert message.channel == invitation.channel
                assert message.template_key == "nps_survey"
                assert invitation.expires_at - invitation.sent_at <= dt.timedelta(days=14)
                assert invitation.expires_at - invitation.sent_at > dt.timedelta(days=13, hours=23)
        # The preferred group robot for the Chinese contact, e-mail for the English one.
        assert by_contact[book["C-ZH"]].channel == "wecom"
        assert by_contact[book["C-ZH"]].locale == "zh-CN"
        assert by_contact[book["C-EN"]].channel == "email"
        assert by_contact[book["C-EN"]].recipient["email"] == "emma@acme.example"
        assert by_contact[book["C-EN"]].locale == "en"
        assert by_contact[book["C-EN"]].subject != by_contact[book["C-ZH"]].subject

    def test_an_open_invitation_is_not_sent_again(
        self, rt: Runtime, book: SurveyBook, key: bytes
    ) -> None:
        send(rt, book, key)
        again = send(rt, book, key, contact_ids=[book["C-EN"]])
        assert list(again) == []
        assert [(s.contact_external_id, s.reason) for s in again.skipped] == [("C-EN", "pending")]
        with rt.sessions() as s:
            assert len(outbox(s)) == 2

    def test_an_opted_out_contact_named_explicitly_is_still_skipped(
        self, rt: Runtime, book: SurveyBook, key: bytes
    ) -> None:
        invited = send(rt, book, key, contact_ids=[book["C-OUT"], book["C-EN"]])
        assert [i.contact_id for i in invited] == [book["C-EN"]]
        assert [(s.contact_id, s.reason) for s in invited.skipped] == [(book["C-OUT"], "opted_out")]
        with rt.sessions() as s:
            assert [m.contact_id for m in outbox(s)] == [book["C-EN"]]

    def test_a_forced_channel_the_contact_refused(
        self, rt: Runtime, book: SurveyBook, key: bytes
    ) -> None:
        invited = send(rt, book, key, contact_ids=[book["C-NOEMAIL-OK"]], channel="email")
        assert [(s.reason, s.message) for s in invited.skipped] == [
            ("channel_opted_out", "the contact opted out of email")
        ]

    def test_the_frequency_cap(self, rt: Runtime, book: SurveyBook, key: bytes) -> None:
        config = CONFIG.model_copy(update={"max_messages_per_contact": 1})
        send(rt, book, key, config=config, contact_ids=[book["C-EN"]])
        with transaction(rt.sessions) as s:  # answered, so not pending any more
            invitation_of(s, book["C-EN"]).responded_at = utcnow()
        capped = send(rt, book, key, config=config, contact_ids=[book["C-EN"]])
        assert [s.reason for s in capped.skipped] == ["frequency_cap"]

    def test_quiet_hours_delay_the_message(self, rt: Runtime, book: SurveyBook, key: bytes) -> None:
        config = EngagementConfig()  # 21:00-08:00 in Asia/Shanghai
        late = dt.datetime(2030, 6, 3, 15, 30)  # 23:30 in Shanghai
        send(rt, book, key, config=config, contact_ids=[book["C-EN"]], now=late)
        with rt.sessions() as s:
            assert outbox(s)[0].next_attempt_at == dt.datetime(2030, 6, 4, 0, 0)  # 08:00 local
        send(rt, book, key, config=config, contact_ids=[book["C-ZH"]], now=DAYTIME)
        with rt.sessions() as s:  # 10:00 in Shanghai: due at once
            assert outbox(s)[1].next_attempt_at <= utcnow()

    @pytest.mark.parametrize(
        ("options", "field"),
        [({"channel": "pigeon"}, "channel"), ({"contact_ids": [10**6]}, "contacts[0]")],
    )
    def test_refuses_what_cannot_be(
        self, rt: Runtime, book: SurveyBook, key: bytes, options: dict[str, Any], field: str
    ) -> None:
        with pytest.raises(InvalidSurvey) as caught:
            send(rt, book, key, **options)
        assert caught.value.problems[0][0] == field

    def test_without_the_template_nothing_is_sent(
        self, rt: Runtime, book: SurveyBook, key: bytes
    ) -> None:
        with transaction(rt.sessions) as s:
            s.execute(delete(MessageTemplate).where(MessageTemplate.key == "nps_survey"))
        with pytest.raises(TemplateMissing, match="tenure templates install-shipped"):
            send(rt, book, key)
        with rt.sessions() as s:
            assert outbox(s) == []
            assert s.scalars(select(SurveyInvitation)).all() == []

    def test_a_contact_of_another_account(self, rt: Runtime, book: SurveyBook, key: bytes) -> None:
        with pytest.raises(InvalidSurvey, match="belongs to another account"):
            send(rt, book, key, contact_ids=[book["C-OTHER"]])
        with rt.sessions() as s:
            assert outbox(s) == []


class TestRecordAnswer:
    def test_creates_then_updates_one_response_that_the_nps_feature_sees(
        self, rt: Runtime, book: SurveyBook, key: bytes
    ) -> None:
        send(rt, book, key)
        token = token_of(link_of(rt, book["C-EN"]))
        first = utcnow()
        with transaction(rt.sessions) as s:
            answer = record_answer(s, token, 9, "  Saves us hours  ", first, key=key)
            assert not answer.updated
        with rt.sessions() as s:
            rows = s.scalars(select(NpsResponse)).all()
            assert len(rows) == 1
            invitation = invitation_of(s, book["C-EN"])
            assert rows[0].external_id == f"survey:{invitation.id}"
            assert (rows[0].score, rows[0].comment) == (9, "Saves us hours")
            assert (rows[0].account_id, rows[0].contact_id) == (book["ACME"], book["C-EN"])
            assert rows[0].responded_at == first.replace(microsecond=0)
            assert invitation.responded_at == rows[0].responded_at
            assert invitation.nps_response_id == rows[0].id
            features = compute_operational_features(s.connection(), first.date())
            assert features.loc[book["ACME"], "nps_90d"] == 100.0
            assert features.loc[book["ACME"], "nps_responses_90d"] == 1.0

        later = first + dt.timedelta(hours=2)
        with transaction(rt.sessions) as s:
            answer = record_answer(s, token, 3, "", later, key=key)
            assert answer.updated
        with rt.sessions() as s:
            rows = s.scalars(select(NpsResponse)).all()
            assert [(r.score, r.comment) for r in rows] == [(3, None)]
            assert rows[0].responded_at == later.replace(microsecond=0)
            invitation = invitation_of(s, book["C-EN"])
            assert invitation.responded_at == first.replace(microsecond=0)  # the first answer
            features = compute_operational_features(s.connection(), later.date())
            assert features.loc[book["ACME"], "nps_90d"] == -100.0
            assert features.loc[book["ACME"], "nps_responses_90d"] == 1.0

    @pytest.mark.parametrize(
        ("score", "comment", "field"),
        [(11, None, "score"), (-1, None, "score"), (True, None, "score"),
         (5, "x" * 5001, "comment"), (5, "a\x00b", "comment")],
    )  # fmt: skip
    def test_refuses_an_answer_out_of_range(
        self, rt: Runtime, book: SurveyBook, key: bytes, score: Any, comment: Any, field: str
    ) -> None:
        send(rt, book, key, contact_ids=[book["C-EN"]])
        token = token_of(link_of(rt, book["C-EN"]))
        with transaction(rt.sessions) as s, pytest.raises(InvalidAnswer) as caught:
            record_answer(s, token, score, comment, utcnow(), key=key)
        assert caught.value.problems[0][0] == field
        with rt.sessions() as s:
            assert s.scalars(select(NpsResponse)).all() == []

    def test_refuses_a_bad_link(self, rt: Runtime, book: SurveyBook, key: bytes) -> None:
        send(rt, book, key, contact_ids=[book["C-EN"]])
        token = token_of(link_of(rt, book["C-EN"]))
        with rt.sessions() as s:
            expires = invitation_of(s, book["C-EN"]).expires_at
            with pytest.raises(InvalidToken) as caught:
                record_answer(s, token, 9, None, expires, key=key)
            assert caught.value.reason == "expired"
            with pytest.raises(InvalidToken) as caught:
                record_answer(s, token[:-3] + "AAA", 9, None, utcnow(), key=key)
            assert caught.value.reason in ("tampered", "malformed")
            with pytest.raises(InvalidToken) as caught:
                record_answer(s, token, 9, None, utcnow(), key=b"another server key")
            assert caught.value.reason == "tampered"

    def test_a_deleted_invitation(self, rt: Runtime, book: SurveyBook, key: bytes) -> None:
        send(rt, book, key, contact_ids=[book["C-EN"]])
        token = token_of(link_of(rt, book["C-EN"]))
        with transaction(rt.sessions) as s:
            s.delete(invitation_of(s, book["C-EN"]))
        with rt.sessions() as s, pytest.raises(InvitationNotFound):
            record_answer(s, token, 9, None, utcnow(), key=key)

    def test_a_new_invitation_under_an_old_id_does_not_open(
        self, rt: Runtime, book: SurveyBook, key: bytes
    ) -> None:
        send(rt, book, key, contact_ids=[book["C-EN"]])
        token = token_of(link_of(rt, book["C-EN"]))
        with transaction(rt.sessions) as s:
            invitation_of(s, book["C-EN"]).nonce = "f" * 32  # as if re-created under its id
        with rt.sessions() as s, pytest.raises(InvitationNotFound):
            record_answer(s, token, 9, None, utcnow(), key=key)


class TestReminders:
    def test_go_once_after_the_delay_and_not_to_respondents(
        self, rt: Runtime, book: SurveyBook, key: bytes
    ) -> None:
        start = utcnow()
        send(rt, book, key, now=start)
        with transaction(rt.sessions) as s:  # the English contact answers
            token = token_of(link_of(rt, book["C-EN"]))
            record_answer(s, token, 8, None, start + dt.timedelta(days=1), key=key)
        with transaction(rt.sessions) as s:
            assert send_reminders(s, CONFIG, start + dt.timedelta(days=2), key=key) == 0
            assert send_reminders(s, CONFIG, start + dt.timedelta(days=3), key=key) == 1
        with transaction(rt.sessions) as s:
            assert send_reminders(s, CONFIG, start + dt.timedelta(days=7), key=key) == 0
            messages = outbox(s)
            assert len(messages) == 3
            reminder = messages[-1]
            invitation = invitation_of(s, book["C-ZH"])
            assert reminder.contact_id == book["C-ZH"]
            assert reminder.idempotency_key == f"survey:{invitation.id}:reminder:1"
            assert reminder.template_key == "nps_reminder"
            assert reminder.links == messages[1].links  # the same link
            assert reminder.channel == "wecom"
            assert invitation.reminders_sent == 1

    def test_up_to_the_maximum_and_never_after_expiry(
        self, rt: Runtime, book: SurveyBook, key: bytes
    ) -> None:
        config = CONFIG.model_copy(
            update={"survey_max_reminders": 2, "max_messages_per_contact": 0}
        )
        start = utcnow()
        send(rt, book, key, config=config, now=start, contact_ids=[book["C-EN"]])
        days = [3, 5, 6, 9, 20]
        sent = []
        for day in days:
            with transaction(rt.sessions) as s:
                sent.append(send_reminders(s, config, start + dt.timedelta(days=day), key=key))
        assert sent == [1, 0, 1, 0, 0]
        with rt.sessions() as s:
            keys = [m.idempotency_key for m in outbox(s)]
            assert keys[1:] == [f"{keys[0]}:reminder:1", f"{keys[0]}:reminder:2"]

        send(rt, book, key, config=config, now=start, contact_ids=[book["C-ZH"]])
        with transaction(rt.sessions) as s:
            after_expiry = start + dt.timedelta(days=config.survey_valid_days, seconds=1)
            assert send_reminders(s, config, after_expiry, key=key) == 0

    def test_not_to_a_contact_who_opted_out_since(
        self, rt: Runtime, book: SurveyBook, key: bytes
    ) -> None:
        start = utcnow()
        send(rt, book, key, now=start, contact_ids=[book["C-EN"]])
        with transaction(rt.sessions) as s:
            s.get_one(Contact, book["C-EN"]).opted_out_all = True
        with transaction(rt.sessions) as s:
            assert send_reminders(s, CONFIG, start + dt.timedelta(days=4), key=key) == 0


class TestStats:
    def test_counts_and_nps(self, rt: Runtime, book: SurveyBook, key: bytes) -> None:
        start = utcnow()
        with rt.sessions() as s:
            empty = survey_stats(s, book["ACME"])
            assert (empty.sent, empty.response_rate, empty.nps) == (0, None, None)
        send(rt, book, key, now=start)
        with transaction(rt.sessions) as s:
            record_answer(s, token_of(link_of(rt, book["C-EN"])), 10, None, start, key=key)
        with rt.sessions() as s:
            stats = survey_stats(s, book["ACME"], now=start)
            assert (stats.sent, stats.responded, stats.pending, stats.expired) == (2, 1, 1, 0)
            assert stats.response_rate == 0.5
            assert (stats.promoters, stats.passives, stats.detractors) == (1, 0, 0)
            assert stats.nps == 100.0
            after = survey_stats(s, book["ACME"], now=start + dt.timedelta(days=15))
            assert (after.pending, after.expired) == (0, 1)
            assert survey_stats(s, book["OTHER"]).sent == 0
            assert survey_stats(s).sent == 2

            page = list_invitations(s, status="responded")
            assert [i.contact_external_id for i in page.items] == ["C-EN"]
            assert page.items[0].score == 10
            pending = list_invitations(s, account_id=book["ACME"], status="pending")
            assert [i.contact_external_id for i in pending.items] == ["C-ZH"]

    def test_nps_mixes_promoters_passives_and_detractors(
        self, rt: Runtime, book: SurveyBook, key: bytes
    ) -> None:
        start = utcnow()
        with transaction(rt.sessions) as s:
            for n in range(4):
                s.add(
                    Contact(
                        external_id=f"X-{n}", account_id=book["ACME"], name=f"X {n}",
                        email=f"x{n}@acme.example",
                    )
                )  # fmt: skip
        invited = send(rt, book, key, now=start)
        scores = [9, 10, 7, 6, 0, 8]
        assert len(invited) == len(scores)
        with transaction(rt.sessions) as s:
            for invitation, score in zip(invited, scores, strict=True):
                assert invitation.contact_id is not None
                record_answer(
                    s, token_of(link_of(rt, invitation.contact_id)), score, None, start, key=key
                )
        with rt.sessions() as s:
            stats = survey_stats(s, book["ACME"])
            assert (stats.promoters, stats.passives, stats.detractors) == (2, 2, 2)
            assert stats.nps == 0.0


def test_two_first_answers_at_once_keep_one_response(pg_runtime: Runtime) -> None:
    """A double submit: the second answer's insert waits for the first to commit, fails on
    the external id inside its savepoint, and updates the first one's row instead."""
    import threading

    book = build_survey_book(pg_runtime)
    key = load_key(pg_runtime.settings.home)
    send(pg_runtime, book, key)
    token = token_of(link_of(pg_runtime, book["C-EN"]))
    now = utcnow()
    first = pg_runtime.sessions()
    record_answer(first, token, 9, "first", now, key=key)  # flushed, not committed
    results: list[Any] = []

    def second() -> None:
        with transaction(pg_runtime.sessions) as s:
            results.append(record_answer(s, token, 4, "second", now, key=key))

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive()  # waiting on the first answer's uncommitted row
    first.commit()
    first.close()
    thread.join(10)
    assert results and results[0].updated
    with pg_runtime.sessions() as s:
        rows = s.scalars(select(NpsResponse)).all()
        assert [(r.score, r.comment) for r in rows] == [(4, "second")]
