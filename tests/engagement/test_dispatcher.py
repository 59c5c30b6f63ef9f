"""The dispatcher against a real local webhook receiver: delivery, back-off, dead letters,
the account timeline, claims and leases, retry and cancel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, update

from tenure.accounts.service import get_account
from tenure.auth.models import AuditEntry
from tenure.channels.models import ChannelEndpoint
from tenure.channels.secrets import seal
from tenure.db import transaction
from tenure.engagement.dispatcher import backoff_seconds, dispatch
from tenure.engagement.jobs import dispatch_job
from tenure.engagement.models import OutboxMessage
from tenure.engagement.outbox import utcnow
from tenure.engagement.outbox_admin import InvalidOutboxState, cancel, retry
from tenure.errors import ResourceNotFound
from tenure.feedback.models import Interaction
from tenure.jobs import Scheduler
from tenure.kit.runtime import Runtime

from .conftest_outbox import Receiver, add_account, add_webhook, message, queue, running_receiver

T0 = dt.datetime(2035, 3, 2, 9, 0, 0)  # after anything queued by the tests (due now)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as rx:
        yield rx


def set_engagement(runtime: Runtime, **values: float) -> None:
    """Change [engagement] settings in the home's tenure.toml."""
    path = runtime.settings.config_path
    text = path.read_text(encoding="utf-8")
    for key, value in values.items():
        lines = [line for line in text.splitlines() if line.startswith(f"{key} = ")]
        assert len(lines) == 1, key
        text = text.replace(lines[0], f"{key} = {value!r}")
    path.write_text(text, encoding="utf-8")


def seconds_after(at: dt.datetime | None, start: dt.datetime) -> float:
    assert at is not None
    return (at - start).total_seconds()


class TestDelivery:
    def test_a_sent_message_is_signed_recorded_and_on_the_account_timeline(
        self, runtime: Runtime, receiver: Receiver
    ) -> None:
        account_id, contact_id = add_account(runtime)
        endpoint_id = add_webhook(runtime, receiver.url)
        [mid] = queue(runtime, account_id=account_id, contact_id=contact_id)

        result = dispatch(runtime)

        assert (result.sent, result.failed, result.dead, result.skipped) == (1, 0, 0, 0)
        assert receiver.bad == []
        [hit] = receiver.hits
        assert hit.key == "m-0"
        assert hit.body["subject"] == "Subject 0" and hit.body["text"] == "Hello 0"
        assert hit.body["recipient"]["email"] == "ana@example.com"
        assert hit.body["metadata"]["outbox_id"] == mid
        sent = message(runtime, mid)
        assert sent.status == "sent" and sent.attempts == 1
        assert sent.provider_message_id == "rcv-1"
        assert sent.lease_until is None and sent.last_error is None
        assert sent.endpoint_id == endpoint_id and sent.sent_at is not None
        with runtime.sessions() as session:
            interaction = session.get(Interaction, sent.interaction_id)
            assert interaction is not None
            assert interaction.external_id == f"outbox:{mid}"
            assert interaction.account_id == account_id and interaction.contact_id == contact_id
            assert (interaction.channel, interaction.direction, interaction.type) == (
                "webhook",
                "outbound",
                "message",
            )
            assert interaction.occurred_at == sent.sent_at
            timeline = get_account(session, "A-1").recent_interactions
        assert [(i.summary, i.channel, i.contact_name) for i in timeline] == [
            ("Subject 0", "webhook", "Ana")
        ]

    def test_a_team_message_without_an_account_has_no_timeline_entry(
        self, runtime: Runtime, receiver: Receiver
    ) -> None:
        add_webhook(runtime, receiver.url)
        [mid] = queue(runtime)
        assert dispatch(runtime).sent == 1
        sent = message(runtime, mid)
        assert sent.status == "sent" and sent.interaction_id is None
        with runtime.sessions() as session:
            assert session.scalars(select(Interaction)).all() == []

    def test_messages_not_yet_due_or_finished_are_left_alone(
        self, runtime: Runtime, receiver: Receiver
    ) -> None:
        add_webhook(runtime, receiver.url)
        [later] = queue(runtime, prefix="later", not_before=T0 + dt.timedelta(hours=1))
        [done, gone] = queue(runtime, 2, prefix="old")
        with transaction(runtime.sessions) as session:
            session.execute(
                update(OutboxMessage).where(OutboxMessage.id == done).values(status="sent")
            )
            session.execute(
                update(OutboxMessage).where(OutboxMessage.id == gone).values(status="cancelled")
            )
        assert dispatch(runtime, now=T0).claimed == 0
        assert receiver.hits == []
        assert dispatch(runtime, now=T0 + dt.timedelta(hours=1)).sent == 1
        assert receiver.keys() == ["later-0"]
        assert message(runtime, later).status == "sent"

    def test_limit_bounds_one_run_and_the_oldest_due_go_first(
        self, runtime: Runtime, receiver: Receiver
    ) -> None:
        add_webhook(runtime, receiver.url)
        queue(runtime, 5)
        assert dispatch(runtime, limit=2).sent == 2
        assert dispatch(runtime, limit=10).sent == 3
        assert receiver.keys() == [f"m-{n}" for n in range(5)]


