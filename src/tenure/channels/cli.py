"""`tenure channels`: list, add, remove and test delivery endpoints; make a secret key.

Changes are audited as "cli". Secrets are given with `--secret key=value` (visible in the
shell history) or, better, as `key=value` lines on stdin with `--secrets-stdin`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from cryptography.fernet import Fernet
from pydantic import ValidationError
from rich.table import Table
from sqlalchemy.orm import Session

from tenure.channels import sending, service
from tenure.channels.base import Recipient
from tenure.channels.schemas import EndpointCreate
from tenure.errors import TenureError
from tenure.kit.cli import DatabaseUrlOpt, HomeOpt, JsonOpt, console, fail, print_json
from tenure.kit.console import NONE
from tenure.kit.runtime import open_runtime

T = TypeVar("T")
ACTOR = "cli"

app = typer.Typer(
    help="Delivery channels: list, add, remove and test endpoints; make a secret key.",
    no_args_is_help=True,
)

EndpointArg = Annotated[str, typer.Argument(metavar="ENDPOINT", help="Endpoint name or id.")]


def _run(home: Path | None, database_url: str | None, work: Callable[[Session, bytes], T]) -> T:
    """Run `work` with a session and the secret key in one transaction; a TenureError
    exits 1 with its message (and each field's problem), nothing saved."""
    runtime = open_runtime(home, database_url)
    try:
        with runtime.sessions() as session:
            try:
                result = work(session, sending.secret_key(runtime.settings.home))
                session.commit()
                return result
            except TenureError as exc:
                session.rollback()
                problems = getattr(exc, "problems", None) or []
                lines = [f"  {field}: {problem}" for field, problem in problems]
                head = exc.message if not lines else "invalid endpoint:"
                raise fail("\n".join([head, *lines])) from None
    finally:
        runtime.close()


def _pairs(items: list[str], option: str) -> dict[str, str]:
    """`key=value` texts as a dict (a usage error naming `option` otherwise)."""
    pairs: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"{item!r} is not key=value", param_hint=option)
        pairs[name.strip()] = value
    return pairs


def _stdin_pairs() -> dict[str, str]:
    lines = [line.rstrip("\r\n") for line in sys.stdin if line.strip()]
    return _pairs(lines, "--secrets-stdin")


@app.command("list")
def list_endpoints(
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    json_: JsonOpt = False,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """List the configured endpoints (secrets show only as the names of those set)."""
    page = _run(
        home, database_url,
        lambda s, key: service.list_endpoints(s, key=key, kind=kind, limit=1000),
    )  # fmt: skip
    if json_:
        print_json([e.model_dump(mode="json") for e in page.items])
        return
    table = Table("id", "name", "kind", "account", "default", "enabled", "secrets", "last test")
    for e in page.items:
        secrets = "[red]unreadable[/red]" if e.secrets_error else ", ".join(e.secrets_set)
        table.add_row(
            str(e.id), e.name, e.kind, str(e.account_id) if e.account_id else NONE,
            "yes" if e.is_default else "", "yes" if e.enabled else "[dim]no[/dim]",
            secrets or NONE, e.last_test_result or NONE,
        )  # fmt: skip
    console.print(table)


@app.command("add")
def add_endpoint(
    name: Annotated[str, typer.Argument(help="A unique name for the endpoint.")],
    kind: Annotated[str, typer.Option(help="Plugin kind: email, webhook, slack, wecom, …")],
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="A setting as key=value (repeatable).")
    ] = None,
    secret: Annotated[
        list[str] | None,
        typer.Option(help="A secret as key=value (repeatable; visible in shell history)."),
    ] = None,
    secrets_stdin: Annotated[
        bool, typer.Option("--secrets-stdin", help="Read secrets as key=value lines on stdin.")
    ] = False,
    account: Annotated[
        str | None, typer.Option(help="The customer whose group chat it is (id or external id).")
    ] = None,
    default: Annotated[bool, typer.Option("--default", help="Make it its kind's default.")] = False,
    disabled: Annotated[bool, typer.Option("--disabled", help="Add it switched off.")] = False,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Add an endpoint; settings and secrets are checked against the plugin."""
    secrets: dict[str, Any] = _pairs(secret or [], "--secret")
    if secrets_stdin:
        secrets.update(_stdin_pairs())
    try:
        data = EndpointCreate(
            name=name, kind=kind, account=account, settings=dict(_pairs(set_ or [], "--set")),
            secrets=secrets, is_default=default, enabled=not disabled,
        )  # fmt: skip
    except ValidationError as exc:
        raise fail(str(exc)) from None
    created = _run(
        home,
        database_url,
        lambda s, key: service.create_endpoint(s, key=key, actor=ACTOR, data=data),
    )
    sealed = ", ".join(created.secrets_set) or "none"
    console.print(f"added endpoint {created.id} {created.name} ({created.kind}); secrets: {sealed}")


@app.command("remove")
def remove_endpoint(
    endpoint: EndpointArg, home: HomeOpt = None, database_url: DatabaseUrlOpt = None
) -> None:
    """Delete an endpoint."""

    def work(session: Session, key: bytes) -> int:
        endpoint_id = service.endpoint_id_of(session, ref=endpoint)
        service.delete_endpoint(session, key=key, actor=ACTOR, endpoint_id=endpoint_id)
        return endpoint_id

    removed = _run(home, database_url, work)
    console.print(f"removed endpoint {removed}")


@app.command("test")
def test_endpoint(
    endpoint: EndpointArg,
    to: Annotated[str | None, typer.Option(help="E-mail address for an e-mail endpoint.")] = None,
    mobile: Annotated[str | None, typer.Option(help="Mobile number to @-mention.")] = None,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Send a test message through an endpoint now; exits 1 when it fails."""

    def work(session: Session, key: bytes) -> Any:
        endpoint_id = service.endpoint_id_of(session, ref=endpoint)
        recipient = Recipient(email=to, mobile=mobile)
        return sending.test_send(
            session, key=key, actor=ACTOR, endpoint_id=endpoint_id, recipient=recipient
        )

    result = _run(home, database_url, work)
    if not result.ok:
        raise fail(result.result)
    console.print(result.result)


@app.command("keygen")
def keygen() -> None:
    """Print a new secret key (for TENURE_SECRET_KEY or <home>/secret.key)."""
    typer.echo(Fernet.generate_key().decode())
