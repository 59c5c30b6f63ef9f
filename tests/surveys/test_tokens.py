"""Signed survey links: round trip, and every way a token is refused."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

import pytest

from tenure.surveys.tokens import (
    InvalidToken,
    check_form_token,
    make_form_token,
    make_token,
    read_token,
    survey_key,
)

KEY = survey_key(b"server-key-for-tests")
NONCE = "0123456789abcdef0123456789abcdef"
EXPIRES = dt.datetime(2030, 1, 15, 12, 0, 0)
BEFORE = EXPIRES - dt.timedelta(days=1)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signed(payload: bytes, key: bytes = KEY) -> str:
    """A token over any payload, correctly signed."""
    return f"{b64(payload)}.{b64(hmac.new(key, payload, hashlib.sha256).digest())}"


def reason(token: str, now: dt.datetime = BEFORE, key: bytes = KEY) -> str:
    with pytest.raises(InvalidToken) as caught:
        read_token(key, token, now)
    return caught.value.reason


class TestRoundTrip:
    def test_claims_come_back(self) -> None:
        token = make_token(KEY, 42, NONCE, EXPIRES)
        claims = read_token(KEY, token, BEFORE)
        assert (claims.invitation_id, claims.nonce, claims.expires_at) == (42, NONCE, EXPIRES)

    def test_format_is_the_documented_one(self) -> None:
        token = make_token(KEY, 7, NONCE, EXPIRES)
        payload, signature = token.split(".")
        expiry = int(EXPIRES.replace(tzinfo=dt.UTC).timestamp())
        assert unb64(payload) == f"7.{expiry}.{NONCE}".encode()
        assert unb64(signature) == hmac.new(KEY, unb64(payload), hashlib.sha256).digest()
        assert "=" not in token and "/" not in token and "+" not in token

    def test_an_aware_clock_is_read_as_utc(self) -> None:
        token = make_token(KEY, 1, NONCE, EXPIRES)
        shanghai = dt.timezone(dt.timedelta(hours=8))
        just_before = (EXPIRES - dt.timedelta(seconds=1)).replace(tzinfo=dt.UTC)
        assert read_token(KEY, token, just_before.astimezone(shanghai)).invitation_id == 1
        assert reason(token, EXPIRES.replace(tzinfo=dt.UTC).astimezone(shanghai)) == "expired"

    def test_the_signing_key_is_derived_not_the_server_key(self) -> None:
        server = b"server-key-for-tests"
        assert survey_key(server) == hmac.new(server, b"tenure-survey-token", "sha256").digest()
        assert survey_key(server) != survey_key(b"another server")
        token = make_token(survey_key(server), 1, NONCE, EXPIRES)
        assert reason(token, key=server) == "tampered"


class TestTampered:
    def test_another_invitation_id_under_the_old_signature(self) -> None:
        token = make_token(KEY, 5, NONCE, EXPIRES)
        payload, signature = token.split(".")
        forged = unb64(payload).replace(b"5.", b"6.", 1)
        assert reason(f"{b64(forged)}.{signature}") == "tampered"

    def test_a_later_expiry_under_the_old_signature(self) -> None:
        token = make_token(KEY, 5, NONCE, EXPIRES)
        later = make_token(KEY, 5, NONCE, EXPIRES + dt.timedelta(days=30)).split(".")[0]
        assert reason(f"{later}.{token.split('.')[1]}") == "tampered"

    def test_one_changed_signature_character(self) -> None:
        token = make_token(KEY, 5, NONCE, EXPIRES)
        flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
        assert reason(flipped) == "tampered"

    def test_signed_with_another_key(self) -> None:
        token = make_token(survey_key(b"other server"), 5, NONCE, EXPIRES)
        assert reason(token) == "tampered"

    def test_signature_is_checked_before_expiry(self) -> None:
        token = make_token(survey_key(b"other server"), 5, NONCE, EXPIRES)
        assert reason(token, EXPIRES + dt.timedelta(days=1)) == "tampered"


class TestExpired:
    def test_at_the_expiry_second_and_after(self) -> None:
        token = make_token(KEY, 5, NONCE, EXPIRES)
        assert read_token(KEY, token, EXPIRES - dt.timedelta(seconds=1)).invitation_id == 5
        assert reason(token, EXPIRES) == "expired"
        assert reason(token, EXPIRES + dt.timedelta(days=400)) == "expired"


class TestMalformed:
    @pytest.mark.parametrize(
        "token",
        [
            "",
            "abc",
            "a.b.c",
            "!!!.???",
            "YWJj.",
            ".YWJj",
            "YWJj.YWJj",  # a signature of 3 bytes
            "x" * 600,
            "MS4xLjI=." + "A" * 43,  # padding is not part of the format
            "ＭＳ４.YWJj",  # full-width characters
        ],
    )
    def test_not_a_token(self, token: str) -> None:
        assert reason(token) == "malformed"

    @pytest.mark.parametrize(
        "payload",
        [b"5.1900000000", b"5.1900000000.short", b"x.1900000000." + NONCE.encode(),
         b"0.1900000000." + NONCE.encode(), b"5.soon." + NONCE.encode(), b"\xff\xfe"],
    )  # fmt: skip
    def test_a_signed_payload_that_is_not_ours(self, payload: bytes) -> None:
        assert reason(signed(payload)) == "malformed"

    def test_make_token_refuses_what_read_token_would(self) -> None:
        with pytest.raises(ValueError):
            make_token(KEY, 0, NONCE, EXPIRES)
        with pytest.raises(ValueError):
            make_token(KEY, 1, "with.dot.nonce", EXPIRES)


class TestFormToken:
    def test_bound_to_its_survey_token_and_key(self) -> None:
        token, other = make_token(KEY, 1, NONCE, EXPIRES), make_token(KEY, 2, NONCE, EXPIRES)
        issued = dt.datetime(2030, 1, 1, 9, 0)
        form = make_form_token(KEY, token, issued)
        hour = dt.timedelta(hours=1)
        assert check_form_token(KEY, token, form, issued + dt.timedelta(minutes=5), hour)
        assert not check_form_token(KEY, other, form, issued, hour)
        assert not check_form_token(survey_key(b"x"), token, form, issued, hour)
        assert not check_form_token(KEY, token, form + "x", issued, hour)
        assert not check_form_token(KEY, token, "", issued, hour)
        assert not check_form_token(KEY, token, "１２.abc", issued, hour)

    def test_expires(self) -> None:
        token = make_token(KEY, 1, NONCE, EXPIRES)
        issued = dt.datetime(2030, 1, 1, 9, 0)
        form = make_form_token(KEY, token, issued)
        hour = dt.timedelta(hours=1)
        assert check_form_token(KEY, token, form, issued + hour, hour)
        assert not check_form_token(KEY, token, form, issued + hour + dt.timedelta(seconds=1), hour)
        assert not check_form_token(KEY, token, form, issued - dt.timedelta(minutes=5), hour)
