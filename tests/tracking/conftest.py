"""An app serving the tracking API, a write key, accounts, and readers for what got stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tenure.accounts.models import Account, Contact, User
from tenure.app import create_app
from tenure.auth.models import ApiToken
from tenure.db import transaction
from tenure.events.store import EventStore
from tenure.kit.runtime import Runtime
from tenure.tracking.api import TrackingSettings, install_tracking
from tenure.tracking.models import InboxMessage

WRITE_KEY = "tnr_test-write-key"
AUTH = (WRITE_KEY, "")


def add_token(
    runtime: Runtime,
    plain: str,
    scopes: tuple[str, ...] = ("events:write",),
    *,
    revoked: bool = False,
    expires_at: dt.datetime | None = None,
) -> None:
    """Store an API token the way tenure.auth does (SHA-256 of the plain token), once."""
    digest = hashlib.sha256(plain.encode()).hexdigest()
    with transaction(runtime.sessions) as session:
        if session.scalar(select(ApiToken.id).where(ApiToken.token_hash == digest)):
            return
        owner = session.scalar(select(User).where(User.external_id == "owner"))
        if owner is None:
            owner = User(external_id="owner", email="owner@example.com", name="Owner")
            session.add(owner)
            session.flush()
        session.add(
            ApiToken(
                user_id=owner.id,
                name=plain,
                prefix=plain[:8],
                token_hash=digest,
                scopes=list(scopes),
                revoked_at=dt.datetime(2020, 1, 1) if revoked else None,
                expires_at=expires_at,
            )
        )


def add_accounts(runtime: Runtime, *external_ids: str) -> None:
    with transaction(runtime.sessions) as session:
        for ext in external_ids:
            session.add(Account(external_id=ext, name=f"Account {ext}", attributes={}))


def add_contact(runtime: Runtime, external_id: str, account: str, **fields: Any) -> None:
    with transaction(runtime.sessions) as session:
        owner = session.scalar(select(Account).where(Account.external_id == account))
        assert owner is not None
        values = {"name": external_id, **fields}
        session.add(Contact(external_id=external_id, account_id=owner.id, **values))


def inbox(runtime: Runtime) -> list[dict[str, Any]]:
    """The inbox's calls, oldest first."""
    with runtime.sessions() as session:
        rows = session.scalars(select(InboxMessage).order_by(InboxMessage.id))
        return [json.loads(row.payload) for row in rows]


def stored_events(runtime: Runtime) -> list[dict[str, Any]]:
    rows = EventStore(runtime.settings.events_path).dataset().to_table().to_pylist()
    return sorted(rows, key=lambda r: r["message_id"])


def contact_of(runtime: Runtime, external_id: str) -> tuple[Contact, str] | None:
    """The contact and its account's external id."""
    with runtime.sessions() as session:
        row = session.execute(
            select(Contact, Account.external_id)
            .join(Account, Account.id == Contact.account_id)
            .where(Contact.external_id == external_id)
        ).first()
        return None if row is None else (row[0], row[1])


def account_of(runtime: Runtime, external_id: str) -> Account | None:
    with runtime.sessions() as session:
        return session.scalar(select(Account).where(Account.external_id == external_id))


def track(message_id: str, event: str = "login", **extra: Any) -> dict[str, Any]:
    call: dict[str, Any] = {
        "type": "track",
        "messageId": message_id,
        "userId": "u1",
        "event": event,
    }
    call.setdefault("context", {"groupId": "acme"})
    call.update(extra)
    return call


MakeClient = Callable[..., TestClient]


@pytest.fixture
def make_client() -> Iterator[MakeClient]:
    """`make_client(runtime, **settings)`: a client of an app with the tracking API."""
    opened: list[TestClient] = []

    def make(runtime: Runtime, **settings: Any) -> TestClient:
        add_token(runtime, WRITE_KEY)
        app = create_app(runtime)
        install_tracking(app, TrackingSettings(**settings))
        client = TestClient(app)
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client(runtime: Runtime, make_client: MakeClient) -> TestClient:
    return make_client(runtime)
