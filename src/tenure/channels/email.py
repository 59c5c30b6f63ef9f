"""E-mail over SMTP: `multipart/alternative` text + HTML, one-click unsubscribe headers.

The `Message-ID` is built from the idempotency key (`<key@sender-domain>`), so every
attempt of one message carries the same id and a receiving system can drop a repeat.
When the message has an unsubscribe URL, `List-Unsubscribe: <url>` and
`List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058) are added.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from tenure.channels.base import Delivery, DeliveryError, Message, PluginSettings
from tenure.channels.text import markdown_to_html

ADDRESS = r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$"
# Characters a Message-ID's left part may hold as they are (RFC 5322 atext and dots).
MSGID_SAFE = re.compile(r"[A-Za-z0-9!#$&'*+\-/=?^_`{|}~.]")


class EmailSettings(PluginSettings):
    """The SMTP relay and the sender."""

    host: str = Field(min_length=1, max_length=255, description="SMTP server host name")
    port: int = Field(587, ge=1, le=65535, description="SMTP port: 587 STARTTLS, 465 SSL, 25")
    security: Literal["none", "starttls", "ssl"] = Field(
        "starttls", description="none, starttls (upgrade after connecting) or ssl (TLS at once)"
    )
    sender_address: str = Field(
        pattern=ADDRESS, max_length=255, description="From address, e.g. cs@example.com"
    )
    sender_name: str | None = Field(None, max_length=200, description="From display name")
    timeout: float = Field(30.0, gt=0, le=300, description="seconds to wait for the server")
    ca_file: str | None = Field(
        None,
        max_length=1000,
        description="PEM file of the CA to trust for a relay with a private certificate",
    )


class EmailSecrets(PluginSettings):
    """The SMTP login, when the relay asks for one."""

    username: str | None = Field(None, max_length=255, description="SMTP login user name")
    password: str | None = Field(None, max_length=1000, description="SMTP login password")

    @model_validator(mode="after")
    def _both_or_neither(self) -> EmailSecrets:
        if (self.username is None) != (self.password is None):
            raise ValueError("give both username and password, or neither")
        return self


def message_id(idempotency_key: str, sender_address: str) -> str:
    """`<key@sender-domain>`, characters a Message-ID may not hold percent-encoded."""
    local = "".join(
        ch if MSGID_SAFE.fullmatch(ch) else "".join(f"%{b:02X}" for b in ch.encode())
        for ch in idempotency_key
    )
    local = re.sub(r"\.{2,}", lambda m: "%2E" * len(m.group()), local.strip("."))
    domain = sender_address.rpartition("@")[2]
    return f"<{local or 'message'}@{domain}>"


def html_document(body: str, locale: str | None) -> str:
    """A minimal HTML document around a rendered body."""
    lang = (
        f' lang="{locale}"'
        if locale and re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]+)*", locale)
        else ""
    )
    return (
        f'<!doctype html>\n<html{lang}><head><meta charset="utf-8"></head>\n'
        f"<body>\n{body}</body></html>\n"
    )


def build_email(message: Message, settings: EmailSettings) -> EmailMessage:
    """The MIME message: text and HTML alternatives, sender, recipient and headers."""
    recipient = message.recipient
    if not recipient.email:
        raise DeliveryError("the recipient has no e-mail address", transient=False)
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = Address(
        display_name=settings.sender_name or "", addr_spec=settings.sender_address
    )
    try:
        mail["To"] = Address(display_name=recipient.name or "", addr_spec=recipient.email)
    except (ValueError, IndexError) as exc:
        raise DeliveryError(
            f"invalid e-mail address {recipient.email!r}: {exc}", transient=False
        ) from exc
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = message_id(message.idempotency_key, settings.sender_address)
    if message.locale:
        mail["Content-Language"] = message.locale
    if message.unsubscribe_url:
        mail["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(message.text, charset="utf-8")
    html = message.html or html_document(markdown_to_html(message.text), message.locale)
    mail.add_alternative(html, subtype="html", charset="utf-8")
    return mail


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def _smtp_error(exc: smtplib.SMTPException) -> DeliveryError:
    """SMTP replies 4xx are temporary, 5xx permanent (RFC 5321 §4.2.1)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(
            f"{rcpt}: {code} {_text(reply)}" for rcpt, (code, reply) in exc.recipients.items()
        )
        transient = bool(codes) and all(400 <= code < 500 for code in codes)
        return DeliveryError(f"recipient refused: {detail}", transient=transient)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        reply = _text(exc.smtp_error)
        return DeliveryError(f"SMTP login refused: {exc.smtp_code} {reply}", transient=False)
    if isinstance(exc, smtplib.SMTPResponseException):
        transient = 400 <= exc.smtp_code < 500
        reply = _text(exc.smtp_error)
        return DeliveryError(f"SMTP error {exc.smtp_code}: {reply}", transient=transient)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return DeliveryError(f"SMTP server disconnected: {exc}", transient=True)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return DeliveryError(f"SMTP server does not support it: {exc}", transient=False)
    return DeliveryError(f"SMTP error: {exc}", transient=False)


class EmailChannel:
    """Send an e-mail through an SMTP relay."""

    kind: ClassVar[str] = "email"
    label: ClassVar[str] = "E-mail (SMTP)"
    Settings: ClassVar[type[PluginSettings]] = EmailSettings
    Secrets: ClassVar[type[PluginSettings]] = EmailSecrets

    def send(self, message: Message, settings: Any, secrets: Any) -> Delivery:
        """Send the message to `message.recipient.email`.

        Args:
            message: the rendered message; `text` becomes the text part, `html` (or the
                text rendered as Markdown) the HTML part.
            settings: an `EmailSettings`.
            secrets: an `EmailSecrets` (login used when a username is set).

        Returns:
            The delivery, with the Message-ID as the provider message id.

        Raises:
            DeliveryError: transient for 4xx replies, disconnects, timeouts and network
                errors; permanent for 5xx replies, a refused login, TLS failures and a
                recipient without a valid address.
        """
        mail = build_email(message, settings)
        try:
            context = ssl.create_default_context(cafile=settings.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise DeliveryError(f"cannot read ca_file: {exc}", transient=False) from exc
        smtp: smtplib.SMTP
        try:
            if settings.security == "ssl":
                smtp = smtplib.SMTP_SSL(
                    settings.host, settings.port, timeout=settings.timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
            with smtp:
                if settings.security == "starttls":
                    smtp.starttls(context=context)
                if secrets.username is not None:
                    smtp.login(secrets.username, secrets.password)
                smtp.send_message(mail)
        except smtplib.SMTPException as exc:
            raise _smtp_error(exc) from exc
        except ssl.SSLError as exc:
            raise DeliveryError(f"TLS failed: {exc}", transient=False) from exc
        except TimeoutError as exc:
            raise DeliveryError(f"timed out after {settings.timeout:g}s", transient=True) from exc
        except OSError as exc:
            reason = f"cannot reach {settings.host}:{settings.port}: {exc}"
            raise DeliveryError(reason, transient=True) from exc
        return Delivery(
            provider_message_id=mail["Message-ID"],
            detail={"host": settings.host, "to": message.recipient.email},
        )
