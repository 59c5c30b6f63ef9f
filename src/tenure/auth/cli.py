"""`tenure users` and `tenure tokens`: manage who signs in, from the shell (audited as "cli")."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from tenure.auth import service
from tenure.auth.clock import utcnow
from tenure.auth.schemas import TokenRead, UserRead
from tenure.auth.tokens import SCOPES
from tenure.errors import TenureError
from tenure.kit.cli import (
    DatabaseUrlOpt,
    HomeOpt,
    JsonOpt,
    console,
    err_console,
    fail,
    print_json,
)
from tenure.kit.console import NONE
from tenure.kit.pagination import Page
from tenure.kit.runtime import open_runtime

T = TypeVar("T")
ACTOR = "cli"
ROLES_HELP = ", ".join(service.ROLES)

users_app = typer.Typer(help="Manage the users who sign in to Tenure.", no_args_is_help=True)
tokens_app = typer.Typer(help="Issue, list and revoke API tokens.", no_args_is_help=True)

UserArg = Annotated[str, typer.Argument(metavar="USER", help="E-mail or external id.")]
PasswordStdinOpt = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first stdin line.")
]


@contextmanager
def _session(home: Path | None, database_url: str | None) -> Iterator[Session]:
    runtime = open_runtime(home, database_url)
    try:
        with runtime.sessions() as session:
            yield session
    finally:
        runtime.close()


def _run(home: Path | None, database_url: str | None, work: Callable[[Session], T]) -> T:
    """Run `work` in one transaction; a TenureError exits 1 with its message, nothing saved."""
    with _session(home, database_url) as session:
        try:
            result = work(session)
            session.commit()
            return result
        except TenureError as exc:
            session.rollback()
            raise fail(exc.message) from None


def _read_password(from_stdin: bool, given: str | None = None) -> str:
    if given is not None:
        return given
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise fail("--password-stdin given but stdin is empty")
        return line.rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@users_app.command("create")
def create_user(
    email: Annotated[str, typer.Argument(help="E-mail address (the sign-in login).")],
    name: Annotated[str, typer.Option(help="Full name.")],
    role: Annotated[str, typer.Option(help=f"One of {ROLES_HELP}.")] = "csm",
    department: Annotated[str | None, typer.Option(help="Team or department.")] = None,
    external_id: Annotated[
        str | None, typer.Option(help="Id in the source system (default: the e-mail).")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(help="The password (visible in shell history; prefer the prompt)."),
    ] = None,
    password_stdin: PasswordStdinOpt = False,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Add a user; the password is asked for unless --password or --password-stdin."""
    secret = _read_password(password_stdin, password)
    user = _run(
        home,
        database_url,
        lambda s: service.create_user(
            s,
            email=email,
            name=name,
            password=secret,
            role=role,
            department=department,
            external_id=external_id,
            actor=ACTOR,
        ),
    )
    console.print(f"created user {user.id} {user.email} ({user.role})")


