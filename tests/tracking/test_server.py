"""A real uvicorn server killed mid-stream: every acknowledged event is stored exactly once."""

from __future__ import annotations

import collections
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tenure.kit.runtime import open_runtime
from tenure.tracking.flush import flush_inbox

from .conftest import AUTH, WRITE_KEY, add_accounts, add_token, stored_events

SERVER = """
import sys
import uvicorn
from tenure.app import create_app
from tenure.kit.runtime import open_runtime
from tenure.tracking.api import install_tracking

runtime = open_runtime(sys.argv[1], sys.argv[3] or None)
app = create_app(runtime)
install_tracking(app)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""
BATCHES = 200
PER_BATCH = 50
SENDERS = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(home: Path, port: int, database_url: str | None) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-c", SERVER, str(home), str(port), database_url or ""]
    server = subprocess.Popen(args)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise AssertionError("the server did not start")


def batch(n: int) -> dict[str, Any]:
    calls = [
        {"type": "track", "messageId": f"b{n}-{i}", "userId": f"u{i}", "event": "login",
         "timestamp": "2026-06-01T12:00:00Z", "context": {"groupId": f"acct-{n % 7}"}}
        for i in range(PER_BATCH)
    ]  # fmt: skip
    return {"batch": calls}


def send_all(port: int, numbers: list[int], kill_after: int | None = None,
             server: subprocess.Popen[bytes] | None = None) -> tuple[list[int], list[int]]:  # fmt: skip
    """POST the batches from SENDERS threads; SIGKILL `server` after `kill_after` acks."""
    todo: queue.Queue[int] = queue.Queue()
    for n in numbers:
        todo.put(n)
    acked: list[int] = []
    failed: list[int] = []
    lock = threading.Lock()

    def sender() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=AUTH, timeout=10) as client:
            while True:
                try:
                    n = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    ok = client.post("/v1/batch", json=batch(n)).status_code == 200
                except httpx.TransportError:
                    ok = False
                with lock:
                    (acked if ok else failed).append(n)
                    if ok and kill_after is not None and len(acked) == kill_after:
                        assert server is not None
                        os.kill(server.pid, signal.SIGKILL)

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return acked, failed


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None for the embedded store, else a fresh PostgreSQL database."""
    return None if request.param == "sqlite" else str(request.getfixturevalue("pg_database_url"))


def test_acknowledged_events_survive_a_killed_server_exactly_once(
    tmp_path: Path, database_url: str | None
) -> None:
    home = tmp_path / "home"
    runtime = open_runtime(home, database_url)
    add_token(runtime, WRITE_KEY)
    add_accounts(runtime, *(f"acct-{n}" for n in range(7)))
    runtime.close()

    port = free_port()
    server = start(home, port, database_url)
    try:
        acked, failed = send_all(port, list(range(BATCHES)), kill_after=40, server=server)
        assert server.wait(timeout=30) == -signal.SIGKILL
    finally:
        server.kill()
    assert len(acked) >= 40 and failed, "the kill should land mid-stream"

    server = start(home, port, database_url)
    try:
        resend = failed + acked[::3]  # what was not acknowledged, and some of what was
        again, lost = send_all(port, resend)
        assert lost == [] and sorted(again) == sorted(resend)
    finally:
        server.terminate()
        server.wait(timeout=30)

    runtime = open_runtime(home, database_url)
    try:
        result = flush_inbox(runtime)
        ids = [e["message_id"] for e in stored_events(runtime)]
    finally:
        runtime.close()
    counts = collections.Counter(ids)
    assert max(counts.values()) == 1
    for n in acked:
        assert all(counts[f"b{n}-{i}"] == 1 for i in range(PER_BATCH))
    assert len(ids) == BATCHES * PER_BATCH == result.events_added
