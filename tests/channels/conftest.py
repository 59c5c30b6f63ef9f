"""Real local servers the channel plugins talk to: a threaded HTTP server per vendor test
(its handler checks the request as the vendor does and answers like it) and aiosmtpd.

Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Received:
    """One HTTP request as the server saw it, raw."""

    method: str
    path: str  # without the query
    raw_query: str
    headers: dict[str, str]
    body: bytes

    @property
    def query(self) -> dict[str, str]:
        """The decoded query parameters (the last value of each)."""
        return {k: v[-1] for k, v in parse_qs(self.raw_query, keep_blank_values=True).items()}


# What a vendor handler answers: (status, content type, body).
Answer = tuple[int, str, bytes]
Handler = Callable[[Received], Answer]


@dataclass
class VendorServer:
    """A local HTTP server answering through `handler`; `received` keeps every request."""

    handler: Handler
    received: list[Received] = field(default_factory=list)
    url: str = ""


def _request_handler(vendor: VendorServer) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            parts = urlsplit(self.path)
            received = Received(
                method="POST",
                path=parts.path,
                raw_query=parts.query,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            vendor.received.append(received)
            status, content_type, answer = vendor.handler(received)
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout tests)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    return RequestHandler


@pytest.fixture
def vendor_server() -> Iterator[Callable[[Handler], VendorServer]]:
    """Start local servers answering with the given handler; all stopped after the test."""
    started: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(handler: Handler) -> VendorServer:
        vendor = VendorServer(handler)
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _request_handler(vendor))
        httpd.daemon_threads = True
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
        thread.daemon = True
        thread.start()
        started.append((httpd, thread))
        vendor.url = f"http://127.0.0.1:{httpd.server_address[1]}"
        return vendor

    yield start
    for httpd, thread in started:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""

    cert_file: Path
    key_file: Path


@pytest.fixture(scope="session")
def localhost_certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate valid for 127.0.0.1 (the SMTP tests trust it as their CA)."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(cert_file=cert_file, key_file=key_file)


@pytest.fixture(autouse=True)
def _no_secret_key_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The key comes from the test home's secret.key unless a test sets TENURE_SECRET_KEY."""
    monkeypatch.delenv("TENURE_SECRET_KEY", raising=False)


def webhook_receiver(secret: str) -> Handler:
    """A webhook receiver that verifies X-Tenure-Signature and answers with an event id."""
    import hashlib
    import hmac
    import json

    count = 0

    def handle(received: Received) -> Answer:
        nonlocal count
        header = received.headers.get("x-tenure-signature", "")
        parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
        signed = parts.get("t", "").encode() + b"." + received.body
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, parts.get("v1", "")):
            return 401, "application/json", b'{"error": "signature mismatch"}'
        count += 1
        return 200, "application/json", json.dumps({"id": f"evt_{count}"}).encode()

    return handle
