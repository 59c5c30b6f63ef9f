"""`tenure outbox list | dispatch | retry | cancel` (the command functions, run as the CLI
runs them)."""

from __future__ import annotations

import json

import typer
from sqlalchemy import update
from typer.testing import CliRunner

from tenure.db import transaction
from tenure.engagement import cli_outbox
from tenure.engagement.models import OutboxMessage
from tenure.kit.runtime import Runtime

from .conftest_outbox import add_webhook, by_status, message, queue, running_receiver

app = typer.Typer()
app.command("list")(cli_outbox.list_command)
app.command("dispatch")(cli_outbox.dispatch_command)
app.command("retry")(cli_outbox.retry_command)
app.command("cancel")(cli_outbox.cancel_command)
runner = CliRunner()


def run(runtime: Runtime, *args: str) -> tuple[int, str]:
    result = runner.invoke(
        app, [*args, "--home", str(runtime.settings.home)], env={"COLUMNS": "200"}
    )
    return result.exit_code, result.output


def test_dispatch_sends_everything_due_and_says_what_happened(runtime: Runtime) -> None:
    with running_receiver() as receiver:
        add_webhook(runtime, receiver.url)
        queue(runtime, 3)
        receiver.answer_next(503)
        code, out = run(runtime, "dispatch", "--limit", "2")
    assert code == 0, out
    assert out.strip() == "sent 2, failed 1 (will retry), dead 0, skipped 0"
    assert by_status(runtime) == {"sent": 2, "failed": 1}
    # The first attempt of m-0 met the 503; two batches (of 2, then 1) sent the others.
    assert receiver.keys() == ["m-0", "m-1", "m-2"] and sorted(receiver.processed) == ["m-1", "m-2"]


def test_list_as_json_and_as_a_table(runtime: Runtime) -> None:
    [_, second] = queue(runtime, 2)
    with transaction(runtime.sessions) as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == second)
            .values(status="dead", attempts=8, last_error="HTTP 400: no such hook")
        )
    code, out = run(runtime, "list", "--json", "--status", "dead")
    assert code == 0, out
    page = json.loads(out)
    assert (page["total"], [m["id"] for m in page["items"]]) == (1, [second])
    assert page["items"][0]["last_error"] == "HTTP 400: no such hook"
    code, out = run(runtime, "list")
    assert code == 0 and "Outbox" in out and "HTTP 400: no such hook" in out
    assert "1–2 of 2 messages" in out
    code, out = run(runtime, "list", "--status", "lost")
    assert code == 2 and "unknown status 'lost'" in out


def test_retry_and_cancel(runtime: Runtime) -> None:
    [mid] = queue(runtime)
    code, out = run(runtime, "retry", str(mid))
    assert code == 1
    assert f"outbox message {mid} is queued; only dead or failed messages can be retried" in out
    code, out = run(runtime, "cancel", str(mid))
    assert (code, out.strip()) == (0, f"message {mid} is cancelled")
    assert message(runtime, mid).status == "cancelled"
    with transaction(runtime.sessions) as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id == mid).values(status="dead"))
    code, out = run(runtime, "retry", str(mid), "--json")
    assert code == 0
    assert (json.loads(out)["status"], json.loads(out)["attempts"]) == ("queued", 0)
    code, out = run(runtime, "cancel", "999")
    assert code == 1 and "no outbox message has id 999" in out