class TestBackoff:
    def test_transient_failures_back_off_exponentially_then_dead_letter(
        self, runtime: Runtime, receiver: Receiver
    ) -> None:
        set_engagement(runtime, max_attempts=3, retry_base_seconds=30.0, retry_max_seconds=45.0)
        add_webhook(runtime, receiver.url)
        [mid] = queue(runtime)
        receiver.answer_next(500, 429, 503)

        first = dispatch(runtime, now=T0)
        assert (first.failed, first.sent, first.dead) == (1, 0, 0)
        failed = message(runtime, mid)
        assert failed.status == "failed" and failed.attempts == 1
        assert failed.last_error is not None and failed.last_error.startswith("HTTP 500")
        assert 27 <= seconds_after(failed.next_attempt_at, T0) <= 33  # 30 s ± 10%

        before = failed.next_attempt_at - dt.timedelta(seconds=1)
        assert dispatch(runtime, now=before).claimed == 0  # not due yet

        second_at = failed.next_attempt_at
        assert dispatch(runtime, now=second_at).failed == 1
        failed = message(runtime, mid)
        assert failed.attempts == 2 and failed.last_error is not None
        assert failed.last_error.startswith("HTTP 429")
        assert 40.5 <= seconds_after(failed.next_attempt_at, second_at) <= 49.5  # 60 s capped at 45

        assert dispatch(runtime, now=failed.next_attempt_at).dead == 1
        dead = message(runtime, mid)
        assert dead.status == "dead" and dead.attempts == 3
        assert dead.last_error is not None
        assert dead.last_error.startswith("HTTP 503")
        assert dead.last_error.endswith("(gave up after 3 attempts)")
        assert dispatch(runtime, now=T0 + dt.timedelta(days=1)).claimed == 0
        assert receiver.keys() == ["m-0"] * 3 and receiver.processed == {}

    def test_a_retried_failure_is_delivered_with_the_same_key(
        self, runtime: Runtime, receiver: Receiver
    ) -> None:
        add_webhook(runtime, receiver.url)
        [mid] = queue(runtime)
        receiver.answer_next(502)
        assert dispatch(runtime, now=T0).failed == 1
        assert dispatch(runtime, now=T0 + dt.timedelta(minutes=1)).sent == 1
        sent = message(runtime, mid)
        assert sent.status == "sent" and sent.attempts == 2 and sent.last_error is None
        assert receiver.keys() == ["m-0", "m-0"] and list(receiver.processed) == ["m-0"]

    def test_a_permanent_refusal_is_dead_at_once(
        self, runtime: Runtime, receiver: Receiver
    ) -> None:
        add_webhook(runtime, receiver.url)
        [mid] = queue(runtime)
        receiver.answer_next(400)
        assert dispatch(runtime).dead == 1
        dead = message(runtime, mid)
        assert dead.status == "dead" and dead.attempts == 1
        assert dead.last_error is not None
        assert dead.last_error.startswith("refused for good: HTTP 400")

    def test_an_unreachable_receiver_is_a_transient_failure(self, runtime: Runtime) -> None:
        with running_receiver() as rx:
            url = rx.url  # the port is closed once the block ends
        add_webhook(runtime, url)
        [mid] = queue(runtime)
        assert dispatch(runtime).failed == 1
        failed = message(runtime, mid)
        assert failed.last_error is not None and failed.last_error.startswith("connection failed")

    @pytest.mark.parametrize(
        ("attempts", "expected"),
        [(1, 30.0), (2, 60.0), (3, 120.0), (8, 3600.0), (10_000, 3600.0)],
    )
    def test_the_delay_doubles_up_to_the_maximum(self, attempts: int, expected: float) -> None:
        assert backoff_seconds(attempts, 30.0, 3600.0) == expected
        assert backoff_seconds(attempts, 30.0, 3600.0, jitter=1.1) == pytest.approx(expected * 1.1)


