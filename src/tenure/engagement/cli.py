"""`tenure playbooks`, `tenure tasks` and `tenure outbox` commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tenure.engagement import cli_outbox, service, tasks
from tenure.engagement.schemas import PlaybookPatch, PlaybookWrite
from tenure.errors import TenureError
from tenure.kit.cli import DatabaseUrlOpt, HomeOpt, JsonOpt, fail, print_json
from tenure.kit.console import add_columns, run_read
from tenure.kit.runtime import open_runtime

playbooks_app = typer.Typer(
    help="Playbooks: list, show, runs, edit, install the shipped ones, run the engine.",
    no_args_is_help=True,
)
tasks_app = typer.Typer(help="Tasks and cases created by playbooks for CSMs.", no_args_is_help=True)
outbox_app = typer.Typer(
    help="The outbox: list messages, dispatch, retry, cancel.", no_args_is_help=True
)
console = Console()


@playbooks_app.command("list")
def list_playbooks(
    home: HomeOpt = None, database_url: DatabaseUrlOpt = None, json_out: JsonOpt = False
) -> None:
    """Every playbook with its trigger, steps and run counts."""
    found = run_read(home, database_url, service.list_playbooks)
    if json_out:
        print_json([p.model_dump(mode="json") for p in found])
        return
    table = Table(title="Playbooks", header_style="bold")
    add_columns(table, [("Key", "left"), ("Name", "shrink"), ("Trigger", "left"),
                        ("Steps", "shrink"), ("On", "left"), ("Active", "right"),
                        ("Runs", "right"), ("Version", "right")])  # fmt: skip
    for p in found:
        steps = " → ".join(s["action"] for s in p.definition["steps"])
        table.add_row(
            p.key, escape(p.name), p.trigger_type, steps, "yes" if p.enabled else "no",
            str(p.runs_active), str(p.runs_total), str(p.version),
        )  # fmt: skip
    console.print(table)


@playbooks_app.command("show")
def show_playbook(
    key: Annotated[str, typer.Argument(help="The playbook key.")],
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """One playbook's definition (JSON)."""
    found = run_read(home, database_url, lambda s: service.read_playbook(s, key))
    print_json(found.model_dump(mode="json"))


