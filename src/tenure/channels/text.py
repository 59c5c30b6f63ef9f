"""Turning a message's Markdown-flavoured text into what each channel shows.

Pure functions: no I/O. Each vendor renders its own subset of Markdown, so only the few
constructs Tenure's templates use are translated (bold, links, headings, line breaks).
"""

from __future__ import annotations

import re
from functools import cache

from markdown_it import MarkdownIt

LINK = re.compile(r"\[([^\]\n]+)\]\((\S+?)\)")
BOLD = re.compile(r"\*\*(.+?)\*\*")
HEADING = re.compile(r"^#{1,6}\s+(.+)$", re.MULTILINE)


def truncate_bytes(text: str, limit: int, marker: str = "…") -> str:
    """`text` cut to at most `limit` UTF-8 bytes (vendors count bytes), ending in `marker`."""
    data = text.encode()
    if len(data) <= limit:
        return text
    room = limit - len(marker.encode())
    return data[:room].decode(errors="ignore") + marker


def truncate_chars(text: str, limit: int, marker: str = "…") -> str:
    """`text` cut to at most `limit` characters, ending in `marker` when cut."""
    return text if len(text) <= limit else text[: limit - len(marker)] + marker


@cache
def _markdown() -> MarkdownIt:
    # Raw HTML in the text is escaped, never passed through: the text may quote customers.
    return MarkdownIt("commonmark", {"html": False, "breaks": True})


def markdown_to_html(text: str) -> str:
    """The HTML of a Markdown text (raw HTML in it escaped), for an e-mail's HTML part."""
    return _markdown().render(text)


def slack_escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn reserves."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_to_slack(text: str) -> str:
    """Markdown as Slack mrkdwn: `**b**` → `*b*`, `[t](u)` → `<u|t>`, headings in bold."""
    out = slack_escape(text)
    out = LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", out)
    out = BOLD.sub(lambda m: f"*{m.group(1)}*", out)
    return HEADING.sub(lambda m: f"*{m.group(1)}*", out)


def split_links(line: str) -> list[tuple[str, str | None]]:
    """A line as (text, href) runs: href None for plain text (for Feishu's rich text)."""
    runs: list[tuple[str, str | None]] = []
    at = 0
    for found in LINK.finditer(line):
        if found.start() > at:
            runs.append((line[at : found.start()], None))
        runs.append((found.group(1), found.group(2)))
        at = found.end()
    if at < len(line):
        runs.append((line[at:], None))
    return runs
