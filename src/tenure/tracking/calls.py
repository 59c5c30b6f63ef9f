"""Segment tracking calls: check one request's calls and normalise them for the inbox (no I/O).

A normalised call is itself a valid Segment call, so an inbox row or a rejects line can be
sent to `/v1/batch` again as it is:

    {"type": "track" | "identify" | "group", "messageId", "timestamp" (UTC ISO 8601),
     "userId"?, "anonymousId"?, "event"? (track), "groupId"? (group),
     "properties"? (track) | "traits"? (identify, group),
     "context"?: {"groupId"? (the account), "locale"?, "timezone"?}}

`page` and `screen` calls become track events named "page" / "screen" whose properties also
carry the call's `name` and `category`. Everything else a client sends (the rest of
`context`, `integrations`, `channel`, ...) is accepted and not kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

import pydantic_core

TYPES = ("track", "identify", "group", "page", "screen")
ID_CHARS = 100  # users, accounts: the external_id columns hold 100 characters
MESSAGE_ID_CHARS = 200  # the inbox's message_id column
EVENT_CHARS = 200
MAX_PROBLEMS = 100
_TIME_FIELDS = ("timestamp", "originalTimestamp", "sentAt", "receivedAt")


@dataclass
class Checked:
    """The outcome of checking a request: normalised calls, or (field, message) problems."""

    max_call_bytes: int = 32 * 1024
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # (message_id, kind, json)
    problems: list[tuple[str, str]] = field(default_factory=list)

    def problem(self, where: str, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append((where, message))


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def parse_time(value: Any) -> dt.datetime | None:
    """An ISO 8601 date-time as an aware UTC datetime (no offset means UTC); None if invalid."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:
        return None


def _identifier(
    value: Any, where: str, name: str, out: Checked, limit: int = ID_CHARS
) -> str | None:
    """A user/account id as text: a non-empty string or an integer, at most `limit` chars."""
    if type(value) is str and 0 < len(value) <= limit:  # the usual case, checked first
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        out.problem(_join(where, name), "must be a string")
        return None
    if not value:
        out.problem(_join(where, name), "must not be empty")
        return None
    if len(value) > limit:
        out.problem(_join(where, name), f"longer than {limit} characters")
        return None
    return value


def _object(call: dict[str, Any], name: str, where: str, out: Checked) -> dict[str, Any] | None:
    value = call.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        out.problem(_join(where, name), "must be an object")
        return None
    return value


def _times(
    call: dict[str, Any], where: str, out: Checked, batch_sent_at: dt.datetime | None
) -> dict[str, dt.datetime | None] | None:
    parsed: dict[str, dt.datetime | None] = {}
    ok = True
    for name in _TIME_FIELDS:
        raw = call.get(name)
        if raw is None:
            parsed[name] = None
            continue
        parsed[name] = parse_time(raw)
        if parsed[name] is None:
            out.problem(_join(where, name), "must be an ISO 8601 date-time")
            ok = False
    if parsed["sentAt"] is None:
        parsed["sentAt"] = batch_sent_at
    return parsed if ok else None


def event_time(times: dict[str, dt.datetime | None], received_at: dt.datetime) -> dt.datetime:
    """When the call happened, as Segment defines it (corrects a client clock by `sentAt`)."""
    if times["timestamp"] is not None:
        return times["timestamp"]
    original, sent = times["originalTimestamp"], times["sentAt"]
    if original is None:
        return received_at
    if sent is None:
        return original
    try:
        return received_at - (sent - original)
    except OverflowError:  # absurd clocks: keep what the device said
        return original


def _account_ref(
    context: dict[str, Any] | None,
    bag: dict[str, Any] | None,
    bag_name: str,
    where: str,
    out: Checked,
) -> str | None:
    """The account a call names: context.groupId, else <bag>.account_id, else <bag>.accountId."""
    if context is not None and context.get("groupId") is not None:
        return _identifier(context["groupId"], where, "context.groupId", out)
    for key in ("account_id", "accountId"):
        if bag is not None and bag.get(key) is not None:
            return _identifier(bag[key], where, f"{bag_name}.{key}", out)
    return None


def _message_id(
    call: dict[str, Any], kind: str, where: str, out: Checked, has_time: bool
) -> str | None:
    raw = call.get("messageId")
    if raw is not None:
        return _identifier(raw, where, "messageId", out, MESSAGE_ID_CHARS)
    if not has_time:  # nothing tells two identical calls apart: each is its own event
        return "srv-" + uuid.uuid4().hex
    # A retried call without a messageId hashes to the same id, so retries stay harmless.
    stable = {k: v for k, v in call.items() if k not in ("sentAt", "receivedAt", "writeKey")}
    stable["type"] = kind
    digest = hashlib.sha256(pydantic_core.to_json(stable)).hexdigest()
    return "srv-" + digest[:32]


