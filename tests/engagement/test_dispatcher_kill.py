"""THE KILL TEST: a real dispatcher process, SIGKILLed mid-batch while a message is in
flight, then restarted: every message is delivered, the receiver (deduplicating by
Idempotency-Key) processes each once, and raw repeats stay within what was in flight."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tenure.engagement.models import OutboxMessage
from tenure.feedback.models import Interaction
from tenure.kit.runtime import Runtime, open_runtime

from .conftest_outbox import Receiver, add_account, add_webhook, by_status, queue, running_receiver

# `tenure outbox dispatch` as its own process (the command's function, without the CLI
# group it is wired into).
DISPATCHER = """
import sys
import typer
from tenure.engagement.cli_outbox import dispatch_command

app = typer.Typer()
app.command()(dispatch_command)
app(sys.argv[1:], prog_name="tenure outbox dispatch")
"""
MESSAGES = 300
BATCH = 25
KILL_AT = 60  # the receiver's 60th request: in the third batch of 25
LEASE = 2.0  # seconds; the claims the killed process held are retaken once it passes
IN_FLIGHT = 1  # one dispatcher sends one message at a time


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None for the embedded store, else a fresh PostgreSQL database."""
    return None if request.param == "sqlite" else str(request.getfixturevalue("pg_database_url"))


def start(home: Path, database_url: str | None) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-c", DISPATCHER, "--loop", "--limit", str(BATCH),
            "--lease", str(LEASE), "--interval", "0.1", "--home", str(home)]  # fmt: skip
    if database_url:
        args += ["--database-url", database_url]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kill_on(receiver: Receiver, count: int) -> tuple[threading.Event, list[int]]:
    """SIGKILL the process whose pid is put in the list when the receiver has taken
    `count` requests: inside the handler, after the request counts, before it is answered."""
    pid: list[int] = []
    done = threading.Event()

    def on_hit(n: int) -> None:
        if n == count and pid and not done.is_set():
            os.kill(pid[0], signal.SIGKILL)
            done.set()

    receiver.on_hit = on_hit
    return done, pid


def wait_until_drained(
    runtime: Runtime, dispatcher: subprocess.Popen[bytes], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if by_status(runtime) == {"sent": MESSAGES}:
            return
        assert dispatcher.poll() is None, (
            dispatcher.stderr.read().decode() if dispatcher.stderr else ""
        )
        time.sleep(0.1)
    raise AssertionError(f"the outbox was not drained in {timeout} s: {by_status(runtime)}")


def test_a_killed_dispatcher_loses_nothing_and_repeats_only_its_message_in_flight(
    tmp_path: Path, database_url: str | None
) -> None:
    home = tmp_path / "home"
    runtime = open_runtime(home, database_url)
    started = time.monotonic()
    try:
        with running_receiver(delay=0.003) as receiver:
            account_id, contact_id = add_account(runtime)
            add_webhook(runtime, receiver.url)
            queue(runtime, MESSAGES, account_id=account_id, contact_id=contact_id)
            keys = [f"m-{n}" for n in range(MESSAGES)]

            killed, pid = kill_on(receiver, KILL_AT)
            first = start(home, database_url)
            pid.append(first.pid)
            try:
                assert first.wait(timeout=60) == -signal.SIGKILL
            finally:
                first.kill()
            assert killed.is_set()
            in_flight_key = receiver.hits[KILL_AT - 1].key
            at_kill = by_status(runtime)
            # Every acknowledged delivery but the one in flight was committed as sent; the
            # rest of the batch is still claimed ("sending") by the dead process.
            assert at_kill["sent"] == KILL_AT - 1
            assert at_kill["sending"] >= 2, f"the kill should land mid-batch: {at_kill}"
            assert sum(at_kill.values()) == MESSAGES

            second = start(home, database_url)
            try:
                wait_until_drained(runtime, second, timeout=120)
            finally:
                second.terminate()
                second.wait(timeout=30)
    finally:
        elapsed = time.monotonic() - started
        runtime.close()

    runtime = open_runtime(home, database_url, migrate=False)
    try:
        with runtime.sessions() as session:
            attempts = dict(
                session.execute(select(OutboxMessage.idempotency_key, OutboxMessage.attempts)).all()
            )
            interactions = session.scalar(select(func.count()).select_from(Interaction))
    finally:
        runtime.close()

    received = receiver.keys()
    assert receiver.bad == []  # every request carried a valid signature and its key
    assert set(received) == set(keys)  # every message reached the receiver
    processed = collections.Counter(receiver.processing_log)
    assert sorted(processed) == sorted(keys) and max(processed.values()) == 1
    repeats = [key for key, n in collections.Counter(received).items() if n > 1]
    assert len(received) - MESSAGES <= IN_FLIGHT
    assert repeats in ([], [in_flight_key])
    assert attempts[in_flight_key] == 2  # retaken once its lease had passed
    assert interactions == MESSAGES  # one timeline entry per message, none doubled
    print(f"\nkill test ({'postgresql' if database_url else 'sqlite'}): {MESSAGES} messages,"
          f" killed at request {KILL_AT} with {at_kill}, {len(received)} requests,"
          f" repeats {repeats}, {elapsed:.1f} s")  # fmt: skip
