"""The settings page (read by all, saved by admins) and the alert queue's assign action."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from tenure.accounts.models import User
from tenure.configs.models import ConfigVersion
from tenure.db import transaction
from tenure.kit.runtime import Runtime
from tenure.web.settings_pages import build_document, form_from_post, form_key

from .conftest import give_password, sign_in, web_app

BAD_EXPRESSION = (
    "risk.rules[0].expression: unknown feature 'days_since_logn' (did you mean 'days_since_login'?)"
)


class FormFields(HTMLParser):
    """The fields a browser would send for the form with id `form_id`."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside = form_id, False
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._first: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            if a.get("type") != "checkbox" or "checked" in a:
                self.fields[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select, self._first = name, None
        elif tag == "option" and self._select:
            if self._first is None:
                self._first = a.get("value", "")
                self.fields.setdefault(self._select, self._first)
            if "selected" in a:
                self.fields[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_fields(page: str, form_id: str = "settings-form") -> dict[str, str]:
    parser = FormFields(form_id)
    parser.feed(page)
    assert parser.fields, f"no form #{form_id} in the page"
    return parser.fields


def versions(runtime: Runtime) -> int:
    with runtime.sessions() as s:
        return s.query(ConfigVersion).count()


def client_as(runtime: Runtime, role: str, email: str = "carol@example.com") -> TestClient:
    with transaction(runtime.sessions) as s:
        s.query(User).filter(User.email.ilike(email)).one().role = role
    give_password(runtime, email)
    client = TestClient(web_app(runtime), cookies={"lang": "en"})
    sign_in(client, login=email)
    return client


@pytest.fixture
def admin(runtime: Runtime, book: dict[str, int]) -> TestClient:
    return client_as(runtime, "admin")


class TestSettingsPage:
    def test_visitors_sign_in_first(self, client: TestClient) -> None:
        response = client.get("/settings", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=%2Fsettings"

    def test_viewer_reads_but_cannot_save(self, runtime: Runtime, book: dict[str, int]) -> None:
        viewer = client_as(runtime, "viewer")
        page = viewer.get("/settings")
        assert page.status_code == 200
        text = html.unescape(page.text)
        assert 'id="settings-readonly"' in text
        assert 'id="settings-form"' not in text and "<input name=" not in text
        for shown in ("no_login_7d", "days_since_login >= 7", "Value scorecard", "Lifecycle"):
            assert shown in text
        assert 'data-key="value.current_weight">0.6<' in text
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert token
        refused = viewer.post(
            "/settings",
            data={"csrf_token": token.group(1), "value.current_weight": "0.5"},
            follow_redirects=False,
        )
        assert refused.status_code == 403
        assert "Only admins can change the settings." in refused.text
        assert versions(runtime) == 0

    def test_csm_is_read_only_too(self, alice: TestClient) -> None:
        page = alice.get("/settings").text
        assert 'id="settings-readonly"' in page and 'id="settings-form"' not in page

    def test_admin_saves_a_valid_change_as_a_new_version(
        self, admin: TestClient, runtime: Runtime
    ) -> None:
        fields = form_fields(admin.get("/settings").text)
        assert fields["risk.rules[0].expression"] == "days_since_login >= 7"
        assert fields["base_version"] == ""
        fields["risk.rules[0].expression"] = "days_since_login >= 10"
        fields["value.current_cutoff"] = "55"
        fields["comment"] = "longer login gap"
        saved = admin.post("/settings", data=fields, follow_redirects=False)
        assert saved.status_code == 303, saved.text
        assert saved.headers["location"] == "/settings?saved=1"
        page = admin.get(saved.headers["location"]).text
        assert "Saved as version 1." in page
        row = re.search(r'<tr data-version="1">(.*?)</tr>', page, re.S)
        assert row and "carol@example.com" in row.group(1) and "longer login gap" in row.group(1)
        assert form_fields(page)["risk.rules[0].expression"] == "days_since_login >= 10"
        assert form_fields(page)["base_version"] == "1"
        # The same versioning as PUT /api/v1/config: the API and tenure.toml see the change.
        config = admin.get("/api/v1/config").json()
        assert config["version"] == 1
        assert config["config"]["risk"]["rules"][0]["expression"] == "days_since_login >= 10"
        assert config["config"]["value"]["current_cutoff"] == 55
        assert "days_since_login >= 10" in runtime.settings.config_path.read_text("utf-8")
        # Untouched sections stay as they were.
        assert config["config"]["features"]["login_events"] == ["login"]

    def test_invalid_rule_shows_the_key_and_keeps_the_input(
        self, admin: TestClient, runtime: Runtime
    ) -> None:
        fields = form_fields(admin.get("/settings").text)
        fields["risk.rules[0].expression"] = "days_since_logn >= 7"
        fields["risk.rules[0].name"] = "Renamed rule"
        fields["health.measures[0].weight"] = "heavy"
        refused = admin.post("/settings", data=fields)
        assert refused.status_code == 422
        text = html.unescape(refused.text)
        assert BAD_EXPRESSION in text
        # Next to the field, too, and the field is marked.
        assert re.search(
            r'data-error-for="risk\.rules\[0\]\.expression">' + re.escape(BAD_EXPRESSION), text
        )
        assert 'data-error-for="health.measures[0].weight"' in text
        again = form_fields(refused.text)
        assert again["risk.rules[0].expression"] == "days_since_logn >= 7"
        assert again["risk.rules[0].name"] == "Renamed rule"
        assert again["health.measures[0].weight"] == "heavy"
        assert versions(runtime) == 0
        assert admin.get("/api/v1/config").json()["version"] is None

    def test_new_and_removed_rules_keep_their_form_rows(
        self, admin: TestClient, runtime: Runtime
    ) -> None:
        fields = form_fields(admin.get("/settings").text)
        rules = sorted({int(k) for k in re.findall(r"risk\.rules\[(\d+)\]\.id", " ".join(fields))})
        new = rules[-1]  # the blank row for a new rule
        assert fields[f"risk.rules[{new}].id"] == ""
        fields["risk.rules[0].delete"] = "1"
        fields.update(
            {
                f"risk.rules[{new}].id": "quiet_admin",
                f"risk.rules[{new}].name": "Admins gone quiet",
                f"risk.rules[{new}].expression": "days_since_login >= 30 and nope > 1",
            }
        )
        text = html.unescape(admin.post("/settings", data=fields).text)
        assert f'data-error-for="risk.rules[{new}].expression"' in text
        assert versions(runtime) == 0
        fields[f"risk.rules[{new}].expression"] = "days_since_login >= 30"
        assert admin.post("/settings", data=fields, follow_redirects=False).status_code == 303
        rules_now = admin.get("/api/v1/config").json()["config"]["risk"]["rules"]
        ids = [r["id"] for r in rules_now]
        assert "no_login_7d" not in ids and ids[-1] == "quiet_admin"

    def test_a_stale_form_is_refused(self, admin: TestClient, runtime: Runtime) -> None:
        stale = form_fields(admin.get("/settings").text)
        fresh = dict(stale, comment="first")
        assert admin.post("/settings", data=fresh, follow_redirects=False).status_code == 303
        stale["value.current_cutoff"] = "60"
        refused = admin.post("/settings", data=stale)
        assert refused.status_code == 409
        assert "Someone saved the settings after you opened this page" in refused.text
        assert form_fields(refused.text)["value.current_cutoff"] == "60"
        assert versions(runtime) == 1

    def test_save_needs_the_csrf_token(self, admin: TestClient, runtime: Runtime) -> None:
        fields = form_fields(admin.get("/settings").text)
        fields["csrf_token"] = "wrong"
        assert admin.post("/settings", data=fields).status_code == 403
        assert versions(runtime) == 0

    def test_chinese_page(self, admin: TestClient) -> None:
        admin.cookies.set("lang", "zh-CN")
        page = admin.get("/settings").text
        assert "风险规则" in page and "版本历史" in page and "保存为新版本" in page


class TestFormMapping:
    def test_problem_keys_follow_the_form_rows(self) -> None:
        form = form_from_post(
            {
                "risk.rules[0].id": "a",
                "risk.rules[0].name": "A",
                "risk.rules[0].expression": "x",
                "risk.rules[0].delete": "1",
                "risk.rules[3].id": "b",
                "risk.rules[3].name": "B",
                "risk.rules[3].expression": "y",
                "risk.rules[4].category": "other",  # the blank new-rule row
            }
        )
        assert form.rules == [0, 3]
        document, rows = build_document(form, {})
        assert [r["id"] for r in document["risk"]["rules"]] == ["b"]
        assert form_key("risk.rules[0].expression", rows) == "risk.rules[3].expression"
        assert form_key("value.current_weight", rows) == "value.current_weight"


class TestAssign:
    def test_csm_assigns_alerts_on_owned_accounts(
        self, alice: TestClient, book: dict[str, int]
    ) -> None:
        page = alice.get("/alerts").text
        gamma = page.split(f'data-alert="{book["gamma_critical"]}"')[1].split("</tr>")[0]
        assert f'data-url="/api/v1/alerts/{book["gamma_critical"]}/assign"' in gamma
        assert 'class="assign-select"' in gamma
        # The team is listed once per page; app.js copies it into each row's list.
        assert '<option value="u-carol"' in page.split('<template id="team-options">')[1]
        assert f'data-url="/api/v1/alerts/{book["beta_open"]}/assign"' not in page
        token = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert token
        url = f"/api/v1/alerts/{book['gamma_critical']}/assign"
        assert alice.post(url, json={"assignee": "u-carol"}).status_code == 403  # no token
        done = alice.post(
            url, json={"assignee": "u-carol"}, headers={"X-CSRF-Token": token.group(1)}
        )
        assert done.status_code == 200, done.text
        assert done.json()["assignee"]["external_id"] == "u-carol"
        row = alice.get("/alerts").text.split(f'data-alert="{book["gamma_critical"]}"')[1]
        row = row.split("</tr>")[0]
        assert "Carol Wu" in row and 'data-current="u-carol"' in row

    @pytest.mark.parametrize(("role", "shown"), [("manager", True), ("viewer", False)])
    def test_assign_follows_the_role(
        self, runtime: Runtime, book: dict[str, int], role: str, shown: bool
    ) -> None:
        client = client_as(runtime, role)
        page = client.get("/alerts").text
        assert (f'data-url="/api/v1/alerts/{book["beta_open"]}/assign"' in page) is shown
        assert (f'data-url="/api/v1/alerts/{book["beta_ack"]}/assign"' in page) is shown
