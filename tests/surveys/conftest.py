"""A small book for the survey tests: one account with contacts of every kind, endpoints."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.accounts.models import Account, Contact, User
from tenure.channels.models import ChannelEndpoint
from tenure.channels.secrets import load_key
from tenure.content.install import install_shipped
from tenure.db import transaction
from tenure.engagement.models import OutboxMessage
from tenure.kit.runtime import Runtime
from tenure.surveys.models import SurveyInvitation

# 10:00 in Shanghai (the default time zone), outside the quiet hours.
DAYTIME = dt.datetime(2030, 6, 3, 2, 0)


@dataclass
class SurveyBook:
    """Database ids by key: accounts, contacts, users."""

    ids: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, key: str) -> int:
        return self.ids[key]


def ship_templates(session: Session) -> None:
    """Install the shipped message templates (`nps_survey`, `nps_reminder`, …)."""
    install_shipped(session)


def build_survey_book(runtime: Runtime) -> SurveyBook:
    """ACME (owned by Alice) with five contacts, OTHER with one; an e-mail endpoint for the
    team and a WeCom group robot for ACME."""
    book = SurveyBook()
    with transaction(runtime.sessions) as s:
        alice = User(external_id="u-alice", email="alice@example.com", name="Alice", role="csm")
        s.add(alice)
        s.flush()
        acme = Account(external_id="ACME", name="Acme Manufacturing", owner_id=alice.id)
        other = Account(external_id="OTHER", name="Other Co")
        s.add_all([acme, other])
        s.flush()
        contacts = {
            "C-EN": Contact(
                external_id="C-EN", account_id=acme.id, name="Emma Stone",
                email="emma@acme.example", locale="en",
            ),
            "C-ZH": Contact(
                external_id="C-ZH", account_id=acme.id, name="王芳", email="wang@acme.example",
                phone="13800000000", locale="zh-CN", channel_preference="wecom",
            ),
            "C-OUT": Contact(
                external_id="C-OUT", account_id=acme.id, name="Out Going",
                email="out@acme.example", opted_out_all=True,
            ),
            "C-NOMAIL": Contact(external_id="C-NOMAIL", account_id=acme.id, name="No Mail"),
            "C-NOEMAIL-OK": Contact(
                external_id="C-NOEMAIL-OK", account_id=acme.id, name="Mail Refuser",
                email="refuser@acme.example", opt_out_channels=["email"],
            ),
            "C-OTHER": Contact(
                external_id="C-OTHER", account_id=other.id, name="Oscar",
                email="oscar@other.example",
            ),
        }  # fmt: skip
        s.add_all(contacts.values())
        s.add_all(
            [
                ChannelEndpoint(name="team-smtp", kind="email", settings={}, is_default=True),
                ChannelEndpoint(name="acme-wecom", kind="wecom", account_id=acme.id, settings={}),
            ]
        )
        s.flush()
        ship_templates(s)
        book.ids.update({"alice": alice.id, "ACME": acme.id, "OTHER": other.id})
        book.ids.update({key: c.id for key, c in contacts.items()})
    return book


@pytest.fixture
def survey_book(runtime: Runtime) -> SurveyBook:
    return build_survey_book(runtime)


@pytest.fixture
def server_key(runtime: Runtime) -> bytes:
    return load_key(runtime.settings.home)


def outbox(session: Session) -> list[OutboxMessage]:
    """Every queued message, oldest first."""
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def token_of(link: str) -> str:
    """The token at the end of a survey link."""
    assert "/s/" in link, link
    return link.rsplit("/s/", 1)[1]


def invitation_of(session: Session, contact_id: int) -> SurveyInvitation:
    """The contact's (latest) invitation."""
    found = session.scalars(
        select(SurveyInvitation)
        .where(SurveyInvitation.contact_id == contact_id)
        .order_by(SurveyInvitation.id.desc())
    ).first()
    assert found is not None
    return found