class TestUndeliverable:
    def test_no_endpoint_for_the_channel_is_dead_naming_the_channel(self, runtime: Runtime) -> None:
        [mid] = queue(runtime, channel="dingtalk")
        assert dispatch(runtime).dead == 1
        dead = message(runtime, mid)
        assert dead.status == "dead"
        assert dead.last_error == (
            "no endpoint is configured for channel 'dingtalk'"
            " (add an enabled one, then retry the message)"
        )

    def test_an_endpoint_configured_after_queueing_is_used(
        self, runtime: Runtime, receiver: Receiver
    ) -> None:
        [mid] = queue(runtime)
        endpoint_id = add_webhook(runtime, receiver.url)
        assert message(runtime, mid).endpoint_id is None
        assert dispatch(runtime).sent == 1
        assert message(runtime, mid).endpoint_id == endpoint_id

    def test_a_disabled_endpoint_is_dead_and_nothing_is_sent(
        self, runtime: Runtime, receiver: Receiver
    ) -> None:
        endpoint_id = add_webhook(runtime, receiver.url)
        [mid] = queue(runtime)
        with transaction(runtime.sessions) as session:
            endpoint = session.get(ChannelEndpoint, endpoint_id)
            assert endpoint is not None
            endpoint.enabled = False
        assert dispatch(runtime).dead == 1
        assert message(runtime, mid).last_error == "channel endpoint 'hook' is disabled"
        assert receiver.hits == []

    def test_an_endpoint_of_another_kind_is_refused(
        self, runtime: Runtime, receiver: Receiver
    ) -> None:
        endpoint_id = add_webhook(runtime, receiver.url)
        [mid] = queue(runtime, channel="slack", endpoint_id=endpoint_id)
        assert dispatch(runtime).dead == 1
        assert message(runtime, mid).last_error == (
            f"channel endpoint 'hook' (id {endpoint_id}) is a 'webhook' endpoint;"
            " the message is for 'slack'"
        )
        assert receiver.hits == []

    def test_secrets_sealed_with_another_key_are_dead_with_the_reason(
        self, runtime: Runtime, receiver: Receiver
    ) -> None:
        other = seal(Fernet.generate_key(), {"signing_secret": "whsec-other-key-1234"})
        add_webhook(runtime, receiver.url, sealed=other)
        [mid] = queue(runtime)
        assert dispatch(runtime).dead == 1
        error = message(runtime, mid).last_error
        assert error is not None
        assert error == (
            "endpoint 'hook': stored channel secrets cannot be decrypted with this secret key"
            " (was TENURE_SECRET_KEY or secret.key changed?)"
        )
        assert receiver.hits == []

    def test_invalid_secrets_are_named_without_their_value(
        self, runtime: Runtime, receiver: Receiver
    ) -> None:
        endpoint_id = add_webhook(runtime, receiver.url, secret="short")
        [mid] = queue(runtime)
        assert dispatch(runtime).dead == 1
        error = message(runtime, mid).last_error
        assert error is not None
        assert error == (
            f"channel endpoint 'hook' (id {endpoint_id}) is misconfigured:"
            " secrets.signing_secret: String should have at least 8 characters"
        )
        assert "short" not in error


class TestClaims:
    def test_a_claim_whose_lease_expired_is_retaken_and_a_live_one_is_not(
        self, runtime: Runtime, receiver: Receiver
    ) -> None:
        add_webhook(runtime, receiver.url)
        [expired, live] = queue(runtime, 2)
        now = utcnow()
        # What a dispatcher that died while sending leaves behind.
        with transaction(runtime.sessions) as session:
            for mid, lease_until in (
                (expired, now - dt.timedelta(seconds=1)),
                (live, now + dt.timedelta(minutes=1)),
            ):
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == mid)
                    .values(status="sending", attempts=1, lease_until=lease_until)
                )
        assert dispatch(runtime).sent == 1
        assert receiver.keys() == ["m-0"]
        assert message(runtime, expired).attempts == 2
        assert message(runtime, live).status == "sending"

    def test_a_message_whose_last_attempts_never_finished_is_not_retaken_forever(
        self, runtime: Runtime, receiver: Receiver
    ) -> None:
        set_engagement(runtime, max_attempts=2)
        add_webhook(runtime, receiver.url)
        [mid] = queue(runtime)
        with transaction(runtime.sessions) as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == mid)
                .values(
                    status="sending", attempts=2, lease_until=utcnow() - dt.timedelta(seconds=1)
                )
            )
        assert dispatch(runtime).dead == 1
        dead = message(runtime, mid)
        assert dead.last_error == (
            "gave up after 2 attempts, the last of which never finished"
            " (a dispatcher stopped while sending it)"
        )
        assert receiver.hits == []


