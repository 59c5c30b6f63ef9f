"""`tenure templates` and `tenure talk-tracks`: read, preview and install the shipped content."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from sqlalchemy.orm import Session

from tenure.accounts.service import numeric_id, resolve_account_id
from tenure.content import compose, install, service
from tenure.content.render import Rendered
from tenure.content.schemas import PreviewResult, TalkTrackRead, TemplateRead
from tenure.errors import TenureError
from tenure.kit.cli import DatabaseUrlOpt, HomeOpt, JsonOpt, fail, print_json
from tenure.kit.console import NONE, add_columns, bad_option, key_value_grid, one_line
from tenure.kit.pagination import DEFAULT_LIMIT, InvalidQuery, Page
from tenure.kit.runtime import open_runtime

T = TypeVar("T")
ACTOR = "cli"
OPTIONS = {"locale": "--locale", "format": "--format", "limit": "--limit", "offset": "--offset"}

templates_app = typer.Typer(
    help="Message templates: list, show, preview, install the shipped ones.",
    no_args_is_help=True,
)
talk_tracks_app = typer.Typer(help="The talk-track library: search and show.", no_args_is_help=True)

LocaleOpt = Annotated[str | None, typer.Option(help="zh-CN or en.")]
FormatOpt = Annotated[str | None, typer.Option(help="any, video or document.")]
LimitOpt = Annotated[int, typer.Option(help="Rows per page.")]
OffsetOpt = Annotated[int, typer.Option(help="Rows to skip.")]


def _run(
    home: Path | None, database_url: str | None, work: Callable[[Session], T], *, commit: bool
) -> T:
    """Run `work` in one session: a bad option exits 2 naming it, any other refusal exits 1
    with its message (nothing saved)."""
    runtime = open_runtime(home, database_url)
    try:
        with runtime.sessions() as session:
            try:
                result = work(session)
                if commit:
                    session.commit()
                return result
            except InvalidQuery as exc:
                raise bad_option(exc, OPTIONS) from None
            except TenureError as exc:
                session.rollback()
                raise fail(exc.message) from None
    finally:
        runtime.close()


def _template(session: Session, ref: str, locale: str | None, format: str | None) -> TemplateRead:
    """A template by id, else the variant of key `ref` for the locale and format."""
    number = numeric_id(ref)
    if number is not None:
        return service.get_template(session, number)
    return TemplateRead.model_validate(service.pick_variant(session, ref, locale, format))


def _links(pairs: list[str]) -> dict[str, str]:
    links = {}
    for pair in pairs:
        name, sep, url = pair.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"{pair!r} is not NAME=URL", param_hint="--link")
        links[name] = url
    return links


@templates_app.command("list")
def list_command(
    key: Annotated[str | None, typer.Option(help="Only this template key.")] = None,
    locale: LocaleOpt = None,
    format: FormatOpt = None,
    search: Annotated[
        str | None, typer.Option("--search", "-q", help="Text in key or name.")
    ] = None,
    limit: LimitOpt = DEFAULT_LIMIT,
    offset: OffsetOpt = 0,
    json_out: JsonOpt = False,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """List template variants, by key, locale and format."""
    page = _run(home, database_url, lambda s: service.list_templates(
        s, key=key, locale=locale, format=format, q=search, limit=limit, offset=offset,
    ), commit=False)  # fmt: skip
    if json_out:
        print_json(page.model_dump(mode="json"))
        return
    table = Table(title="Templates", caption=_caption(page, "templates"), header_style="bold")
    add_columns(table, [("ID", "right"), ("Key", "left"), ("Locale", "left"),
                        ("Format", "left"), ("Name", "shrink"), ("Shipped", "left")])  # fmt: skip
    for t in page.items:
        table.add_row(str(t.id), escape(t.key), t.locale, t.format, one_line(escape(t.name)),
                      "yes" if t.shipped else "[yellow]edited[/]")  # fmt: skip
    Console().print(table)


def _caption(page: Page[T], noun: str) -> str:
    first = page.offset + 1 if page.items else 0
    caption = f"{first}–{page.offset + len(page.items)} of {page.total} {noun}"
    if page.offset + len(page.items) < page.total:
        caption += f" · next page: --offset {page.offset + len(page.items)}"
    return caption


@templates_app.command("show")
def show_command(
    template: Annotated[str, typer.Argument(metavar="TEMPLATE", help="Id, or key.")],
    locale: LocaleOpt = None,
    format: FormatOpt = None,
    json_out: JsonOpt = False,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Show a template by id, or the variant of a key a contact of LOCALE and FORMAT gets."""
    found = _run(home, database_url, lambda s: _template(s, template, locale, format),
                 commit=False)  # fmt: skip
    if json_out:
        print_json(found.model_dump(mode="json"))
        return
    grid = key_value_grid()
    grid.add_row("Key", escape(found.key))
    grid.add_row("Variant", f"{found.locale} · {found.format}")
    grid.add_row("Name", escape(found.name))
    grid.add_row("Shipped", "yes" if found.shipped else "no (created or edited here)")
    grid.add_row("Subject", escape(found.subject) or NONE)
    out = Console()
    out.print(Panel(grid, title=f"Template {found.id}", expand=False))
    out.print(Panel(escape(found.body), title="Body", expand=False))
    if found.html:
        out.print(Panel(escape(found.html), title="HTML", expand=False))


