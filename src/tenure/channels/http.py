"""The HTTP transport the chat and webhook channels share, with one error mapping.

Timeouts, connection failures, 429 and 5xx are transient (a later attempt may succeed);
any other 4xx is permanent. The chat robots answer with an error code in a JSON body
(often with HTTP 200); `check_code` maps those codes, each plugin naming its vendor's
rate-limit codes as transient.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Collection
from functools import cache
from typing import Any

import httpx

from tenure.channels.base import DeliveryError

USER_AGENT = "Tenure-Channels/1"


@cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: building it loads the CA bundle (~0.1 s),
    which a client per request would otherwise pay on every delivery."""
    return ssl.create_default_context()


def encode_json(payload: Any) -> bytes:
    """The compact UTF-8 JSON body a plugin sends (and may sign) byte for byte."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def post(
    url: str,
    body: bytes,
    *,
    timeout: float,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    """POST a JSON `body` and return the response, whatever its status.

    Raises DeliveryError (transient) on timeouts and connection failures, and (permanent)
    on a URL that cannot be requested at all.
    """
    sent_headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
    sent_headers.update(headers or {})
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, verify=tls_context()) as client:
            return client.post(url, content=body, headers=sent_headers, params=params)
    except httpx.TimeoutException as exc:
        reason = f"timed out after {timeout:g}s ({_describe(exc)})"
        raise DeliveryError(reason, transient=True) from exc
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise DeliveryError(f"invalid URL: {_describe(exc)}", transient=False) from exc
    except httpx.TransportError as exc:
        raise DeliveryError(f"connection failed: {_describe(exc)}", transient=True) from exc


def raise_for_status(response: httpx.Response) -> None:
    """Raise DeliveryError unless 2xx: transient for 429 and 5xx, permanent otherwise."""
    status = response.status_code
    if 200 <= status < 300:
        return
    snippet = response.text[:200].strip()
    reason = f"HTTP {status}" + (f": {snippet}" if snippet else "")
    raise DeliveryError(reason, transient=status == 429 or status >= 500)


def json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The response's JSON object, or None when the body is not one."""
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def check_code(
    response: httpx.Response,
    *,
    code_keys: tuple[str, ...],
    message_keys: tuple[str, ...],
    transient_codes: Collection[int],
    vendor: str,
) -> dict[str, Any]:
    """The vendor's JSON answer when its code (the first of `code_keys` present) is 0.

    A non-zero code raises DeliveryError, transient for `transient_codes` (rate limits,
    "system busy") and for 429/5xx statuses, permanent otherwise; an answer without a
    code is judged by its HTTP status, and a 2xx one without a code is permanent.
    """
    data = json_object(response)
    code = _first(data, code_keys) if data is not None else None
    if code is None:
        raise_for_status(response)
        raise DeliveryError(
            f"{vendor} answered without a result code: {response.text[:200]!r}", transient=False
        )
    try:
        number = int(code)
    except (TypeError, ValueError):
        number = -999_999  # not a number: unknown, treated as permanent below
    if number == 0 and 200 <= response.status_code < 300 and data is not None:
        return data
    message = _first(data, message_keys)
    transient = number in transient_codes or response.status_code == 429
    transient = transient or response.status_code >= 500
    reason = f"{vendor} error {code}" + (f": {message}" if message else "")
    raise DeliveryError(reason, transient=transient)


def _first(data: dict[str, Any] | None, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if data is not None and data.get(key) is not None:
            return data[key]
    return None


def _describe(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
