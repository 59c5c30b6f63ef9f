"""The web UI in a real browser: Debian's Chromium driven by Playwright against uvicorn.

Screenshots go to test-artifacts/web/ (git-ignored).
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from tests.conftest import need

from tenure.accounts.models import User
from tenure.db import transaction
from tenure.kit.runtime import Runtime

from .conftest import LOGIN, PASSWORD, give_password, web_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
TIMEOUT_MS = 15_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def server(runtime: Runtime, book: dict[str, int]) -> Iterator[str]:
    """The app served by uvicorn on a free local port, in a thread."""
    port = free_port()
    config = uvicorn.Config(
        web_app(runtime), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
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


def sign_in(page: Any) -> None:
    page.goto("/")
    assert "/login" in page.url
    page.fill("input[name=login]", LOGIN)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_dashboard_accounts_and_language_in_chromium(page: Any) -> None:
    sign_in(page)
    page.wait_for_selector('[data-chart="quadrant"] canvas')
    for chart in ("quadrant", "health", "funnel", "trend"):
        assert page.locator(f'[data-chart="{chart}"] canvas').count() >= 1
    assert page.locator('[data-kpi="accounts"] .kpi-value').inner_text() == "3"
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    page.click("nav.mainnav >> text=Accounts")
    page.wait_for_selector("#account-table")
    assert page.locator("#account-table tbody tr").count() == 5
    page.select_option("select[name=quadrant]", "growth")
    page.wait_for_function("document.querySelectorAll('#account-table tbody tr').length === 1")
    assert "quadrant=growth" in page.url  # hx-push-url keeps the filter in the address
    assert page.locator("#account-table tbody tr").first.get_attribute("data-account") == "BETA"
    page.select_option("select[name=quadrant]", "")
    page.fill("#account-search", "acme")
    page.wait_for_function(
        "document.querySelectorAll('#account-table tbody tr').length === 1 && "
        "document.querySelector('#account-table tbody tr').dataset.account === 'ACME'"
    )
    page.screenshot(path=str(ARTIFACTS / "accounts.png"), full_page=True)

    page.click("#account-table >> text=Acme Manufacturing")
    page.wait_for_url("**/accounts/ACME")
    page.wait_for_selector('[data-chart="trend"] canvas')
    assert "92.3" in page.locator("#health-breakdown").inner_text()
    page.screenshot(path=str(ARTIFACTS / "account-360.png"), full_page=True)

    page.click("a.lang-switch[data-lang='zh-CN']")
    page.wait_for_url("**/accounts/ACME")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "健康度：各指标贡献" in page.inner_text("body")
    assert "战略伙伴" in page.inner_text("body")
    page.screenshot(path=str(ARTIFACTS / "account-360-zh.png"), full_page=True)

    page.goto("/alerts")
    page.wait_for_selector("#alert-table")
    assert page.locator("#alert-table tbody tr").count() == 3
    page.screenshot(path=str(ARTIFACTS / "alerts-zh.png"), full_page=True)

    # Alice owns Gamma: acknowledge its alert, then dismiss it with a reason (a prompt).
    gamma = page.locator("#alert-table tbody tr", has_text="Gamma Tech")
    gamma.locator("[data-alert-action=acknowledge]").click()
    page.wait_for_function(
        "!!document.querySelector('#alert-table tr[data-alert] [data-alert-action=resolve]')"
    )
    assert "已确认" in page.locator("#alert-table tbody tr", has_text="Gamma Tech").inner_text()
    page.once("dialog", lambda dialog: dialog.accept("客户已续约"))
    page.locator("#alert-table tbody tr", has_text="Gamma Tech").locator(
        "[data-alert-action=dismiss]"
    ).click()
    page.wait_for_function("document.querySelectorAll('#alert-table tbody tr').length === 2")
    assert page.locator("#alert-table tbody tr", has_text="Gamma Tech").count() == 0
    assert page.js_errors == []


def test_settings_validation_and_save_in_chromium(page: Any, runtime: Runtime) -> None:
    # Carol is an admin here: she edits the rules in the settings form.
    with transaction(runtime.sessions) as s:
        s.query(User).filter_by(email="carol@example.com").one().role = "admin"
    give_password(runtime, "carol@example.com")
    page.goto("/login?next=/settings")
    page.fill("input[name=login]", "carol@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/settings")
    expression = page.locator('textarea[name="risk.rules[0].expression"]')
    assert expression.input_value() == "days_since_login >= 7"
    assert page.locator("#version-table").count() == 0
    page.screenshot(path=str(ARTIFACTS / "settings.png"), full_page=True)

    # A misspelt feature: nothing is saved, the error sits next to the field, input kept.
    expression.fill("days_since_logn >= 10")
    page.fill('input[name="risk.rules[0].name"]', "No login for 10 days")
    page.click("#settings-submit")
    page.wait_for_selector("#settings-error")
    error = page.locator('[data-error-for="risk.rules[0].expression"]').first.inner_text()
    assert error.startswith(
        "risk.rules[0].expression: unknown feature 'days_since_logn' "
        "(did you mean 'days_since_login'?)"
    )
    assert page.locator('textarea[name="risk.rules[0].expression"]').input_value() == (
        "days_since_logn >= 10"
    )
    assert page.locator('input[name="risk.rules[0].name"]').input_value() == (
        "No login for 10 days"
    )
    page.screenshot(path=str(ARTIFACTS / "settings-error.png"), full_page=True)

    # Fixed: saved as version 1, listed in the history.
    page.fill('textarea[name="risk.rules[0].expression"]', "days_since_login >= 10")
    page.fill("input[name=comment]", "Ten days without a login")
    page.click("#settings-submit")
    page.wait_for_url("**/settings?saved=1")
    assert "Saved as version 1." in page.locator("#settings-saved").inner_text()
    row = page.locator('#version-table tr[data-version="1"]').inner_text()
    assert "carol@example.com" in row and "Ten days without a login" in row
    assert page.locator('textarea[name="risk.rules[0].expression"]').input_value() == (
        "days_since_login >= 10"
    )
    page.screenshot(path=str(ARTIFACTS / "settings-saved.png"), full_page=True)
    # The refused save answered 422 (the form again, with its problems; Chromium logs the
    # status); nothing else failed.
    refused = [e for e in page.js_errors if e.startswith("422 ") or "status of 422" in e]
    assert len(refused) == 2
    assert [e for e in page.js_errors if e not in refused] == []


def test_assign_an_alert_in_chromium(page: Any) -> None:
    sign_in(page)
    page.goto("/alerts")
    page.wait_for_selector("#alert-table")
    gamma = page.locator("#alert-table tbody tr", has_text="Gamma Tech")
    gamma.locator("select.assign-select").select_option("u-carol")
    gamma.locator("[data-alert-action=assign]").click()
    page.wait_for_function(
        "(() => { const r = [...document.querySelectorAll('#alert-table tr[data-alert]')]"
        ".find(r => r.textContent.includes('Gamma Tech'));"
        " return !!r && r.textContent.includes('Carol Wu'); })()"
    )
    page.screenshot(path=str(ARTIFACTS / "alerts-assigned.png"), full_page=True)
    assert page.js_errors == []
