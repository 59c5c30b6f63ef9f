"""The hosted survey in a real browser: Debian's Chromium driven by Playwright against uvicorn.

Screenshots go to test-artifacts/surveys/ (git-ignored).
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import select
from tests.conftest import need
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, free_port

from tenure.accounts.models import User
from tenure.app import create_app
from tenure.auth import service as auth_service
from tenure.channels.secrets import load_key
from tenure.db import transaction
from tenure.engagement.outbox import utcnow
from tenure.feedback.models import NpsResponse
from tenure.kit.runtime import Runtime
from tenure.surveys.invitations import invite
from tenure.surveys.tokens import make_token, survey_key
from tenure.web.i18n import translator

from .conftest import SurveyBook, invitation_of, outbox, token_of

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "surveys"
TIMEOUT_MS = 15_000
ZH, EN = translator("zh-CN"), translator("en")
COMMENT = "报表功能很好用，每周节省半天时间。"


@pytest.fixture
def server(runtime: Runtime, survey_book: SurveyBook) -> Iterator[str]:
    """The app served by uvicorn on a free local port, in a thread."""
    port = free_port()
    config = uvicorn.Config(
        create_app(runtime), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def page(server: str) -> Iterator[Any]:
    """A fresh Chromium page of a browser that never signed in to Tenure."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        need("Chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            base_url=server, locale="en-US", viewport={"width": 1100, "height": 900}
        )
        tab = context.new_page()
        tab.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        tab.on(
            "response",
            lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        tab.js_errors = errors
        try:
            yield tab
        finally:
            context.close()
            browser.close()


@pytest.fixture
def api_token(runtime: Runtime, survey_book: SurveyBook) -> str:
    """A read token of Alice, the account's CSM."""
    with transaction(runtime.sessions) as s:
        alice = s.get_one(User, survey_book["alice"])
        plain, _ = auth_service.create_api_token(
            s, user=alice, name="browser-test", scopes=["read"], actor="test"
        )
    return plain


def test_answer_in_chinese_then_refusals(
    page: Any, runtime: Runtime, survey_book: SurveyBook, api_token: str
) -> None:
    with transaction(runtime.sessions) as s:
        invite(
            s, config=runtime.config.engagement, home=runtime.settings.home,
            account_id=survey_book["ACME"], contact_ids=[survey_book["C-EN"]],
            source="survey:test",
        )  # fmt: skip
        link = outbox(s)[0].links["survey"]
    assert link.startswith(runtime.config.engagement.base_url + "/s/")
    path = f"/s/{token_of(link)}"

    # The contact reads English; they switch to Chinese, answer 9 and comment.
    page.goto(path)
    assert page.locator("html").get_attribute("lang") == "en"
    assert EN("survey.question") in page.inner_text("body")
    assert page.locator(".nps-scale label").count() == 11
    page.click("a.lang-switch[data-lang='zh-CN']")
    page.wait_for_function("document.documentElement.lang === 'zh-CN'")
    assert ZH("survey.question") in page.inner_text("body")
    page.click("label[for=score-9]")
    assert page.locator("#score-9").is_checked()
    page.fill("#survey-comment", COMMENT)
    page.screenshot(path=str(ARTIFACTS / "survey-zh.png"), full_page=True)
    page.click("#survey-submit")
    page.wait_for_selector("#survey-thanks")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert ZH("survey.thanks_title") in page.inner_text("#survey-thanks")
    assert ZH("survey.thanks_body", score=9) in page.inner_text("#survey-thanks")
    page.screenshot(path=str(ARTIFACTS / "thanks-zh.png"), full_page=True)
    assert page.js_errors == []

    with runtime.sessions() as s:
        rows = s.scalars(select(NpsResponse)).all()
        invitation = invitation_of(s, survey_book["C-EN"])
        assert [(r.score, r.comment, r.contact_id, r.external_id) for r in rows] == [
            (9, COMMENT, survey_book["C-EN"], f"survey:{invitation.id}")
        ]

    auth = {"Authorization": f"Bearer {api_token}"}
    stats = page.request.get("/api/v1/surveys/nps/stats?account=ACME", headers=auth).json()
    assert (stats["sent"], stats["responded"], stats["promoters"], stats["nps"]) == (
        1, 1, 1, 100.0,
    )  # fmt: skip
    account = page.request.get("/api/v1/accounts/ACME", headers=auth).json()
    assert (account["last_nps"]["score"], account["last_nps"]["comment"]) == (9, COMMENT)

    # The same link once expired, and a link with one character changed.
    key = survey_key(load_key(runtime.settings.home))
    with transaction(runtime.sessions) as s:
        invitation = invitation_of(s, survey_book["C-EN"])
        past = utcnow().replace(microsecond=0) - dt.timedelta(hours=1)
        invitation.expires_at = past
        expired = make_token(key, invitation.id, invitation.nonce, past)
    response = page.goto(f"/s/{expired}?lang=zh-CN")
    assert response.status == 410
    assert page.locator("#survey-refused").get_attribute("data-reason") == "expired"
    assert ZH("survey.refused.expired") in page.inner_text("#survey-refused")
    assert page.locator("#survey-form").count() == 0
    page.screenshot(path=str(ARTIFACTS / "refused-expired-zh.png"), full_page=True)

    tampered = path[:-2] + ("A" if path[-2] != "A" else "B") + path[-1]
    response = page.goto(tampered)
    assert response.status == 400
    assert page.locator("#survey-refused").get_attribute("data-reason") == "tampered"
    assert EN("survey.refused.tampered") in page.inner_text("#survey-refused")
    page.screenshot(path=str(ARTIFACTS / "refused-tampered-en.png"), full_page=True)
    with runtime.sessions() as s:
        assert len(s.scalars(select(NpsResponse)).all()) == 1
