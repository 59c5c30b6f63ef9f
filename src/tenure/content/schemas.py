"""The API's shapes of templates, talk tracks and previews, and the limits they share."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from tenure.accounts.service import MAX_ID
from tenure.api import AccountRef, Key, WritePayload

LOCALES: tuple[str, ...] = ("zh-CN", "en")
FORMATS: tuple[str, ...] = ("any", "video", "document")
KEY_PATTERN = r"^[a-z0-9][a-z0-9_.\-]*$"
SUBJECT_MAX = 1_000
BODY_MAX = 50_000
HTML_MAX = 200_000
ANSWER_MAX = 20_000
TAGS_MAX = 20

Locale = Literal["zh-CN", "en"]
Format = Literal["any", "video", "document"]
ContentKey = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=KEY_PATTERN),
    Field(description="lower-case letters, digits, '_', '.', '-'"),
]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Subject = Annotated[str, Field(max_length=SUBJECT_MAX)]
Body = Annotated[str, Field(min_length=1, max_length=BODY_MAX)]
Html = Annotated[str, Field(max_length=HTML_MAX)]


class TemplateCreate(WritePayload):
    """A new variant of a message: key × locale × format, each unique."""

    key: ContentKey
    locale: Locale
    format: Format = "any"
    name: str = Field(min_length=1, max_length=200)
    subject: Subject = ""
    body: Body
    html: Html | None = None


class TemplateUpdate(WritePayload):
    """Fields of a template to change; an edited shipped template is no longer updated by
    `install-shipped`."""

    NOT_NULL: ClassVar[frozenset[str]] = frozenset(
        {"key", "locale", "format", "name", "subject", "body"}
    )
    key: ContentKey | None = None
    locale: Locale | None = None
    format: Format | None = None
    name: str | None = Field(None, min_length=1, max_length=200)
    subject: Subject | None = None
    body: Body | None = None
    html: Html | None = None


class TemplateRead(BaseModel):
    """One variant of a message template."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    locale: str
    format: str
    name: str
    subject: str
    body: str
    html: str | None
    shipped: bool
    updated_by_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class TemplateFieldsIn(WritePayload):
    """Template texts to preview before saving them."""

    subject: Subject = ""
    body: Body
    html: Html | None = None


class PreviewRequest(WritePayload):
    """A stored template (`template_id`) or unsaved `fields`, rendered for an account and
    contact, or for sample data without `account`."""

    template_id: int | None = Field(None, ge=1, le=MAX_ID)
    fields: TemplateFieldsIn | None = None
    account: AccountRef | None = None
    contact: Key | None = Field(None, description="the contact's id or external id")
    locale: Locale | None = Field(None, description="language of the sample data")
    links: dict[str, Annotated[str, Field(max_length=2_000)]] = Field(default_factory=dict)
    alert: dict[str, Any] | None = Field(None, description="the `alert` variable, if any")

    @model_validator(mode="after")
    def _one_source(self) -> PreviewRequest:
        if (self.template_id is None) == (self.fields is None):
            raise ValueError("send either template_id or fields")
        if self.contact is not None and self.account is None:
            raise ValueError("a contact needs its account")
        return self


class ProblemRead(BaseModel):
    """One problem of a template: the part, the line (when known) and what is wrong."""

    field: str
    line: int | None
    message: str


class PreviewResult(BaseModel):
    """The rendered message, or the problems that stop it (then `ok` is false)."""

    ok: bool
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    problems: list[ProblemRead] = Field(default_factory=list)
    sample: bool = Field(description="rendered with sample data (no account given)")
    template_id: int | None = None
    locale: str | None = None
    format: str | None = None


class TalkTrackCreate(WritePayload):
    """An approved answer to a recurring question, in one language."""

    key: ContentKey
    locale: Locale
    topic: str = Field(min_length=1, max_length=200)
    question: str = Field(min_length=1, max_length=5_000)
    answer: str = Field(min_length=1, max_length=ANSWER_MAX)
    tags: list[Tag] = Field(default_factory=list, max_length=TAGS_MAX)
    department: str | None = Field(None, max_length=100)


class TalkTrackUpdate(WritePayload):
    """Fields of a talk track to change."""

    NOT_NULL: ClassVar[frozenset[str]] = frozenset(
        {"key", "locale", "topic", "question", "answer", "tags"}
    )
    key: ContentKey | None = None
    locale: Locale | None = None
    topic: str | None = Field(None, min_length=1, max_length=200)
    question: str | None = Field(None, min_length=1, max_length=5_000)
    answer: str | None = Field(None, min_length=1, max_length=ANSWER_MAX)
    tags: list[Tag] | None = Field(None, max_length=TAGS_MAX)
    department: str | None = Field(None, max_length=100)


class TalkTrackRead(BaseModel):
    """One talk track."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    locale: str
    topic: str
    question: str
    answer: str
    tags: list[str]
    department: str | None
    shipped: bool
    updated_by_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
