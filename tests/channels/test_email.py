"""E-mail through a real SMTP server (aiosmtpd on 127.0.0.1): plain, STARTTLS, SSL, login."""

from __future__ import annotations

import email
import email.policy
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tenure.channels.base import DeliveryError, Message, Recipient
from tenure.channels.email import EmailChannel, EmailSecrets, EmailSettings

from .conftest import Certificate, free_port

SUBJECT = "续约提醒：您的合同将于 30 天后到期"
MESSAGE = Message(
    idempotency_key="playbook:renewal:7:2",
    subject=SUBJECT,
    text="您好 **王经理**，\n\n请查看[续约方案](https://example.com/plan)。",
    recipient=Recipient(name="王经理", email="wang@example.cn"),
    locale="zh-CN",
    unsubscribe_url="https://cs.example.com/u/abc.def",
)
NO_LOGIN = EmailSecrets()


@dataclass
class Mailbox:
    """What the SMTP server received, and how it should answer."""

    messages: list[tuple[list[str], bytes]] = field(default_factory=list)
    data_reply: str = "250 Message accepted for delivery"
    rcpt_reply: str | None = None  # e.g. "550 5.1.1 no such user"

    async def handle_RCPT(  # aiosmtpd's hook names
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply.startswith("250"):
            self.messages.append((list(envelope.rcpt_tos), bytes(envelope.original_content)))
        return self.data_reply

    def parsed(self) -> EmailMessage:
        (_, raw), *_ = self.messages
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


def authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"relay-user",
        b"relay-pass",
    )
    return AuthResult(success=ok, handled=False)


def start(mailbox: Mailbox, **kwargs: Any) -> Iterator[int]:
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture
def plain_port(mailbox: Mailbox) -> Iterator[int]:
    """A plain SMTP server that also accepts a login without TLS (a relay on localhost)."""
    yield from start(mailbox, authenticator=authenticator, auth_require_tls=False)


def settings(port: int, **extra: Any) -> EmailSettings:
    return EmailSettings(
        host="127.0.0.1", port=port, security="none", sender_address="cs@tenure.example",
        sender_name="Tenure 客户成功", timeout=5, **extra,
    )  # fmt: skip


def test_sends_text_and_html_with_unsubscribe_headers(mailbox: Mailbox, plain_port: int) -> None:
    delivery = EmailChannel().send(MESSAGE, settings(plain_port), NO_LOGIN)

    ((recipients, raw),) = mailbox.messages
    assert recipients == ["wang@example.cn"]
    mail = mailbox.parsed()
    assert mail["Subject"] == SUBJECT
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n", 1)[0].lower()  # RFC 2047-encoded header
    assert mail["To"].addresses[0].display_name == "王经理"
    assert mail["From"].addresses[0].addr_spec == "cs@tenure.example"
    assert mail["From"].addresses[0].display_name == "Tenure 客户成功"
    assert mail["Message-ID"] == "<playbook%3Arenewal%3A7%3A2@tenure.example>"
    assert delivery.provider_message_id == mail["Message-ID"]
    assert mail["List-Unsubscribe"] == "<https://cs.example.com/u/abc.def>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.get_content_type() == "multipart/alternative"
    text_part = mail.get_body(preferencelist=("plain",))
    html_part = mail.get_body(preferencelist=("html",))
    assert text_part is not None and html_part is not None
    assert text_part.get_content_charset() == "utf-8"
    assert text_part.get_content().replace("\r\n", "\n").rstrip("\n") == MESSAGE.text
    html = html_part.get_content()
    assert "<strong>王经理</strong>" in html
    assert '<a href="https://example.com/plan">续约方案</a>' in html
    assert '<html lang="zh-CN">' in html


def test_given_html_is_used_as_it_is_and_no_unsubscribe_without_a_url(
    mailbox: Mailbox, plain_port: int
) -> None:
    message = Message(
        idempotency_key="k1", subject="Hi", text="Plain", html="<p>Own <i>HTML</i></p>",
        recipient=Recipient(email="a@example.com"),
    )  # fmt: skip
    EmailChannel().send(message, settings(plain_port), NO_LOGIN)
    mail = mailbox.parsed()
    html_part = mail.get_body(preferencelist=("html",))
    assert html_part is not None
    assert html_part.get_content().strip() == "<p>Own <i>HTML</i></p>"
    assert mail["List-Unsubscribe"] is None and mail["List-Unsubscribe-Post"] is None


