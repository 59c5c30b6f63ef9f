"""The REST API on a small book: users of every role with tokens, two accounts and their records.

Building the book (migrations, argon2 hashes) once and copying its SQLite file per test keeps
the permission matrix fast; `seed` builds the same book on any runtime (PostgreSQL too).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from starlette.routing import NoMatchFound

from tenure.accounts.models import Account, Contact
from tenure.api import api_router
from tenure.app import create_app
from tenure.auth import service
from tenure.auth.api import router as auth_router
from tenure.channels.models import ChannelEndpoint
from tenure.channels.secrets import load_key, seal
from tenure.commerce.models import Order, Subscription
from tenure.content.models import MessageTemplate, TalkTrack
from tenure.db import transaction
from tenure.engagement.models import OutboxMessage, Playbook, PlaybookRun, Task
from tenure.feedback.models import Interaction, NpsResponse, Ticket
from tenure.kit.runtime import Runtime, open_runtime
from tenure.risk.models import Alert
from tenure.scoring.models import ScoreSnapshot

PASSWORD = "correct horse battery"
# Principals of the permission matrix: csm owns A-1, csm2 owns A-2.
ROLES = ("admin", "manager", "csm", "csm2", "viewer")
PRINCIPALS = ("admin", "manager", "csm-owner", "csm-other", "viewer", "anonymous")
AS_OF = (dt.date(2024, 5, 31), dt.date(2024, 6, 30))


@dataclass
class Book:
    """Plain tokens by role and database ids by label."""

    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int | str] = field(default_factory=dict)

    def headers(self, principal: str) -> dict[str, str]:
        """Authorization for a matrix principal ("csm-owner", "anonymous", ...)."""
        role = {"csm-owner": "csm", "csm-other": "csm2"}.get(principal, principal)
        if role == "anonymous":
            return {}
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def _snapshot(account_id: int, as_of: dt.date, health: float, quadrant: str) -> ScoreSnapshot:
    return ScoreSnapshot(
        account_id=account_id, as_of=as_of, current_value=60.0, potential_value=40.0,
        value_score=52.0, quadrant=quadrant, rfm_recency=3, rfm_frequency=4, rfm_monetary=5,
        rfm_code="345", lifecycle_stage="mature", health_score=health, health_change=None,
        health_breakdown={"core_usage": {"value": 0.5, "score": 57.1, "weight": 1, "points": 57.1}},
        value_breakdown={"current": {"revenue_12m": 60.0}}, features={"core_usage": 0.5},
    )  # fmt: skip


def _alert(account_id: int, rule: str, status: str, **extra: Any) -> Alert:
    return Alert(
        account_id=account_id, rule_id=rule, rule_name=rule.replace("_", " "),
        category="behaviour", severity="medium", status=status, expression=f"{rule} > 0",
        evidence={rule: 1}, opened_as_of=AS_OF[0], last_seen_as_of=AS_OF[1], **extra,
    )  # fmt: skip


def seed(runtime: Runtime) -> Book:
    """Users of every role (password PASSWORD, one token each) and accounts A-1, A-2."""
    book = Book()
    with transaction(runtime.sessions) as s:
        users = {}
        for role in ROLES:
            users[role] = service.create_user(
                s, email=f"{role}@example.com", name=role.title(), password=PASSWORD,
                role=role.rstrip("2"), actor="test",
            )  # fmt: skip
            scopes = ["admin"] if role == "admin" else ["write"]
            book.tokens[role], _ = service.create_api_token(
                s, user=users[role], name=f"{role}-token", scopes=scopes, actor="test"
            )
            book.ids[role] = users[role].id
        for n, owner in ((1, "csm"), (2, "csm2")):
            key = f"A-{n}"
            account = Account(external_id=key, name=f"Account {n}", owner_id=users[owner].id)
            s.add(account)
            s.flush()
            contact = Contact(external_id=f"C-{n}", account_id=account.id, name=f"Contact {n}")
            s.add(contact)
            s.flush()
            day = dt.datetime(2024, 6, n, 9)
            s.add_all([
                Subscription(external_id=f"S-{n}", account_id=account.id, product="Suite",
                             start_date=dt.date(2024, 1, n), end_date=dt.date(2025, 1, n),
                             arr=12000.0 * n, mrr=1000.0 * n),
                Order(external_id=f"O-{n}", account_id=account.id, order_date=day.date(),
                      amount=500.0 * n, margin=100.0),
                Ticket(external_id=f"T-{n}", account_id=account.id, contact_id=contact.id,
                       opened_at=day, severity="high"),
                NpsResponse(external_id=f"N-{n}", account_id=account.id, responded_at=day,
                            score=8 - n),
                Interaction(external_id=f"I-{n}", account_id=account.id, occurred_at=day,
                            channel="email", type="call", user_id=users[owner].id),
                _snapshot(account.id, AS_OF[0], 80.0 - n, "growth"),
                _snapshot(account.id, AS_OF[1], 70.0 if n == 1 else 30.0, "basic" if n == 2 else "profit"),
            ])  # fmt: skip
            book.ids[key] = account.id
            for status in ("open", "acknowledged", "closed", "resolved"):
                extra = {"closed_as_of": AS_OF[1]} if status == "closed" else {}
                alert = _alert(account.id, f"rule_{status}", status, **extra)
                s.add(alert)
                s.flush()
                book.ids[f"{key}:{status}"] = alert.id
        _seed_engagement(s, runtime, book, users["csm"].id)
    return book


def _seed_engagement(s: Any, runtime: Runtime, book: Book, csm_id: int) -> None:
    """A channel endpoint, a template, a talk track, a playbook with a run, a task and a
    failed outbox message on A-1 (owned by csm)."""
    account_id = book.ids["A-1"]
    endpoint = ChannelEndpoint(
        name="hook", kind="webhook", settings={"url": "http://127.0.0.1:9/hook"},
        secrets=seal(load_key(runtime.settings.home), {"signing_secret": "0123456789abcdef"}),
    )  # fmt: skip
    template = MessageTemplate(key="welcome", locale="en", format="any", name="Welcome",
                               subject="Hello {{ contact.name }}", body="Welcome aboard.")  # fmt: skip
    track = TalkTrack(key="renewal_terms", locale="en", topic="Renewal terms",
                      question="What are the renewal terms?", answer="Annual, 30 days notice.")  # fmt: skip
    playbook = Playbook(key="call_back", name="Call back", trigger_type="rule", definition={
        "trigger": {"type": "rule", "rule": "no_login_7d", "on": "fired"},
        "steps": [{"action": "task", "title": "Call {{ account.name }}"}]})  # fmt: skip
    s.add_all([endpoint, template, track, playbook])
    s.flush()
    now = dt.datetime(2024, 7, 1, 4, 0)
    run = PlaybookRun(playbook_id=playbook.id, playbook_version=1, account_id=account_id,
                      trigger_key="alert:1:fired", reason={}, status="active", step_index=0,
                      next_step_at=now, started_at=now)  # fmt: skip
    s.add(run)
    s.flush()
    task = Task(account_id=account_id, owner_id=csm_id, title="Call Account 1", run_id=run.id)
    message = OutboxMessage(idempotency_key="seed-1", source="test", channel="webhook",
                            account_id=account_id, endpoint_id=endpoint.id, subject="s",
                            text="t", status="failed", attempts=1, next_attempt_at=now)  # fmt: skip
    s.add_all([task, message])
    s.flush()
    book.ids.update(hook=endpoint.id, tpl=template.id, tt=track.id, pb=playbook.key,
                    run=run.id, task=task.id, msg=message.id)  # fmt: skip


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Book]:
    """A migrated, seeded home built once; tests get a copy of it."""
    home = tmp_path_factory.mktemp("template") / "home"
    runtime = open_runtime(home)
    book = seed(runtime)
    runtime.close()  # the last connection closing folds the WAL into tenure.db
    return home, book


@pytest.fixture
def book_runtime(template: tuple[Path, Book], tmp_path: Path) -> Iterator[Runtime]:
    """A private copy of the seeded home."""
    home = tmp_path / "home"
    shutil.copytree(template[0], home)
    runtime = open_runtime(home, migrate=False)
    yield runtime
    runtime.close()


@pytest.fixture
def book(template: tuple[Path, Book]) -> Book:
    return template[1]


@cache
def _api_router() -> APIRouter:
    # Built once: FastAPI prepares a router's routes on first include, which takes a while.
    return api_router()


def _has_route(app: FastAPI, name: str) -> bool:
    try:
        app.url_path_for(name)
    except NoMatchFound:
        return False
    return True


def build_app(runtime: Runtime) -> FastAPI:
    """The app as `tenure serve` builds it, with the auth and REST routers (added here
    when `create_app` does not include them yet)."""
    app = create_app(runtime)
    if not _has_route(app, "login"):
        app.include_router(auth_router)
    if not _has_route(app, "list_accounts_endpoint"):
        app.include_router(_api_router())
    return app


@pytest.fixture
def app(book_runtime: Runtime) -> FastAPI:
    return build_app(book_runtime)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def admin(book: Book) -> dict[str, str]:
    """Headers of the admin's token."""
    return book.headers("admin")