@playbooks_app.command("runs")
def list_runs(
    account: Annotated[str | None, typer.Option(help="Account id or external id.")] = None,
    playbook: Annotated[str | None, typer.Option(help="Playbook key.")] = None,
    status: Annotated[
        str | None, typer.Option(help="active, completed, cancelled, failed.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 25,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Runs, newest first, with what fired them and each step's outcome."""
    page = run_read(
        home, database_url,
        lambda s: service.list_runs(s, account=account, playbook=playbook, status=status,
                                    with_steps=True, limit=limit),
        {"status": "--status", "limit": "--limit"},
    )  # fmt: skip
    if json_out:
        print_json(page.model_dump(mode="json"))
        return
    table = Table(title=f"Playbook runs ({page.total})", header_style="bold")
    add_columns(table, [("ID", "right"), ("Playbook", "left"), ("Account", "shrink"),
                        ("Status", "left"), ("Started", "left"), ("Trigger", "shrink"),
                        ("Steps", "shrink")])  # fmt: skip
    for run in page.items:
        steps = ", ".join(f"{s.action}:{s.outcome}" for s in run.steps)
        table.add_row(str(run.id), run.playbook_key, escape(run.account_name), run.status,
                      f"{run.started_at:%Y-%m-%d %H:%M}", run.trigger_key, steps)  # fmt: skip
    console.print(table)


@playbooks_app.command("install-shipped")
def install_shipped(home: HomeOpt = None, database_url: DatabaseUrlOpt = None) -> None:
    """Add or refresh the playbooks (and their templates) shipped from the strategy guide."""
    runtime = open_runtime(home, database_url)
    try:
        with runtime.sessions() as session:
            outcome = service.install_shipped(session, "cli")
            session.commit()
    finally:
        runtime.close()
    for key, what in outcome.items():
        console.print(f"{key}: {what}")


@playbooks_app.command("save")
def save_playbook(
    path: Annotated[Path, typer.Argument(help="A JSON file: key, name, definition, …")],
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Create a playbook from a JSON file, or update the one with its key."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise fail(f"{path}: {exc}") from None
    runtime = open_runtime(home, database_url)
    try:
        with runtime.sessions() as session:
            try:
                if session.scalar(service.exists(data.get("key"))):
                    patch = PlaybookPatch.model_validate(
                        {k: v for k, v in data.items() if k != "key"}
                    )
                    saved = service.update_playbook(session, "cli", data["key"], patch)
                else:
                    saved = service.create_playbook(
                        session, "cli", PlaybookWrite.model_validate(data)
                    )
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
                )
                raise fail(f"{path}: {problems}") from None
            except TenureError as exc:
                raise fail(f"{path}: {exc.message}") from None
            session.commit()
            console.print(f"saved {saved.key} (version {saved.version})")
    finally:
        runtime.close()


@playbooks_app.command("tick")
def tick(home: HomeOpt = None, database_url: DatabaseUrlOpt = None) -> None:
    """Run the engine once: enrol schedules for this period and advance due runs."""
    from tenure.engagement.engine import tick as engine_tick

    runtime = open_runtime(home, database_url)
    try:
        result = engine_tick(runtime)
    finally:
        runtime.close()
    a = result.advanced
    console.print(
        f"enrolled {result.enrolled}; advanced {a.runs} runs ({a.steps} steps): "
        f"{a.queued} queued, {a.blocked} blocked, {a.completed} completed, {a.failed} failed"
    )


@tasks_app.command("list")
def list_tasks(
    owner: Annotated[str | None, typer.Option(help="Owner's external id or e-mail.")] = None,
    account: Annotated[str | None, typer.Option(help="Account id or external id.")] = None,
    status: Annotated[str, typer.Option(help="open, done or cancelled.")] = "open",
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 25,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Tasks and cases, the most urgent first."""
    from tenure.accounts.service import resolve_user_id

    page = run_read(
        home, database_url,
        lambda s: tasks.list_tasks(
            s, owner_id=resolve_user_id(s, owner) if owner else None, account=account,
            status=status, limit=limit,
        ),
        {"status": "--status", "limit": "--limit"},
    )  # fmt: skip
    if json_out:
        print_json(page.model_dump(mode="json"))
        return
    table = Table(title=f"Tasks ({page.total})", header_style="bold")
    add_columns(table, [("ID", "right"), ("Kind", "left"), ("Title", "shrink"),
                        ("Account", "shrink"), ("Owner", "shrink"), ("Priority", "left"),
                        ("Due", "left")])  # fmt: skip
    for task in page.items:
        table.add_row(str(task.id), task.kind, escape(task.title), escape(task.account_name),
                      escape(task.owner_name or "—"), task.priority,
                      str(task.due_date or "—"))  # fmt: skip
    console.print(table)


@tasks_app.command("done")
def task_done(
    task_id: Annotated[int, typer.Argument(help="The task's id.")],
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Mark a task or case done."""
    runtime = open_runtime(home, database_url)
    try:
        with runtime.sessions() as session:
            try:
                task = tasks.set_task_status(session, "cli", task_id, "done")
            except TenureError as exc:
                raise fail(exc.message) from None
            session.commit()
    finally:
        runtime.close()
    console.print(f"task {task.id} done: {escape(task.title)}")


outbox_app.command("list")(cli_outbox.list_command)
outbox_app.command("dispatch")(cli_outbox.dispatch_command)
outbox_app.command("retry")(cli_outbox.retry_command)
outbox_app.command("cancel")(cli_outbox.cancel_command)