@users_app.command("list")
def list_users(
    role: Annotated[str | None, typer.Option(help=f"Only this role: {ROLES_HELP}.")] = None,
    json_: JsonOpt = False,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """List users with their role and whether they may sign in."""

    def fetch(session: Session) -> Page[UserRead]:
        users, total = service.list_users(session, role=role)
        items = [UserRead.model_validate(u) for u in users]
        return Page(items=items, total=total, limit=max(total, 1), offset=0)

    page = _run(home, database_url, fetch)
    if json_:
        print_json(page.model_dump(mode="json"))
        return
    table = Table("id", "email", "name", "role", "department", "active")
    for u in page.items:
        active = "yes" if u.is_active else "[red]no[/red]"
        table.add_row(str(u.id), u.email, u.name, u.role, u.department or NONE, active)
    console.print(table)


@users_app.command("set-role")
def set_role(
    user: UserArg,
    role: Annotated[str, typer.Argument(help=f"One of {ROLES_HELP}.")],
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Give a user another role."""

    def work(session: Session) -> str:
        found = service.user_by_login(session, login=user)
        service.set_role(session, user=found, role=role, actor=ACTOR)
        return found.email

    email = _run(home, database_url, work)
    console.print(f"{email} is now {role}")


@users_app.command("reset-password")
def reset_password(
    user: UserArg,
    password_stdin: PasswordStdinOpt = False,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Set a user's password (asked for unless --password-stdin); signs out their sessions."""
    secret = _read_password(password_stdin)

    def work(session: Session) -> str:
        found = service.user_by_login(session, login=user)
        service.reset_password(session, user=found, password=secret, actor=ACTOR)
        return found.email

    email = _run(home, database_url, work)
    console.print(f"password of {email} changed; their sessions are signed out")


@users_app.command("deactivate")
def deactivate(
    user: UserArg,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Stop a user from signing in; their sessions and API tokens stop working."""

    def work(session: Session) -> str:
        found = service.user_by_login(session, login=user)
        service.deactivate_user(session, user=found, actor=ACTOR)
        return found.email

    email = _run(home, database_url, work)
    console.print(f"{email} is deactivated")


@tokens_app.command("create")
def create_token(
    user: Annotated[str, typer.Option("--user", help="Owner: e-mail or external id.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for.")],
    scope: Annotated[
        list[str], typer.Option("--scope", help=f"Repeatable; one of {', '.join(SCOPES)}.")
    ],
    expires_days: Annotated[
        int | None, typer.Option("--expires-days", min=1, help="Expire after this many days.")
    ] = None,
    json_: JsonOpt = False,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Issue an API token and print it once (only its hash is kept)."""

    def work(session: Session) -> tuple[str, TokenRead]:
        owner = service.user_by_login(session, login=user)
        expires_at = None
        if expires_days is not None:
            expires_at = utcnow() + dt.timedelta(days=expires_days)
        plain, token = service.create_api_token(
            session, user=owner, name=name, scopes=scope, expires_at=expires_at, actor=ACTOR
        )
        return plain, TokenRead.model_validate(token)

    plain, token = _run(home, database_url, work)
    if json_:
        print_json({**token.model_dump(mode="json"), "token": plain})
        return
    typer.echo(plain)
    err_console.print(
        f"token {token.id} {token.name!r} ({', '.join(token.scopes)}) for {user}: "
        "copy it now, it is not shown again"
    )


@tokens_app.command("list")
def list_tokens(
    user: Annotated[str | None, typer.Option("--user", help="Only this owner's tokens.")] = None,
    revoked: Annotated[bool, typer.Option("--revoked", help="Include revoked tokens.")] = False,
    json_: JsonOpt = False,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """List API tokens by display prefix (the tokens themselves are not kept)."""

    def fetch(session: Session) -> Page[TokenRead]:
        owner_id = None if user is None else service.user_by_login(session, login=user).id
        found, total = service.list_api_tokens(session, user_id=owner_id, include_revoked=revoked)
        items = [TokenRead.model_validate(t) for t in found]
        return Page(items=items, total=total, limit=max(total, 1), offset=0)

    page = _run(home, database_url, fetch)
    if json_:
        print_json(page.model_dump(mode="json"))
        return
    table = Table("id", "prefix", "name", "user", "scopes", "last used", "expires", "revoked")
    for t in page.items:
        table.add_row(
            str(t.id),
            f"{t.prefix}…",
            t.name,
            str(t.user_id),
            ", ".join(t.scopes),
            _when(t.last_used_at),
            _when(t.expires_at),
            _when(t.revoked_at),
        )
    console.print(table)


@tokens_app.command("revoke")
def revoke_token(
    token_id: Annotated[int, typer.Argument(metavar="ID", help="Token id (see `list`).")],
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Revoke an API token; it stops working at once."""

    def work(session: Session) -> TokenRead:
        token = service.get_api_token(session, token_id=token_id)
        service.revoke_api_token(session, token=token, actor=ACTOR)
        return TokenRead.model_validate(token)

    token = _run(home, database_url, work)
    console.print(f"token {token.id} {token.name!r} ({token.prefix}…) is revoked")


def _when(value: dt.datetime | None) -> str:
    return NONE if value is None else value.strftime("%Y-%m-%d %H:%M")
