"""The hosted NPS survey page, `/s/{token}`: no sign-in, the link is the credential.

Cross-site submission. The page has no session cookie, so there is no ambient credential
for another site to ride on: the token in the address is what authorises an answer. What
is left to stop is a page elsewhere posting an answer blind, or in a visitor's browser,
without having shown our question. So the form carries a hidden form token,
HMAC(form key, "<issued>|<survey token>"), that only this server can make, bound to the one
survey token and valid for FORM_MAX_AGE; a cross-site page cannot read it (same-origin
policy) and cannot compute it. A browser's `Origin` / `Sec-Fetch-Site` naming another site
is refused as well, and the pages forbid framing (no click-jacking of the score buttons)
and send no `Referer` to other sites (the token must not leak through links).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from tenure.accounts.models import Contact
from tenure.channels.secrets import load_key
from tenure.engagement.outbox import utcnow
from tenure.feedback.models import NpsResponse
from tenure.kit.deps import RuntimeDep, SessionDep
from tenure.kit.runtime import Runtime
from tenure.surveys.answers import (
    MAX_COMMENT,
    InvalidAnswer,
    InvitationNotFound,
    check_answer,
    open_invitation,
    record_answer,
)
from tenure.surveys.models import SurveyInvitation
from tenure.surveys.tokens import InvalidToken, check_form_token, form_key, make_form_token
from tenure.web.i18n import DEFAULT_LANGUAGE, LANGUAGES, from_accept_language, normalize, translator
from tenure.web.templating import environment

FORM_MAX_AGE = dt.timedelta(hours=12)
REFUSAL_STATUS = {"malformed": 400, "tampered": 400, "expired": 410, "unknown": 404, "origin": 403}
SCORES = tuple(range(11))
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Robots-Tag": "noindex, nofollow",
    "Vary": "Accept-Language",
}

router = APIRouter(include_in_schema=False)


def _language(request: Request, preferred: str | None = None, chosen: str | None = None) -> str:
    """The chosen language (switch), else the invitation's, else the browser's."""
    return (
        normalize(chosen or request.query_params.get("lang"))
        or normalize(preferred)
        or from_accept_language(request.headers.get("accept-language"))
        or DEFAULT_LANGUAGE
    )


def _page(template: str, language: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = (
        environment()
        .get_template(template)
        .render(lang=language, t=translator(language), languages=LANGUAGES, **context)
    )
    return HTMLResponse(html, status_code=status_code, headers=HEADERS)


def _link(token: str) -> str:
    return "/s/" + quote(token, safe="")


def _refusal(
    request: Request, token: str, reason: str, chosen: str | None, preferred: str | None = None
) -> HTMLResponse:
    language = _language(request, preferred, chosen)
    return _page(
        "surveys_refused.html",
        language,
        REFUSAL_STATUS[reason],
        reason=reason,
        switch=_link(token),
    )


def _open(
    request: Request, session: SessionDep, runtime: Runtime, token: str, chosen: str | None
) -> SurveyInvitation | HTMLResponse:
    try:
        invitation, _ = open_invitation(
            session, token, utcnow(), key=load_key(runtime.settings.home)
        )
    except InvalidToken as exc:
        return _refusal(request, token, exc.reason, chosen)
    except InvitationNotFound:
        return _refusal(request, token, "unknown", chosen)
    return invitation


def _form(
    session: SessionDep,
    runtime: Runtime,
    token: str,
    invitation: SurveyInvitation,
    language: str,
    *,
    score: int | None = None,
    comment: str | None = None,
    error: str | None = None,
    error_params: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    previous = (
        session.get(NpsResponse, invitation.nps_response_id) if invitation.nps_response_id else None
    )
    contact = session.get(Contact, invitation.contact_id) if invitation.contact_id else None
    key = form_key(load_key(runtime.settings.home))
    return _page(
        "surveys_page.html",
        language,
        status_code,
        switch=_link(token),
        max_comment=MAX_COMMENT,
        form_token=make_form_token(key, token, utcnow()),
        contact_name=contact.name if contact else None,
        previous=previous,
        expires_at=invitation.expires_at,
        scores=SCORES,
        score=score if score is not None else (previous.score if previous else None),
        comment=comment if comment is not None else (previous.comment if previous else ""),
        error=error,
        error_params=error_params or {},
    )


def _cross_site(request: Request, runtime: Runtime) -> bool:
    """Whether the browser says the form was posted from another site."""
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False  # not sent by every client; the form token still has to match
    if origin == "null":
        return True
    allowed = {
        request.headers.get("host", "").lower(),
        urlsplit(runtime.config.engagement.base_url).netloc.lower(),
    }
    return urlsplit(origin).netloc.lower() not in allowed


@router.get("/s/{token}", response_class=HTMLResponse)
def survey_page(request: Request, session: SessionDep, runtime: RuntimeDep, token: str) -> Any:
    """The survey: the 0-10 question and a comment, in the contact's language."""
    opened = _open(request, session, runtime, token, None)
    if isinstance(opened, HTMLResponse):
        return opened
    return _form(session, runtime, token, opened, _language(request, opened.locale))


@router.post("/s/{token}", response_class=HTMLResponse)
def answer_survey(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    token: str,
    score: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
    form_token: Annotated[str, Form()] = "",
    lang: Annotated[str, Form()] = "",
) -> Any:
    """Record the answer and thank the contact (a second answer replaces the first)."""
    opened = _open(request, session, runtime, token, lang)
    if isinstance(opened, HTMLResponse):
        return opened
    language = _language(request, opened.locale, lang)
    if _cross_site(request, runtime):
        return _refusal(request, token, "origin", lang, opened.locale)
    number = int(score) if score.isascii() and score.isdigit() and len(score) <= 2 else None
    server_key = load_key(runtime.settings.home)
    error: str | None = None
    status_code = 200
    if not check_form_token(form_key(server_key), token, form_token, utcnow(), FORM_MAX_AGE):
        # An old page or a forged post: the form again, with a fresh token and the input.
        error, status_code = "survey.error.form", 403
    else:
        try:
            check_answer(number, comment)
        except InvalidAnswer as exc:
            first = exc.problems[0][0]
            error = "survey.error.score" if first == "score" else "survey.error.comment"
            status_code = 422
    if error is not None:
        return _form(
            session, runtime, token, opened, language, score=number, comment=comment,
            error=error, error_params={"max": MAX_COMMENT}, status_code=status_code,
        )  # fmt: skip
    assert number is not None
    answer = record_answer(session, token, number, comment, utcnow(), key=server_key)
    return _page(
        "surveys_thanks.html",
        language,
        score=answer.response.score,
        updated=answer.updated,
        again=f"{_link(token)}?lang={language}",
        switch=None,
    )
