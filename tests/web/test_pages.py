"""The web pages through the HTTP client: sign-in, dashboard, accounts, Account 360, alerts."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tenure.accounts.models import User
from tenure.auth.deps import SESSION_COOKIE
from tenure.auth.models import UserSession
from tenure.db import transaction
from tenure.kit.runtime import Runtime
from tenure.scoring.models import ScoreSnapshot
from tenure.web import account_pages
from tenure.web.pages import LOGIN_CSRF_COOKIE

from .conftest import PASSWORD, form_token, give_password, sign_in, web_app


def kpi(html: str, name: str) -> str:
    """The number shown on the KPI tile `name`."""
    found = re.search(
        rf'data-kpi="{name}".*?class="kpi-value">(?:<span[^>]*>)?([^<]+)<', html, re.S
    )
    assert found, f"no KPI tile {name}"
    return found.group(1).strip()


def account_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-account="([^"]+)"', html)


def sessions(runtime: Runtime) -> int:
    with runtime.sessions() as s:
        return s.query(UserSession).count()


class TestSignIn:
    @pytest.mark.parametrize("path", ["/", "/accounts", "/accounts/ACME", "/alerts"])
    def test_pages_send_visitors_to_login(self, client: TestClient, path: str) -> None:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")

    def test_htmx_request_without_session_navigates_to_login(self, client: TestClient) -> None:
        response = client.get("/accounts?q=a", headers={"HX-Request": "true"})
        assert response.status_code == 204
        assert response.headers["hx-redirect"] == "/login?next=%2Faccounts%3Fq%3Da"

    def test_login_sets_a_secure_session_cookie_and_goes_back(self, client: TestClient) -> None:
        page = client.get("/login?next=/alerts")
        assert page.status_code == 200
        response = client.post(
            "/login",
            data={
                "login": "ALICE@example.com",
                "password": PASSWORD,
                "csrf_token": form_token(page.text),
                "next": "/alerts",
            },
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/alerts"
        cookie = next(
            h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)
        )
        assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
        assert "Secure" not in cookie  # plain HTTP here; Secure only behind TLS
        assert client.get("/alerts").status_code == 200

    def test_cookies_are_secure_over_tls(self, runtime: Runtime, book: dict[str, int]) -> None:
        with TestClient(web_app(runtime), base_url="https://testserver") as client:
            page = client.get("/login")
            assert "Secure" in page.headers["set-cookie"]  # the pre-session token too
            response = client.post(
                "/login",
                data={
                    "login": "alice@example.com",
                    "password": PASSWORD,
                    "csrf_token": form_token(page.text),
                },
                follow_redirects=False,
            )
        cookie = next(
            h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)
        )
        assert "Secure" in cookie and "HttpOnly" in cookie

    def test_wrong_password_shows_the_form_again(
        self, client: TestClient, runtime: Runtime
    ) -> None:
        page = client.get("/login")
        response = client.post(
            "/login",
            data={
                "login": "alice@example.com",
                "password": "nope" * 4,
                "csrf_token": form_token(page.text),
            },
        )
        assert response.status_code == 401
        assert "Wrong e-mail or password." in response.text
        assert sessions(runtime) == 0

    def test_failed_attempts_count_towards_the_throttle(self, client: TestClient) -> None:
        statuses = []
        for _ in range(6):
            token = form_token(client.get("/login").text)
            data = {"login": "alice@example.com", "password": "wrong" * 3, "csrf_token": token}
            statuses.append(client.post("/login", data=data).status_code)
        assert statuses == [401] * 5 + [429]
        token = form_token(client.get("/login").text)
        data = {"login": "alice@example.com", "password": PASSWORD, "csrf_token": token}
        throttled = client.post("/login", data=data)
        assert throttled.status_code == 429
        assert "Too many failed attempts" in throttled.text
        assert int(throttled.headers["retry-after"]) > 0

    def test_login_without_the_form_token_is_refused(
        self, client: TestClient, runtime: Runtime
    ) -> None:
        client.get("/login")  # the browser holds the pre-session cookie
        data = {"login": "alice@example.com", "password": PASSWORD}
        assert client.post("/login", data=data).status_code == 403
        forged = client.post("/login", data={**data, "csrf_token": "forged"})
        assert forged.status_code == 403
        client.cookies.delete(LOGIN_CSRF_COOKIE, path="/login")
        token_without_cookie = client.post("/login", data={**data, "csrf_token": "x" * 32})
        assert token_without_cookie.status_code == 403
        assert sessions(runtime) == 0

    def test_next_cannot_leave_the_site(self, client: TestClient) -> None:
        for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
            response = client.get(f"/lang/en?next={target}", follow_redirects=False)
            assert response.headers["location"] == "/"

    def test_logout_needs_the_csrf_token(self, alice: TestClient, runtime: Runtime) -> None:
        assert alice.post("/logout").status_code == 403
        assert sessions(runtime) == 1
        token = form_token(alice.get("/").text)
        response = alice.post("/logout", data={"csrf_token": token}, follow_redirects=False)
        assert response.status_code == 303
        assert sessions(runtime) == 0
        assert alice.get("/", follow_redirects=False).status_code == 303


class TestDashboard:
    def test_kpis_come_from_the_latest_snapshot(self, alice: TestClient) -> None:
        html = alice.get("/").text
        assert "Scores as of 2024-06-30" in html
        assert kpi(html, "accounts") == "3"
        assert kpi(html, "avg_health") == "52.3"  # (82 + 55 + 20) / 3
        assert kpi(html, "open_alerts") == "3"
        assert kpi(html, "arr_at_risk") == "130,000"  # Beta 30k + Gamma 80k + 20k
        assert "of 250,000 total" in html

    def test_charts_and_at_risk_list(self, alice: TestClient) -> None:
        html = alice.get("/").text
        for name in ("quadrant", "health", "funnel", "trend"):
            assert f'data-chart="{name}"' in html and f'id="chart-{name}"' in html
        assert '"name": "Strategic partner"' in html or '"name":"Strategic partner"' in html
        at_risk = html.split('id="at-risk"')[1].split("</table>")[0]
        assert at_risk.index("Gamma Tech") < at_risk.index("Beta Retail")  # lowest health first
        assert "Acme" not in at_risk

    def test_without_scores_the_dashboard_says_how_to_get_them(
        self, runtime: Runtime, book: dict[str, int]
    ) -> None:
        with transaction(runtime.sessions) as s:
            s.query(ScoreSnapshot).delete()
        with TestClient(web_app(runtime), cookies={"lang": "en"}) as client:
            sign_in(client)
            assert "No scores yet" in client.get("/").text


class TestLanguage:
    def test_switch_changes_every_label(self, alice: TestClient) -> None:
        english = alice.get("/accounts").text
        assert "Strategic partner" in english and "Accounts" in english
        response = alice.get("/lang/zh-CN?next=/accounts", follow_redirects=False)
        assert response.headers["location"] == "/accounts"
        chinese = alice.get("/accounts").text
        assert '<html lang="zh-CN">' in chinese
        assert "战略伙伴" in chinese and "客户列表" in chinese and "成熟期" in chinese
        assert "Strategic partner" not in chinese
        alice.get("/lang/en")
        assert "Strategic partner" in alice.get("/accounts").text

    def test_user_locale_then_accept_language(self, runtime: Runtime, book: dict[str, int]) -> None:
        with TestClient(web_app(runtime)) as client:
            login_page = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"})
            assert "Sign in" in login_page.text
            assert "登录" in client.get("/login", headers={"Accept-Language": "zh-TW"}).text
            sign_in(client)
            # Alice's locale is zh-CN: it wins over the browser's header.
            assert "总览" in client.get("/", headers={"Accept-Language": "en"}).text


class TestAccounts:
    def test_htmx_filter_returns_only_the_results(self, alice: TestClient) -> None:
        partial = alice.get("/accounts?quadrant=growth", headers={"HX-Request": "true"})
        assert partial.status_code == 200
        assert partial.text.lstrip().startswith('<section id="account-results"')
        assert "<html" not in partial.text
        assert account_rows(partial.text) == ["BETA"]
        full = alice.get("/accounts?quadrant=growth")
        assert "<html" in full.text and 'hx-get="/accounts"' in full.text
        assert 'hx-push-url="true"' in full.text

    def test_search_sort_and_filters(self, alice: TestClient) -> None:
        assert account_rows(alice.get("/accounts?q=gam").text) == ["GAMMA"]
        by_health = account_rows(alice.get("/accounts?sort=-health_score").text)
        assert by_health[:3] == ["ACME", "BETA", "GAMMA"]
        assert account_rows(alice.get("/accounts?at_risk=yes&sort=health_score").text) == [
            "GAMMA",
            "BETA",
        ]
        assert account_rows(alice.get("/accounts?owner=u-bob&sort=name").text) == ["BETA", "90210"]
        # A stale or hand-made value does not break the page: the filter is ignored.
        assert len(account_rows(alice.get("/accounts?quadrant=nonsense&sort=evil").text)) == 5

    def test_server_side_pages(self, alice: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(account_pages, "PAGE_SIZE", 2)
        first = alice.get("/accounts?sort=name").text
        assert account_rows(first) == ["ACME", "BETA"]
        assert "1-2 of 5" in first and 'rel="next"' in first and 'rel="prev"' not in first
        last = alice.get("/accounts?sort=name&page=3").text
        assert account_rows(last) == ["GAMMA"]  # Acme, Beta, Delta, Epsilon, Gamma
        assert 'rel="prev"' in last and 'rel="next"' not in last


class TestAccount360:
    def test_shows_each_measure_contribution(self, alice: TestClient) -> None:
        html = alice.get("/accounts/ACME").text
        breakdown = html.split('id="health-breakdown"')[1].split("</table>")[0]
        login_row = breakdown.split('data-measure="days_since_login"')[1].split("</tr>")[0]
        assert re.findall(r'class="num">([^<]+)<', login_row) == ["2.00", "92.3", "0.60", "55.4"]
        usage_row = breakdown.split('data-measure="core_usage"')[1].split("</tr>")[0]
        assert re.findall(r'class="num">([^<]+)<', usage_row) == ["0.50", "57.1", "0.40", "22.9"]
        assert "78.3" in breakdown.split("<tfoot>")[1]  # 55.4 + 22.9
        assert kpi(html, "rfm") == "545"
        assert kpi(html, "health") == "82.0"

    def test_profile_contacts_subscriptions_timeline(self, alice: TestClient) -> None:
        html = alice.get("/accounts/ACME").text
        assert "Acme Manufacturing" in html and "Cost reduction" in html
        contacts = html.split('id="contacts"')[1].split("</table>")[0]
        assert "Li Na" in contacts and "Decision maker" in contacts and "Document" in contacts
        assert "Opted out of sms" in contacts
        subscriptions = html.split('id="subscriptions"')[1].split("</table>")[0]
        assert "2025-06-30" in subscriptions and "120,000" in subscriptions
        timeline = html.split('id="timeline"')[1].split("</ol>")[0]
        assert timeline.index("Quarterly review") < timeline.index("Welcome pack")
        assert "3 tickets, 1 open, 2 complaints" in html

    def test_open_alerts_with_evidence(self, alice: TestClient) -> None:
        html = alice.get("/accounts/BETA").text
        alerts = html.split('id="account-alerts"')[1].split("</table>")[0]
        assert "Days since last login = <code>9</code>" in alerts
        assert "High" in alerts and "Acknowledged" in alerts

    def test_unknown_account_is_a_page_not_a_crash(self, alice: TestClient) -> None:
        response = alice.get("/accounts/NO-SUCH")
        assert response.status_code == 404
        assert "No account matches “NO-SUCH”." in response.text


class TestAlerts:
    def test_queue_filters_and_buttons(self, alice: TestClient, book: dict[str, int]) -> None:
        html = alice.get("/alerts").text
        rows = re.findall(r'<tr data-alert="(\d+)"', html)
        assert [int(r) for r in rows] == [
            book["gamma_critical"],
            book["beta_ack"],
            book["beta_open"],
        ]
        critical = alice.get("/alerts?severity=critical", headers={"HX-Request": "true"}).text
        assert re.findall(r'<tr data-alert="(\d+)"', critical) == [str(book["gamma_critical"])]
        # Alice is a csm: she works alerts on the accounts she owns (Gamma), not Bob's (Beta).
        assert f'data-url="/api/v1/alerts/{book["gamma_critical"]}/acknowledge"' in html
        assert f'data-url="/api/v1/alerts/{book["beta_open"]}/' not in html
        assert re.search(r'<meta name="csrf-token" content="[^"]+">', html)
        by_owner = alice.get("/alerts?owner=u-bob").text
        assert set(re.findall(r'<tr data-alert="(\d+)"', by_owner)) == {
            str(book["gamma_critical"]),
            str(book["beta_open"]),
            str(book["beta_ack"]),
        }

    @pytest.mark.parametrize(("role", "buttons"), [("manager", True), ("viewer", False)])
    def test_buttons_follow_the_role(
        self, runtime: Runtime, book: dict[str, int], role: str, buttons: bool
    ) -> None:
        with transaction(runtime.sessions) as s:
            s.query(User).filter_by(email="carol@example.com").one().role = role
        give_password(runtime, "carol@example.com")
        with TestClient(web_app(runtime), cookies={"lang": "en"}) as client:
            sign_in(client, login="carol@example.com")
            html = client.get("/alerts").text
        ack = f'data-url="/api/v1/alerts/{book["beta_open"]}/acknowledge"'
        assert (ack in html) is buttons
        # An acknowledged alert can still be resolved or dismissed, not acknowledged again.
        assert (f'data-url="/api/v1/alerts/{book["beta_ack"]}/resolve"' in html) is buttons
        assert f'data-url="/api/v1/alerts/{book["beta_ack"]}/acknowledge"' not in html

    def test_acknowledge_through_the_rest_api(
        self, alice: TestClient, book: dict[str, int]
    ) -> None:
        token = re.search(r'name="csrf-token" content="([^"]+)"', alice.get("/alerts").text)
        assert token
        url = f"/api/v1/alerts/{book['gamma_critical']}/acknowledge"
        assert alice.post(url).status_code == 403
        assert alice.post(url, headers={"X-CSRF-Token": token.group(1)}).status_code < 300
        html = alice.get("/alerts").text
        row = html.split(f'data-alert="{book["gamma_critical"]}"')[1].split("</tr>")[0]
        assert "Acknowledged" in row
        assert 'data-alert-action="resolve"' in row and 'data-field="note"' in row
        assert 'data-alert-action="acknowledge"' not in row
