"""The hosted survey page without a browser: languages, answers, refusals, cross-site posts."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tenure.app import create_app
from tenure.channels.secrets import load_key
from tenure.db import transaction
from tenure.engagement.outbox import utcnow
from tenure.feedback.models import NpsResponse
from tenure.kit.runtime import Runtime
from tenure.surveys.invitations import invite
from tenure.surveys.tokens import make_token, survey_key
from tenure.web.i18n import translator

from .conftest import SurveyBook, invitation_of, outbox, token_of

FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
EN, ZH = translator("en"), translator("zh-CN")


@pytest.fixture
def client(runtime: Runtime, survey_book: SurveyBook) -> Iterator[TestClient]:
    """A browser without any Tenure cookie (a customer's contact)."""
    with TestClient(create_app(runtime)) as c:
        yield c


@pytest.fixture
def links(runtime: Runtime, survey_book: SurveyBook) -> dict[str, str]:
    """Survey paths by contact key, for the English and the Chinese contact."""
    with transaction(runtime.sessions) as s:
        invite(
            s, config=runtime.config.engagement, home=runtime.settings.home,
            account_id=survey_book["ACME"], source="survey:test",
        )  # fmt: skip
        by_contact = {m.contact_id: m.links["survey"] for m in outbox(s)}
    return {key: f"/s/{token_of(by_contact[survey_book[key]])}" for key in ("C-EN", "C-ZH")}


def form_token(html: str) -> str:
    found = FORM_TOKEN.search(html)
    assert found, "no form token on the page"
    return found.group(1)


def answer(
    client: TestClient, path: str, score: str, comment: str = "", **extra: str
) -> httpx.Response:
    page = client.get(path)
    data = {"score": score, "comment": comment, "form_token": form_token(page.text), "lang": "en"}
    headers = {"Origin": extra.pop("Origin")} if "Origin" in extra else None
    return client.post(path, data={**data, **extra}, headers=headers)


def responses(runtime: Runtime) -> list[tuple[int, str | None]]:
    with runtime.sessions() as s:
        return [(r.score, r.comment) for r in s.scalars(select(NpsResponse))]


class TestSurveyPage:
    def test_in_the_contacts_language_without_signing_in(
        self, client: TestClient, links: dict[str, str]
    ) -> None:
        zh = client.get(links["C-ZH"])
        assert zh.status_code == 200
        assert '<html lang="zh-CN">' in zh.text
        assert ZH("survey.question") in zh.text
        assert "王芳" in zh.text
        assert len(re.findall(r'<input type="radio" name="score"', zh.text)) == 11
        en = client.get(links["C-EN"])
        assert '<html lang="en">' in en.text and EN("survey.question") in en.text
        assert "/login" not in en.text

    def test_the_language_switch(self, client: TestClient, links: dict[str, str]) -> None:
        page = client.get(links["C-EN"])
        assert f'href="{links["C-EN"]}?lang=zh-CN"' in page.text
        switched = client.get(f"{links['C-EN']}?lang=zh-CN")
        assert '<html lang="zh-CN">' in switched.text and ZH("survey.submit") in switched.text

    def test_headers_keep_the_link_private(self, client: TestClient, links: dict[str, str]) -> None:
        headers = client.get(links["C-EN"]).headers
        assert headers["referrer-policy"] == "same-origin"
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store"
        assert "noindex" in headers["x-robots-tag"]


class TestAnswer:
    def test_records_thanks_and_a_second_answer_replaces_the_first(
        self, client: TestClient, links: dict[str, str], runtime: Runtime
    ) -> None:
        thanks = answer(client, links["C-EN"], "9", "Great onboarding")
        assert thanks.status_code == 200
        assert EN("survey.thanks_title") in thanks.text
        assert responses(runtime) == [(9, "Great onboarding")]
        again = client.get(links["C-EN"])
        assert re.search(r'value="9" required\s+checked', again.text)
        assert "Great onboarding" in again.text
        changed = answer(client, links["C-EN"], "4", "Reports got slow")
        assert EN("survey.thanks_updated") in changed.text
        assert responses(runtime) == [(4, "Reports got slow")]

    @pytest.mark.parametrize("score", ["", "11", "-1", "4.5", "nine", "٣"])
    def test_a_score_out_of_range_shows_the_form_again(
        self, client: TestClient, links: dict[str, str], runtime: Runtime, score: str
    ) -> None:
        response = answer(client, links["C-EN"], score, "keep me")
        assert response.status_code == 422
        assert EN("survey.error.score") in response.text
        assert "keep me" in response.text
        assert responses(runtime) == []

    def test_a_post_without_the_pages_form_token(
        self, client: TestClient, links: dict[str, str], runtime: Runtime
    ) -> None:
        bare = client.post(links["C-EN"], data={"score": "0", "comment": "forged"})
        assert bare.status_code == 403
        assert EN("survey.error.form") in bare.text
        other = form_token(client.get(links["C-ZH"]).text)  # another survey's form token
        mixed = client.post(
            links["C-EN"], data={"score": "0", "comment": "forged", "form_token": other}
        )
        assert mixed.status_code == 403
        assert responses(runtime) == []
        # The page shown again carries a fresh token: sending it again works.
        retry = client.post(
            links["C-EN"],
            data={"score": "0", "comment": "mine", "form_token": form_token(mixed.text)},
        )
        assert retry.status_code == 200
        assert responses(runtime) == [(0, "mine")]

    @pytest.mark.parametrize(
        "headers",
        [
            {"Origin": "https://evil.example"},
            {"Origin": "null"},
            {"Sec-Fetch-Site": "cross-site"},
        ],
    )
    def test_a_cross_site_post_is_refused(
        self,
        client: TestClient,
        links: dict[str, str],
        runtime: Runtime,
        headers: dict[str, str],
    ) -> None:
        page = client.get(links["C-EN"])
        response = client.post(
            links["C-EN"],
            data={"score": "0", "form_token": form_token(page.text)},
            headers=headers,
        )
        assert response.status_code == 403
        assert EN("survey.refused.origin") in response.text
        assert responses(runtime) == []

    def test_a_same_site_origin_is_accepted(
        self, client: TestClient, links: dict[str, str], runtime: Runtime
    ) -> None:
        response = answer(client, links["C-EN"], "10", Origin="http://testserver")
        assert response.status_code == 200
        assert responses(runtime) == [(10, None)]


class TestRefusals:
    def test_expired_tampered_malformed_unknown(
        self,
        client: TestClient,
        links: dict[str, str],
        runtime: Runtime,
        survey_book: SurveyBook,
    ) -> None:
        key = survey_key(load_key(runtime.settings.home))
        with transaction(runtime.sessions) as s:
            invitation = invitation_of(s, survey_book["C-EN"])
            past = utcnow().replace(microsecond=0) - dt.timedelta(days=1)
            invitation.expires_at = past
            expired = make_token(key, invitation.id, invitation.nonce, past)
            gone = invitation_of(s, survey_book["C-ZH"])
            unknown = make_token(key, gone.id, gone.nonce, gone.expires_at)
            s.delete(gone)
        path = links["C-ZH"]
        tampered = path[:-2] + ("A" if path[-2] != "A" else "B") + path[-1]
        cases = {
            f"/s/{expired}": (410, "expired"),
            tampered: (400, "tampered"),
            "/s/not-a-token": (400, "malformed"),
            f"/s/{unknown}": (404, "unknown"),
        }
        for url, (status, reason) in cases.items():
            for method in ("GET", "POST"):
                response = client.request(method, url, data={"score": "9"})
                assert response.status_code == status, (url, method)
                assert f'data-reason="{reason}"' in response.text
                assert (
                    EN(f"survey.refused.{reason}") in response.text
                    or ZH(f"survey.refused.{reason}") in response.text
                )
        zh = client.get(f"/s/{expired}?lang=zh-CN")
        assert ZH("survey.refused.expired") in zh.text
        assert responses(runtime) == []
