"""Audit entries: JSON-safe snapshots, the actor, and listing."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from sqlalchemy.orm import Session

from tenure.accounts.models import Account, User
from tenure.auth import audit
from tenure.auth.deps import Principal
from tenure.db import transaction
from tenure.kit.runtime import Runtime


def test_snapshot_is_json_safe_and_never_holds_secrets(runtime: Runtime) -> None:
    with transaction(runtime.sessions) as session:
        user = User(external_id="u", email="u@x.org", name="U", password_hash="$argon2id$x")
        account = Account(
            external_id="A", name="A", customer_since=dt.date(2023, 4, 1), attributes={"k": 1}
        )
        session.add_all([user, account])
        session.flush()
        shot = audit.snapshot(account)
        assert shot["customer_since"] == "2023-04-01"
        assert shot["attributes"] == {"k": 1}
        assert isinstance(shot["created_at"], str)
        json.dumps(shot)  # must not raise
        assert "password_hash" not in audit.snapshot(user)
        assert audit.snapshot(account, ["name", "no_such"]) == {"name": "A"}


def test_json_safe_converts_nested_values() -> None:
    value = {
        "when": dt.datetime(2024, 1, 2, 3, 4),
        "n": Decimal("1.5"),
        "xs": (dt.date(2024, 1, 1),),
    }
    assert audit.json_safe(value) == {"when": "2024-01-02T03:04:00", "n": 1.5, "xs": ["2024-01-01"]}


def _record(session: Session, actor: Principal | str, entity_id: int) -> None:
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="account",
        entity_id=entity_id,
        before={"at": dt.date(2024, 1, 1)},
        after={"at": dt.date(2024, 2, 1)},
    )


def test_record_names_the_principal_and_lists_newest_first(runtime: Runtime) -> None:
    with transaction(runtime.sessions) as session:
        user = User(external_id="u", email="u@x.org", name="U", role="admin")
        session.add(user)
        session.flush()
        _record(session, Principal(user=user, via="session", scopes=frozenset({"read"})), 1)
        _record(session, "cli", 2)
        _record(session, "cli", 1)
        entries, total = audit.list_entries(session, entity="account", entity_id="1")
        assert total == 2
        assert [(e.actor, e.actor_id) for e in entries] == [("cli", None), ("u@x.org", user.id)]
        assert entries[1].before == {"at": "2024-01-01"}
        assert entries[1].after == {"at": "2024-02-01"}
        by_actor, total = audit.list_entries(session, actor="cli", limit=1)
        assert total == 2 and len(by_actor) == 1