class TestRetryAndCancel:
    def test_retry_queues_a_dead_message_now_with_attempts_reset(
        self, runtime: Runtime, receiver: Receiver
    ) -> None:
        add_webhook(runtime, receiver.url)
        [mid] = queue(runtime)
        receiver.answer_next(400)
        assert dispatch(runtime).dead == 1
        with transaction(runtime.sessions) as session:
            again = retry(session, mid, actor="tester")
        assert (again.status, again.attempts) == ("queued", 0)
        assert abs((again.next_attempt_at - utcnow()).total_seconds()) < 5
        assert dispatch(runtime).sent == 1
        assert message(runtime, mid).attempts == 1
        with runtime.sessions() as session:
            entry = session.scalars(
                select(AuditEntry).where(AuditEntry.entity == "outbox_message")
            ).one()
        assert (entry.actor, entry.action, entry.entity_id) == ("tester", "retry", str(mid))
        assert entry.before == {"status": "dead"}

    @pytest.mark.parametrize("status", ["queued", "sending", "sent", "cancelled"])
    def test_only_dead_or_failed_messages_can_be_retried(
        self, runtime: Runtime, status: str
    ) -> None:
        [mid] = queue(runtime)
        with transaction(runtime.sessions) as session:
            session.execute(
                update(OutboxMessage).where(OutboxMessage.id == mid).values(status=status)
            )
        with runtime.sessions() as session, pytest.raises(InvalidOutboxState) as caught:
            retry(session, mid)
        assert caught.value.message == (
            f"outbox message {mid} is {status}; only dead or failed messages can be retried"
        )
        assert caught.value.status_code == 409

    @pytest.mark.parametrize("status", ["queued", "failed"])
    def test_cancel_stops_a_queued_or_failed_message(
        self, runtime: Runtime, receiver: Receiver, status: str
    ) -> None:
        add_webhook(runtime, receiver.url)
        [mid] = queue(runtime)
        with transaction(runtime.sessions) as session:
            session.execute(
                update(OutboxMessage).where(OutboxMessage.id == mid).values(status=status)
            )
        with transaction(runtime.sessions) as session:
            assert cancel(session, mid).status == "cancelled"
        assert dispatch(runtime, now=T0 + dt.timedelta(days=365)).claimed == 0
        assert receiver.hits == []

    @pytest.mark.parametrize("status", ["sending", "sent", "dead", "cancelled"])
    def test_other_messages_cannot_be_cancelled(self, runtime: Runtime, status: str) -> None:
        [mid] = queue(runtime)
        with transaction(runtime.sessions) as session:
            session.execute(
                update(OutboxMessage).where(OutboxMessage.id == mid).values(status=status)
            )
        with (
            runtime.sessions() as session,
            pytest.raises(InvalidOutboxState, match=f"is {status}; only queued or failed"),
        ):
            cancel(session, mid)

    def test_an_unknown_message_is_not_found(self, runtime: Runtime) -> None:
        with runtime.sessions() as session:
            with pytest.raises(ResourceNotFound, match="no outbox message has id 999"):
                retry(session, 999)
            with pytest.raises(ResourceNotFound, match="no outbox message has id 999"):
                cancel(session, 999)


def test_the_dispatch_job_delivers_on_the_scheduler(runtime: Runtime, receiver: Receiver) -> None:
    add_webhook(runtime, receiver.url)
    queue(runtime, 2)
    job = dispatch_job(every=5.0)
    assert (job.name, job.every) == ("dispatch", 5.0)
    scheduler = Scheduler(runtime, [job])
    assert scheduler.run_due(now=0.0) == ["dispatch"]
    assert job.last_error is None
    assert receiver.keys() == ["m-0", "m-1"]
    assert scheduler.run_due(now=1.0) == []  # not due again for 5 s