def test_raw_html_in_the_text_is_escaped_in_the_generated_part(
    mailbox: Mailbox, plain_port: int
) -> None:
    message = Message(
        idempotency_key="k2", subject="Hi", text="Quote: <script>alert(1)</script>",
        recipient=Recipient(email="a@example.com"),
    )  # fmt: skip
    EmailChannel().send(message, settings(plain_port), NO_LOGIN)
    html_part = mailbox.parsed().get_body(preferencelist=("html",))
    assert html_part is not None
    assert "<script>" not in html_part.get_content()
    assert "&lt;script&gt;" in html_part.get_content()


def test_logs_in_when_a_username_is_set(mailbox: Mailbox, plain_port: int) -> None:
    good = EmailSecrets(username="relay-user", password="relay-pass")
    EmailChannel().send(MESSAGE, settings(plain_port), good)
    assert len(mailbox.messages) == 1
    with pytest.raises(DeliveryError) as caught:
        EmailChannel().send(
            MESSAGE, settings(plain_port), EmailSecrets(username="relay-user", password="wrong")
        )
    assert caught.value.transient is False
    assert caught.value.reason.startswith("SMTP login refused: 535")
    assert len(mailbox.messages) == 1


def test_replies_4xx_are_transient_and_5xx_permanent(mailbox: Mailbox, plain_port: int) -> None:
    mailbox.data_reply = "451 4.3.0 try again later"
    with pytest.raises(DeliveryError) as later:
        EmailChannel().send(MESSAGE, settings(plain_port), NO_LOGIN)
    assert later.value.transient is True
    assert "451" in later.value.reason

    mailbox.data_reply, mailbox.rcpt_reply = "250 OK", "550 5.1.1 no such user"
    with pytest.raises(DeliveryError) as never:
        EmailChannel().send(MESSAGE, settings(plain_port), NO_LOGIN)
    assert never.value.transient is False
    assert "wang@example.cn: 550" in never.value.reason
    assert mailbox.messages == []


def test_no_address_and_no_server_are_told_apart() -> None:
    with pytest.raises(DeliveryError) as no_address:
        EmailChannel().send(
            Message(idempotency_key="k", subject="s", text="t"), settings(free_port()), NO_LOGIN
        )
    assert no_address.value.transient is False
    assert no_address.value.reason == "the recipient has no e-mail address"
    with pytest.raises(DeliveryError) as no_server:
        EmailChannel().send(MESSAGE, settings(free_port()), NO_LOGIN)
    assert no_server.value.transient is True
    assert no_server.value.reason.startswith("cannot reach 127.0.0.1:")


def server_context(certificate: Certificate) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate.cert_file, certificate.key_file)
    return context


def test_starttls_with_a_trusted_private_ca(
    mailbox: Mailbox, localhost_certificate: Certificate
) -> None:
    for port in start(
        mailbox, tls_context=server_context(localhost_certificate), require_starttls=True,
        authenticator=authenticator,
    ):  # fmt: skip
        trusted = settings(port, ca_file=str(localhost_certificate.cert_file))
        trusted = trusted.model_copy(update={"security": "starttls"})
        login = EmailSecrets(username="relay-user", password="relay-pass")
        EmailChannel().send(MESSAGE, trusted, login)
        assert len(mailbox.messages) == 1
        # Without the private CA the certificate is not trusted: refused, permanently.
        untrusted = trusted.model_copy(update={"ca_file": None})
        with pytest.raises(DeliveryError) as caught:
            EmailChannel().send(MESSAGE, untrusted, login)
        assert caught.value.transient is False
        assert caught.value.reason.startswith("TLS failed")
        # Plain text to a server that requires STARTTLS is refused too.
        with pytest.raises(DeliveryError) as plain:
            EmailChannel().send(MESSAGE, settings(port), NO_LOGIN)
        assert plain.value.transient is False
        assert "530" in plain.value.reason
    assert len(mailbox.messages) == 1


def test_implicit_tls(mailbox: Mailbox, localhost_certificate: Certificate) -> None:
    for port in start(mailbox, ssl_context=server_context(localhost_certificate)):
        tls = settings(port, ca_file=str(localhost_certificate.cert_file))
        EmailChannel().send(MESSAGE, tls.model_copy(update={"security": "ssl"}), NO_LOGIN)
    assert mailbox.parsed()["Subject"] == SUBJECT


def test_secrets_need_both_username_and_password() -> None:
    with pytest.raises(ValueError, match="both username and password"):
        EmailSecrets(username="only-me")
