"""What the outbox tests share: a real webhook receiver, endpoints and queued messages.

The receiver is a threaded `http.server` on 127.0.0.1 that checks every request the way a
webhook consumer should (X-Tenure-Signature recomputed over the raw body, constant-time
comparison, fresh timestamp, Idempotency-Key equal to the body's id), answers the statuses
a test plans (500, 429, 400, …) and otherwise 200, and processes each idempotency key once.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import delete, func, select
from starlette.routing import NoMatchFound
from tests.api.conftest import Book, seed

from tenure.accounts.models import Account, Contact
from tenure.app import create_app
from tenure.channels.models import ChannelEndpoint
from tenure.channels.secrets import load_key, seal
from tenure.db import transaction
from tenure.engagement import api_outbox, pages_outbox
from tenure.engagement.models import OutboxMessage
from tenure.engagement.outbox import Draft, enqueue
from tenure.kit.runtime import Runtime, open_runtime

SECRET = "whsec-outbox-test-0123456789"
TOLERANCE = 300  # seconds between the signature's `t` and the receiver's clock


@dataclass
class Hit:
    """One request as the receiver saw it."""

    key: str
    body: dict[str, Any]
    status: int  # what the receiver answered
    at: float


@dataclass
class Receiver:
    """A webhook consumer: `hits` holds every request, `processed` each key's first one."""

    secret: str
    delay: float = 0.0  # seconds spent on each request (a slow-ish consumer)
    url: str = ""
    hits: list[Hit] = field(default_factory=list)
    processed: dict[str, dict[str, Any]] = field(default_factory=dict)
    processing_log: list[str] = field(default_factory=list)  # keys in the order processed
    bad: list[str] = field(default_factory=list)  # requests refused: why
    answers: collections.deque[int] = field(default_factory=collections.deque)
    on_hit: Callable[[int], None] | None = None  # called with the hit count, before answering
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer_next(self, *statuses: int) -> None:
        """Answer the next requests with these statuses (then 200 again)."""
        self.answers.extend(statuses)

    def keys(self) -> list[str]:
        with self.lock:
            return [hit.key for hit in self.hits]

    def repeats(self) -> int:
        """Requests whose idempotency key had been received before."""
        keys = self.keys()
        return len(keys) - len(set(keys))

    def check(self, headers: Any, raw: bytes) -> str | None:
        """Why the request is not a valid signed delivery, or None when it is."""
        header = headers.get("X-Tenure-Signature", "")
        parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
        if set(parts) != {"t", "v1"} or not parts["t"].isdigit():
            return f"malformed signature header {header!r}"
        if abs(time.time() - int(parts["t"])) > TOLERANCE:
            return "stale signature timestamp"
        signed = parts["t"].encode() + b"." + raw
        expected = hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, parts["v1"]):
            return "signature does not match"
        key = headers.get("Idempotency-Key")
        body = json.loads(raw)
        if not key or body.get("id") != key:
            return f"Idempotency-Key {key!r} is not the body's id {body.get('id')!r}"
        return None

    def handle(self, headers: Any, raw: bytes) -> tuple[int, bytes]:
        problem = self.check(headers, raw)
        if problem is not None:
            with self.lock:
                self.bad.append(problem)
            return 401, json.dumps({"error": problem}).encode()
        if self.delay:
            time.sleep(self.delay)
        body = json.loads(raw)
        key = headers["Idempotency-Key"]
        with self.lock:
            status = self.answers.popleft() if self.answers else 200
            self.hits.append(Hit(key=key, body=body, status=status, at=time.monotonic()))
            count = len(self.hits)
            if status == 200 and key not in self.processed:  # a repeat is acknowledged, not redone
                self.processed[key] = body
                self.processing_log.append(key)
        if self.on_hit is not None:
            self.on_hit(count)
        if status != 200:
            return status, json.dumps({"error": f"planned {status}"}).encode()
        return 200, json.dumps({"id": f"rcv-{count}"}).encode()


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, answer = receiver.handle(self.headers, raw)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A sender killed mid-request (the kill test) leaves a broken connection: expected.
        pass


@contextmanager
def running_receiver(secret: str = SECRET, *, delay: float = 0.0) -> Iterator[Receiver]:
    """A receiver listening on a free local port until the block ends."""
    receiver = Receiver(secret=secret, delay=delay)
    server = _Server(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/tenure"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def add_webhook(
    runtime: Runtime,
    url: str,
    *,
    secret: str = SECRET,
    name: str = "hook",
    enabled: bool = True,
    sealed: str | None = None,
) -> int:
    """A webhook endpoint row with its signing secret sealed as the channels service does."""
    with transaction(runtime.sessions) as session:
        endpoint = ChannelEndpoint(
            name=name,
            kind="webhook",
            settings={"url": url, "timeout": 5.0},
            secrets=sealed or seal(load_key(runtime.settings.home), {"signing_secret": secret}),
            enabled=enabled,
            is_default=True,
        )
        session.add(endpoint)
        session.flush()
        return endpoint.id