def normalise(
    call: Any,
    kind: str | None,
    where: str,
    out: Checked,
    received_at: dt.datetime,
    batch: dict[str, Any] | None = None,
) -> None:
    """Check one call; append its normalised form to `out.calls` or its problems to `out`.

    `kind` is the endpoint's call type (None for `/v1/batch`, where each call names its
    `type`); `where` prefixes field names in problems ("batch.3"); `batch` holds the batch's
    own `sentAt` and `context`, which apply to every call in it.
    """
    if not isinstance(call, dict):
        out.problem(where or "(body)", "must be an object")
        return
    before = len(out.problems)
    if kind is None:
        kind = call.get("type")
        if kind not in TYPES:
            supported = ", ".join(TYPES)
            out.problem(_join(where, "type"), f"must be one of {supported}; got {kind!r}")
            return
    user_id = anonymous_id = None
    if call.get("userId") is not None:
        user_id = _identifier(call["userId"], where, "userId", out)
    if call.get("anonymousId") is not None:
        anonymous_id = _identifier(call["anonymousId"], where, "anonymousId", out, MESSAGE_ID_CHARS)
    if call.get("userId") is None and call.get("anonymousId") is None:
        out.problem(_join(where, "userId"), "userId or anonymousId is required")
    context = _object(call, "context", where, out)
    if batch is not None and batch.get("context"):
        context = {**batch["context"], **(context or {})}
    times = _times(call, where, out, batch.get("sentAt") if batch else None)
    norm: dict[str, Any] = {"type": "track" if kind in ("page", "screen") else kind}
    bag_name = "traits" if kind in ("identify", "group") else "properties"
    bag = _object(call, bag_name, where, out)
    account: str | None = None
    if kind == "track":
        event = call.get("event")
        if not isinstance(event, str) or not event:
            out.problem(_join(where, "event"), "a non-empty string is required")
        elif len(event) > EVENT_CHARS:
            out.problem(_join(where, "event"), f"longer than {EVENT_CHARS} characters")
        norm["event"] = event
        account = _account_ref(context, bag, bag_name, where, out)
    elif kind in ("page", "screen"):
        norm["event"] = kind
        extra = {k: call[k] for k in ("name", "category") if isinstance(call.get(k), str)}
        bag = {**extra, **(bag or {})}
        account = _account_ref(context, bag, bag_name, where, out)
    elif kind == "identify":
        company = (bag or {}).get("company")
        account = _account_ref(context, bag, bag_name, where, out)
        if account is None and isinstance(company, dict) and company.get("id") is not None:
            account = _identifier(company["id"], where, "traits.company.id", out)
    else:  # group
        if call.get("groupId") is None:
            out.problem(_join(where, "groupId"), "groupId is required")
        else:
            norm["groupId"] = _identifier(call["groupId"], where, "groupId", out)
    has_time = bool(call.get("timestamp") or call.get("originalTimestamp"))
    message_id = _message_id(call, kind, where, out, has_time)
    if len(out.problems) > before or times is None or message_id is None:
        return
    norm["messageId"] = message_id
    norm["timestamp"] = event_time(times, received_at).isoformat()
    if user_id is not None:
        norm["userId"] = user_id
    if anonymous_id is not None:
        norm["anonymousId"] = anonymous_id
    if bag:
        norm[bag_name] = bag
    kept = {"groupId": account} if account is not None else {}
    for key in ("locale", "timezone"):
        if context is not None and isinstance(context.get(key), str):
            kept[key] = context[key]
    if kept:
        norm["context"] = kept
    payload = pydantic_core.to_json(norm)
    if len(payload) > out.max_call_bytes:
        out.problem(where or "(body)", f"call larger than {out.max_call_bytes} bytes")
        return
    out.calls.append((message_id, norm["type"], payload.decode()))


def check_request(
    body: Any, kind: str | None, received_at: dt.datetime, max_call_bytes: int
) -> Checked:
    """Check a request body: one call (`kind` given) or a batch (`{"batch": [...]}`)."""
    out = Checked(max_call_bytes=max_call_bytes)
    if not isinstance(body, dict):
        out.problem("(body)", "must be a JSON object")
        return out
    if kind is not None:
        normalise(body, kind, "", out, received_at)
    else:
        calls = body.get("batch")
        if not isinstance(calls, list):
            out.problem("batch", "a list of calls is required")
            return out
        shared: dict[str, Any] = {}
        if body.get("sentAt") is not None:
            shared["sentAt"] = parse_time(body["sentAt"])
            if shared["sentAt"] is None:
                out.problem("sentAt", "must be an ISO 8601 date-time")
        if body.get("context") is not None:
            if isinstance(body["context"], dict):
                shared["context"] = body["context"]
            else:
                out.problem("context", "must be an object")
        for i, call in enumerate(calls):
            normalise(call, None, f"batch.{i}", out, received_at, shared)
    return out


def unique_calls(calls: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """`calls` without those whose messageId repeats an earlier one (the first one wins)."""
    seen: set[str] = set()
    kept = []
    for call in calls:
        if call[0] not in seen:
            seen.add(call[0])
            kept.append(call)
    return kept
