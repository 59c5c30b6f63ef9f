"""The channels page in a real browser: add a WeCom robot, press Test, see the outcome.

Debian's Chromium driven by Playwright against uvicorn (launched as tests/web/test_browser.py
does); the robot API is a local server. Screenshots go to test-artifacts/web/.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from tests.conftest import need
from tests.web.conftest import web_app
from tests.web.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS

from tenure.accounts.models import User
from tenure.auth.passwords import hash_password
from tenure.db import transaction
from tenure.kit.runtime import Runtime

from .conftest import Answer, Received, VendorServer, free_port

PASSWORD = "correct horse battery staple"
ROBOT_KEY = "robot-key-0001"


@pytest.fixture
def server(runtime: Runtime) -> Iterator[str]:
    """The app, with an admin who can sign in, served by uvicorn on a free local port."""
    with transaction(runtime.sessions) as s:
        s.add(User(external_id="root", email="root@example.com", name="Root", role="admin",
                   password_hash=hash_password(PASSWORD)))  # fmt: skip
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


def wecom_robot(received: Received) -> Answer:
    ok = received.path == "/cgi-bin/webhook/send" and received.query.get("key") == ROBOT_KEY
    body = {"errcode": 0, "errmsg": "ok"} if ok else {"errcode": 93000, "errmsg": "invalid"}
    return 200, "application/json", json.dumps(body).encode()


def test_add_a_robot_and_test_it_in_chromium(
    page: Any, vendor_server: Callable[..., VendorServer]
) -> None:
    robot = vendor_server(wecom_robot)
    page.goto("/login?next=/settings/channels")
    page.fill("input[name=login]", "root@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/settings/channels")
    assert page.locator("#no-endpoints").count() == 1

    page.click("#add-email > summary")
    assert page.locator('#add-form-email select[name="settings.security"]').input_value() == (
        "starttls"
    )
    page.screenshot(path=str(ARTIFACTS / "channels-email-form.png"), full_page=True)
    page.click("#add-email > summary")
    page.click("#add-wecom > summary")
    form = page.locator("#add-form-wecom")
    form.locator("input[name=name]").fill("Acme group")
    form.locator('input[name="settings.base_url"]').fill(robot.url)
    secret = form.locator('input[name="secrets.key"]')
    assert secret.get_attribute("type") == "password"
    assert form.locator('[data-secret="key"]').inner_text() == "not set"
    secret.fill(ROBOT_KEY)
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#channels-saved")
    row = page.locator("#endpoint-table tbody tr", has_text="Acme group")
    assert "key" in row.inner_text() and ROBOT_KEY not in page.content()
    page.screenshot(path=str(ARTIFACTS / "channels.png"), full_page=True)

    # The Test button posts with HTMX (CSRF header added by app.js) and shows the outcome.
    row.locator("button[data-test]").click()
    page.wait_for_selector("#endpoint-table [data-test-ok]")
    assert row.locator("[data-test-ok]").get_attribute("data-test-ok") == "true"
    assert "Delivered" in row.inner_text()
    (request,) = robot.received
    assert json.loads(request.body)["msgtype"] == "markdown"
    page.screenshot(path=str(ARTIFACTS / "channels-tested.png"), full_page=True)
    assert page.js_errors == []