def add_account(
    runtime: Runtime, external_id: str = "A-1", owner_id: int | None = None
) -> tuple[int, int]:
    """An account with one contact; their ids."""
    with transaction(runtime.sessions) as session:
        account = Account(external_id=external_id, name=f"Account {external_id}", owner_id=owner_id)
        session.add(account)
        session.flush()
        contact = Contact(
            external_id=f"{external_id}-c",
            account_id=account.id,
            name="Ana",
            email="ana@example.com",
        )
        session.add(contact)
        session.flush()
        return account.id, contact.id


def queue(
    runtime: Runtime,
    count: int = 1,
    *,
    account_id: int | None = None,
    contact_id: int | None = None,
    channel: str = "webhook",
    prefix: str = "m",
    **extra: Any,
) -> list[int]:
    """Queue `count` messages (keys `<prefix>-<n>`); their ids."""
    with transaction(runtime.sessions) as session:
        ids = []
        for n in range(count):
            draft = Draft(
                source="test",
                channel=channel,
                subject=f"Subject {n}",
                text=f"Hello {n}",
                recipient={"name": "Ana", "email": "ana@example.com"},
                account_id=account_id,
                contact_id=contact_id,
                idempotency_key=f"{prefix}-{n}",
                links={"unsubscribe": "https://tenure.example/u/tok"},
                **extra,
            )
            ids.append(enqueue(session, draft).id)
        return ids


def message(runtime: Runtime, message_id: int) -> OutboxMessage:
    with runtime.sessions() as session:
        found = session.get(OutboxMessage, message_id)
        assert found is not None
        return found


def by_status(runtime: Runtime) -> dict[str, int]:
    with runtime.sessions() as session:
        rows = session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
        return {str(status): int(n) for status, n in rows}


def outbox_app(runtime: Runtime) -> FastAPI:
    """The app with the outbox API under /api/v1 and the outbox page (added here until the
    engagement routers include them)."""
    app = create_app(runtime)
    if not _has_route(app, "list_outbox_endpoint"):
        app.include_router(api_outbox.router, prefix="/api/v1")
    if not _has_route(app, "outbox"):
        app.include_router(pages_outbox.router)
    return app


def _has_route(app: FastAPI, name: str) -> bool:
    try:
        app.url_path_for(name)
    except NoMatchFound:
        return False
    return True


# The outbox of the API book (tests/api/conftest.py: csm owns A-1, csm2 owns A-2).
BOOK_MESSAGES = {
    "a1-dead": ("A-1", "dead"),
    "a1-queued": ("A-1", "queued"),
    "a1-sent": ("A-1", "sent"),
    "a2-failed": ("A-2", "failed"),
    "team-queued": (None, "queued"),
}


def add_book_messages(runtime: Runtime) -> dict[str, int]:
    """One message per BOOK_MESSAGES entry, in its status; their ids by label."""
    ids: dict[str, int] = {}
    with transaction(runtime.sessions) as session:
        for label, (account, status) in BOOK_MESSAGES.items():
            account_id = None
            if account is not None:
                account_id = session.scalar(
                    select(Account.id).where(Account.external_id == account)
                )
            draft = Draft(
                source=f"playbook:{label.split('-')[0]}" if account else "alert:7",
                channel="email",
                subject=f"Subject {label}",
                text=f"Text {label}",
                html=f"<p>{label}</p>",
                recipient={"name": f"Reader {label}", "email": f"{label}@example.com"},
                account_id=account_id,
                idempotency_key=label,
            )
            row = enqueue(session, draft)
            row.status = status
            row.attempts = {"dead": 8, "failed": 2, "sent": 1}.get(status, 0)
            row.last_error = "HTTP 500: boom" if status in ("dead", "failed") else None
            ids[label] = row.id
    return ids


def book_home(directory: Path) -> tuple[Path, Book, dict[str, int]]:
    """A home with the API book (users of every role with tokens, password PASSWORD; A-1
    owned by csm, A-2 by csm2) and the BOOK_MESSAGES outbox, without the API book's own."""
    home = directory / "home"
    runtime = open_runtime(home)
    book = seed(runtime)
    with transaction(runtime.sessions) as session:  # the seeded message (source "test")
        session.execute(delete(OutboxMessage).where(OutboxMessage.source == "test"))
    ids = add_book_messages(runtime)
    runtime.close()  # the last connection closing folds the WAL into tenure.db
    return home, book, ids


def copy_home(home: Path, directory: Path) -> Runtime:
    """A private copy of `home`, opened."""
    copy = directory / "home"
    shutil.copytree(home, copy)
    return open_runtime(copy, migrate=False)
