"""The auth service: users, sign-in throttling, sessions, tokens, each change audited."""

from __future__ import annotations

import datetime as dt

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.accounts.models import User
from tenure.auth import service
from tenure.auth.clock import utcnow
from tenure.auth.models import AuditEntry, LoginAttempt, UserSession
from tenure.auth.passwords import WeakPassword, verify_password
from tenure.auth.tokens import InvalidScope, hash_token
from tenure.errors import ResourceAlreadyExists
from tenure.kit.runtime import Runtime

PASSWORD = "correct horse battery"
NOW = dt.datetime(2024, 6, 1, 12, 0, 0)


@pytest.fixture
def session(runtime: Runtime) -> Session:
    with runtime.sessions() as s:
        yield s  # type: ignore[misc]
        s.rollback()


def make_user(session: Session, email: str = "ann@example.com", role: str = "csm") -> User:
    return service.create_user(
        session, email=email, name="Ann", password=PASSWORD, role=role, actor="test"
    )


def entries(session: Session, action: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(session.scalars(query))


def fail_login(session: Session, login: str, ip: str, at: dt.datetime) -> None:
    with pytest.raises(service.InvalidCredentials):
        service.authenticate(session, login=login, password="wrong password", ip=ip, now=at)


class TestCreateUser:
    def test_password_is_stored_as_argon2id_never_plain(self, session: Session) -> None:
        user = make_user(session)
        assert user.password_hash is not None
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert verify_password(user.password_hash, PASSWORD)

    def test_email_is_lowercased_and_is_the_default_external_id(self, session: Session) -> None:
        user = make_user(session, email=" Ann@Example.COM ")
        assert (user.email, user.external_id) == ("ann@example.com", "ann@example.com")

    def test_same_email_in_other_case_exists_already(self, session: Session) -> None:
        make_user(session)
        with pytest.raises(ResourceAlreadyExists):
            make_user(session, email="ANN@example.com")

    def test_unknown_role_names_the_roles(self, session: Session) -> None:
        with pytest.raises(service.InvalidUser) as caught:
            make_user(session, role="owner")
        assert caught.value.message == "unknown role 'owner'; roles: admin, manager, csm, viewer"

    def test_weak_password_stores_nothing(self, session: Session) -> None:
        with pytest.raises(WeakPassword):
            service.create_user(
                session, email="b@example.com", name="B", password="short", actor="test"
            )
        assert session.scalars(select(User)).all() == []

    def test_audit_entry_has_the_user_but_not_the_hash(self, session: Session) -> None:
        user = make_user(session)
        [entry] = entries(session, "create")
        assert (entry.actor, entry.entity, entry.entity_id) == ("test", "user", str(user.id))
        assert entry.before is None
        assert entry.after is not None
        assert entry.after["email"] == "ann@example.com"
        assert entry.after["role"] == "csm"
        assert "password_hash" not in entry.after


class TestAuthenticate:
    def test_email_in_any_case_or_external_id_signs_in(self, session: Session) -> None:
        user = make_user(session)
        user.external_id = "U-7"
        for login in ("ANN@example.com", "U-7"):
            found = service.authenticate(session, login=login, password=PASSWORD, ip="1.1.1.1")
            assert found is user

    def test_unknown_login_and_wrong_password_get_the_same_message(self, session: Session) -> None:
        make_user(session)
        messages = set()
        for login, password in [("ann@example.com", "wrong one!"), ("nobody@x.org", PASSWORD)]:
            with pytest.raises(service.InvalidCredentials) as caught:
                service.authenticate(session, login=login, password=password, ip="1.1.1.1")
            messages.add(caught.value.message)
        assert messages == {"wrong e-mail or password"}

    def test_inactive_user_cannot_sign_in_with_the_right_password(self, session: Session) -> None:
        user = make_user(session)
        user.is_active = False
        with pytest.raises(service.InvalidCredentials, match="wrong e-mail or password"):
            service.authenticate(session, login=user.email, password=PASSWORD, ip=None)

    def test_every_attempt_is_recorded(self, session: Session) -> None:
        make_user(session)
        fail_login(session, "ann@example.com", "1.1.1.1", NOW)
        service.authenticate(session, login="ann@example.com", password=PASSWORD, ip="1.1.1.1")
        rows = session.scalars(select(LoginAttempt).order_by(LoginAttempt.id)).all()
        assert [(r.login, r.ip, r.succeeded) for r in rows] == [
            ("ann@example.com", "1.1.1.1", False),
            ("ann@example.com", "1.1.1.1", True),
        ]

    def test_sixth_attempt_is_refused_even_with_the_right_password(self, session: Session) -> None:
        make_user(session)
        for minute in range(5):
            fail_login(
                session, "ann@example.com", f"10.0.0.{minute}", NOW + dt.timedelta(minutes=minute)
            )
        with pytest.raises(service.TooManyAttempts) as caught:
            service.authenticate(
                session,
                login="ann@example.com",
                password=PASSWORD,
                ip="10.9.9.9",
                now=NOW + dt.timedelta(minutes=5),
            )
        # The oldest failure (at NOW) leaves the window at NOW + 15 minutes.
        assert caught.value.retry_after == 10 * 60
        assert caught.value.status_code == 429
        assert "try again in 600 seconds" in caught.value.message

    def test_refused_attempts_do_not_extend_the_window(self, session: Session) -> None:
        make_user(session)
        for _ in range(5):
            fail_login(session, "ann@example.com", "1.1.1.1", NOW)
        for minute in (1, 7, 14):
            with pytest.raises(service.TooManyAttempts):
                service.authenticate(
                    session,
                    login="ann@example.com",
                    password=PASSWORD,
                    ip="1.1.1.1",
                    now=NOW + dt.timedelta(minutes=minute),
                )
        later = NOW + dt.timedelta(minutes=15, seconds=1)
        user = service.authenticate(
            session, login="ann@example.com", password=PASSWORD, ip="1.1.1.1", now=later
        )
        assert user.email == "ann@example.com"

    def test_one_address_guessing_many_logins_is_throttled(self, session: Session) -> None:
        make_user(session)
        for n in range(5):
            fail_login(session, f"guess{n}@example.com", "6.6.6.6", NOW)
        with pytest.raises(service.TooManyAttempts):
            service.authenticate(
                session, login="ann@example.com", password=PASSWORD, ip="6.6.6.6", now=NOW
            )
        # The same login from another address is not affected.
        service.authenticate(
            session, login="ann@example.com", password=PASSWORD, ip="7.7.7.7", now=NOW
        )

    def test_a_success_forgives_the_logins_earlier_failures(self, session: Session) -> None:
        make_user(session)
        for n in range(4):
            fail_login(session, "ann@example.com", f"10.0.0.{n}", NOW)
        service.authenticate(
            session, login="ann@example.com", password=PASSWORD, ip="10.0.1.1", now=NOW
        )
        fail_login(session, "ann@example.com", "10.0.2.1", NOW + dt.timedelta(seconds=1))
        user = service.authenticate(
            session,
            login="ann@example.com",
            password=PASSWORD,
            ip="10.0.3.1",
            now=NOW + dt.timedelta(seconds=2),
        )
        assert user.email == "ann@example.com"

    def test_old_parameters_are_rehashed_on_sign_in(self, session: Session) -> None:
        user = make_user(session)
        weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
        user.password_hash = weak
        service.authenticate(session, login=user.email, password=PASSWORD, ip=None)
        assert user.password_hash != weak
        assert verify_password(user.password_hash, PASSWORD)


class TestUpdateUser:
    def test_role_change_is_audited_with_before_and_after(self, session: Session) -> None:
        user = make_user(session)
        service.set_role(session, user=user, role="manager", actor="boss@example.com")
        [entry] = entries(session, "update")
        assert entry.actor == "boss@example.com"
        assert entry.before is not None and entry.after is not None
        assert (entry.before["role"], entry.after["role"]) == ("csm", "manager")

    def test_the_last_active_admin_cannot_be_demoted_or_deactivated(self, session: Session) -> None:
        admin = make_user(session, "root@example.com", role="admin")
        with pytest.raises(service.LastAdmin):
            service.set_role(session, user=admin, role="viewer", actor="test")
        with pytest.raises(service.LastAdmin):
            service.deactivate_user(session, user=admin, actor="test")
        make_user(session, "second@example.com", role="admin")
        service.set_role(session, user=admin, role="viewer", actor="test")
        assert admin.role == "viewer"

    def test_deactivating_ends_the_users_sessions(self, session: Session) -> None:
        user = make_user(session)
        service.start_session(session, user=user)
        service.deactivate_user(session, user=user, actor="test")
        assert not user.is_active
        assert session.scalars(select(UserSession)).all() == []

    def test_unknown_field_is_refused(self, session: Session) -> None:
        user = make_user(session)
        with pytest.raises(service.InvalidUser, match="cannot change email"):
            service.update_user(session, user=user, changes={"email": "x@y.z"}, actor="t")


class TestResetPassword:
    def test_new_password_works_old_does_not_other_sessions_end(self, session: Session) -> None:
        user = make_user(session)
        _, keep = service.start_session(session, user=user)
        service.start_session(session, user=user)
        service.reset_password(
            session, user=user, password="a new long password", actor="test", keep_session=keep
        )
        assert verify_password(user.password_hash, "a new long password")
        assert not verify_password(user.password_hash, PASSWORD)
        assert session.scalars(select(UserSession)).all() == [keep]
        [entry] = entries(session, "reset_password")
        assert entry.entity_id == str(user.id)

    def test_weak_password_changes_nothing(self, session: Session) -> None:
        user = make_user(session)
        before = user.password_hash
        with pytest.raises(WeakPassword):
            service.reset_password(session, user=user, password="2short", actor="test")
        assert user.password_hash == before


class TestSessions:
    def test_session_lasts_14_days_and_keeps_only_the_cookie_hash(self, session: Session) -> None:
        user = make_user(session)
        cookie, row = service.start_session(session, user=user, ip="1.2.3.4", now=NOW)
        assert row.expires_at == NOW + dt.timedelta(days=14)
        assert row.token_hash == hash_token(cookie)
        assert cookie not in (row.token_hash, row.csrf_token)
        assert len(row.csrf_token) >= 32
        [entry] = entries(session, "login")
        assert entry.after == {"session_id": row.id, "ip": "1.2.3.4"}

    def test_end_session_deletes_it_and_is_audited(self, session: Session) -> None:
        user = make_user(session)
        _, row = service.start_session(session, user=user)
        service.end_session(session, user_session=row, actor=user.email)
        assert session.scalars(select(UserSession)).all() == []
        assert [e.action for e in entries(session)] == ["create", "login", "logout"]


class TestApiTokens:
    def test_admin_scope_is_only_for_admins(self, session: Session) -> None:
        user = make_user(session)
        with pytest.raises(InvalidScope, match="only for admins"):
            service.create_api_token(session, user=user, name="x", scopes=["admin"], actor="test")

    def test_create_and_revoke_are_audited_once(self, session: Session) -> None:
        user = make_user(session)
        _, token = service.create_api_token(
            session, user=user, name="ci", scopes=["read"], actor="test"
        )
        service.revoke_api_token(session, token=token, actor="test")
        service.revoke_api_token(session, token=token, actor="test")
        revokes = entries(session, "revoke")
        assert len(revokes) == 1
        assert revokes[0].before is not None and revokes[0].after is not None
        assert revokes[0].before["revoked_at"] is None
        assert revokes[0].after["revoked_at"] is not None
        created = entries(session, "create")[-1]
        assert created.entity == "api_token"
        assert created.after is not None and "token_hash" not in created.after

    def test_prune_removes_only_old_attempts(self, session: Session) -> None:
        now = utcnow()
        session.add_all(
            [
                LoginAttempt(login="a", ip=None, attempted_at=now - dt.timedelta(days=2)),
                LoginAttempt(login="a", ip=None, attempted_at=now),
            ]
        )
        session.flush()
        assert service.prune_login_attempts(session, now=now) == 1
        assert len(session.scalars(select(LoginAttempt)).all()) == 1
