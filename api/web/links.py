"""Pages behind the links in what volunteers are told, which work without signing in: answering
an emergency call, and unsubscribing from e-mail. Opening a link changes nothing (mail scanners
open links); the answer is the form posted from the page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from api.auth import BadToken
from api.usecases import calls, notifications
from api.web.base import form_of, page_for, problem, render
from matcher.model.errors import MatcherError

router = APIRouter(include_in_schema=False)
MAX_TOKEN = 1000


@router.get("/calls/{token}", response_class=HTMLResponse)
async def call_page(request: Request, token: str, answer: str = "accept") -> Response:
    page = await page_for(request)
    try:
        call = await run_in_threadpool(
            calls.details, page.service, request.app.state.links, token[:MAX_TOKEN]
        )
    except MatcherError as e:
        return render(page, "link.html", 422, heading=page.t("call"), message=problem(e, page.lang))
    if call["closed_s"] is not None:
        return render(page, "link.html", heading=page.t("call"), message=page.t("call_closed"))
    choices = [("accept", page.t("accept")), ("decline", page.t("decline"))]
    return render(
        page,
        "link.html",
        heading=page.t("call"),
        call=call,
        ask=page.t("call"),
        choices=choices,
        chosen=answer,
    )


@router.post("/calls/{token}", response_class=HTMLResponse)
async def call_answer(request: Request, token: str) -> Response:
    page = await page_for(request)
    form = await form_of(page)
    accept = form.get("answer") == "accept"
    try:
        said = await run_in_threadpool(
            calls.answer_by_link, page.service, request.app.state.links, token[:MAX_TOKEN], accept, page.now
        )
    except MatcherError as e:
        return render(page, "link.html", 409, heading=page.t("call"), message=problem(e, page.lang))
    if said["answer"] == "accepted":
        message = f"{page.t('answer_accepted')} {said['signup_status']}"
    else:
        message = page.t("answer_declined")
    return render(page, "link.html", heading=page.t("call"), message=message)


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
async def unsubscribe_page(request: Request, token: str) -> Response:
    page = await page_for(request)
    choices = [("yes", page.t("unsubscribe"))]
    return render(
        page,
        "link.html",
        heading=page.t("unsubscribe"),
        ask=page.t("unsubscribe_ask"),
        choices=choices,
        chosen="yes",
    )


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
async def unsubscribe(request: Request, token: str) -> Response:
    """The page's button, and the one-click unsubscribe of mail programs (RFC 8058)."""
    page = await page_for(request)
    if "csrf" in (await request.form()):
        await form_of(page)
    try:
        await run_in_threadpool(
            notifications.unsubscribe, page.service, request.app.state.links, token[:MAX_TOKEN], page.now
        )
    except (BadToken, MatcherError) as e:
        return render(page, "link.html", 422, heading=page.t("unsubscribe"), message=str(e))
    return render(page, "link.html", heading=page.t("unsubscribe"), message=page.t("unsubscribed"))
