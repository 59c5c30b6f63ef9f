"""Templates and talk tracks in a real browser (Debian's Chromium driven by Playwright, same
launch settings as tests/web/test_browser.py). Screenshots go to test-artifacts/web/."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from tests.conftest import need
from tests.web.conftest import PASSWORD, web_app
from tests.web.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, free_port

from .conftest import LOGINS, ContentBook


@pytest.fixture
def server(content_book: ContentBook) -> Iterator[str]:
    """The app on the content book, served by uvicorn on a free local port, in a thread."""
    port = free_port()
    config = uvicorn.Config(
        web_app(content_book.runtime), host="127.0.0.1", port=port, log_level="warning",
        lifespan="on",
    )  # fmt: skip
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
    """A fresh Chromium page reading English, with its console errors collected."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        need("Chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            base_url=server, locale="en-US", viewport={"width": 1440, "height": 1000}
        )
        context.add_cookies([{"name": "lang", "value": "en", "url": server}])
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


def test_preview_a_template_and_search_talk_tracks_in_chromium(page: Any) -> None:
    page.goto("/login?next=/templates")
    page.fill("input[name=login]", LOGINS["admin"])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/templates")

    # Open the English usage check-in from the list (filtered as the user types).
    page.fill("#template-search", "usage")
    page.wait_for_function("document.querySelectorAll('#template-table tbody tr').length === 2")
    page.locator("#template-table tr[data-locale=en] a", has_text="Usage check-in").click()
    page.wait_for_selector("#template-form")

    # Preview it for Acme with Li Na: the account's real figures.
    page.fill("#preview-account", "ACME")
    page.fill("#preview-contact", "C2")
    page.click("#preview-submit")
    page.wait_for_selector("#preview-subject")
    assert page.inner_text("#preview-subject") == "Acme Manufacturing: a look at the last 30 days"
    text = page.inner_text("#preview-text")
    assert text.startswith("Hi Li Na,")
    assert "Core features in use: 50%" in text
    page.screenshot(path=str(ARTIFACTS / "template-preview.png"), full_page=True)

    # Typing in the editor re-renders the preview (unsaved); a misspelt variable shows its line.
    page.fill("#field-body", "Dear {{ contact.title }} of {{ account.name }}")
    page.wait_for_function(
        "document.querySelector('#preview-text') && "
        "document.querySelector('#preview-text').textContent === 'Dear CFO of Acme Manufacturing'"
    )
    page.fill("#field-body", "Dear\n{{ contact.titel }}")
    page.wait_for_selector("#preview-problems")
    assert "line 2" in page.inner_text("#preview-problems")
    assert "contact has no field 'titel' (did you mean 'title'?)" in page.inner_text(
        "#preview-problems"
    )

    # The talk-track library in Chinese.
    page.click("a.lang-switch[data-lang='zh-CN']")
    page.wait_for_function("document.documentElement.lang === 'zh-CN'")
    page.click("nav.mainnav >> text=话术库")
    page.wait_for_selector("#talk-track-results")
    assert page.locator("[data-talk-track]").count() == 12
    page.fill("#talk-track-search", "续约")
    page.wait_for_function("document.querySelectorAll('[data-talk-track]').length === 1")
    track = page.locator("[data-talk-track]").first
    assert track.get_attribute("data-key") == "renewal_terms"
    assert "续约条款" in track.inner_text()
    assert "q=%E7%BB%AD%E7%BA%A6" in page.url  # the search is in the address
    page.screenshot(path=str(ARTIFACTS / "talk-tracks-zh.png"), full_page=True)
    assert page.js_errors == []