def _print_rendered(rendered: Rendered | PreviewResult, show_html: bool) -> None:
    out = Console()
    out.print(f"[bold]Subject:[/bold] {escape(rendered.subject or '')}")
    out.print(Panel(escape(rendered.text or ""), title="Text", expand=False))
    if show_html and rendered.html:
        out.print(Panel(escape(rendered.html), title="HTML", expand=False))


@templates_app.command("preview")
def preview_command(
    template: Annotated[str, typer.Argument(metavar="TEMPLATE", help="Id, or key.")],
    account: Annotated[
        str | None, typer.Option(help="Account id or external id (default: sample data).")
    ] = None,
    contact: Annotated[str | None, typer.Option(help="Contact id or external id.")] = None,
    locale: LocaleOpt = None,
    format: FormatOpt = None,
    link: Annotated[
        list[str] | None, typer.Option(help="A link variable, NAME=URL (repeatable).")
    ] = None,
    html: Annotated[bool, typer.Option("--html", help="Show the HTML part too.")] = False,
    json_out: JsonOpt = False,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Render a template for an account (and contact), or for sample data.

    A key picks the variant as a send would: --locale/--format, else the contact's."""
    links = _links(link or [])

    def work(session: Session) -> PreviewResult:
        if account is not None and numeric_id(template) is None:
            account_id = resolve_account_id(session, account)
            contact_id = None
            if contact is not None:
                contact_id = compose.resolve_contact(session, contact, account_id)
            rendered = compose.render_for(
                session, template, account_id, contact_id, links, locale, format,
                extra={"alert": compose.sample_alert(locale)},
            )  # fmt: skip
            return PreviewResult(
                ok=True, sample=False, subject=rendered.subject, text=rendered.text,
                html=rendered.html, template_id=rendered.template_id, locale=rendered.locale,
                format=rendered.format,
            )  # fmt: skip
        found = _template(session, template, locale, format)
        return compose.preview(
            session, template_id=found.id, account=account, contact=contact, links=links
        )

    result = _run(home, database_url, work, commit=False)
    if json_out:
        print_json(result.model_dump(mode="json"))
    elif result.ok:
        _print_rendered(result, html)
    if not result.ok:
        for problem in result.problems:
            where = f" line {problem.line}" if problem.line else ""
            typer.echo(f"{problem.field}{where}: {problem.message}", err=True)
        raise typer.Exit(1)


@templates_app.command("install-shipped")
def install_shipped_command(
    json_out: JsonOpt = False,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Add the shipped templates and talk tracks; refresh the ones nobody edited."""
    report = _run(home, database_url, lambda s: install.install_shipped(s, ACTOR), commit=True)
    if json_out:
        print_json(dataclasses.asdict(report))
        return
    for noun, counts in (("templates", report.templates), ("talk tracks", report.talk_tracks)):
        typer.echo(
            f"{noun}: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged, {counts['kept']} kept (edited here)"
        )


@talk_tracks_app.command("search")
def search_command(
    query: Annotated[str | None, typer.Argument(help="Words to find (any case).")] = None,
    locale: LocaleOpt = None,
    tag: Annotated[str | None, typer.Option(help="Only talk tracks with this tag.")] = None,
    limit: LimitOpt = DEFAULT_LIMIT,
    offset: OffsetOpt = 0,
    json_out: JsonOpt = False,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Search talk tracks by topic, question, answer and tags (Chinese or English)."""
    page = _run(home, database_url, lambda s: service.search_talk_tracks(
        s, query, locale, tag, limit, offset), commit=False)  # fmt: skip
    if json_out:
        print_json(page.model_dump(mode="json"))
        return
    table = Table(title="Talk tracks", caption=_caption(page, "talk tracks"), header_style="bold")
    add_columns(table, [("ID", "right"), ("Key", "left"), ("Locale", "left"), ("Topic", "shrink"),
                        ("Question", "shrink"), ("Tags", "shrink")])  # fmt: skip
    for t in page.items:
        tags = one_line(escape(", ".join(t.tags)))
        table.add_row(str(t.id), escape(t.key), t.locale, one_line(escape(t.topic)),
                      one_line(escape(t.question)), tags)  # fmt: skip
    Console().print(table)


@talk_tracks_app.command("show")
def show_talk_track_command(
    track: Annotated[str, typer.Argument(metavar="TRACK", help="Id, or key.")],
    locale: LocaleOpt = None,
    json_out: JsonOpt = False,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Show one talk track (a key shows its LOCALE version, else zh-CN, else any)."""

    def work(session: Session) -> TalkTrackRead:
        number = numeric_id(track)
        if number is not None:
            return service.get_talk_track(session, number)
        return service.find_talk_track(session, track, locale)

    found = _run(home, database_url, work, commit=False)
    if json_out:
        print_json(found.model_dump(mode="json"))
        return
    grid = key_value_grid()
    grid.add_row("Key", f"{escape(found.key)} [dim]({found.locale})[/dim]")
    grid.add_row("Topic", escape(found.topic))
    grid.add_row("Department", escape(found.department) if found.department else NONE)
    grid.add_row("Tags", escape(", ".join(found.tags)) if found.tags else NONE)
    grid.add_row("Question", escape(found.question))
    out = Console()
    out.print(Panel(grid, title=f"Talk track {found.id}", expand=False))
    out.print(Panel(escape(found.answer), title="Answer", expand=False))
