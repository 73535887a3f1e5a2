"""Volunteers' pages: recommended activities with their reasons, sign-up (or the waitlist),
their sign-ups with cancel, accept, decline and check-in by code, and their hours, star tier,
certificate and calendar link. Each action is the API's own route function."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from api.routes import attendance, calendars, ledger, signups, volunteers
from api.routes import notifications as notifications_routes
from api.routes.attendance import CheckIn
from api.schemas import CITY_ZONE
from api.usecases import notifications, places
from api.web.base import Page, attempt, form_of, page_as, render
from api.web.shifts import describe
from matcher.model.vocabulary import HOLDING

router = APIRouter(include_in_schema=False)


@router.get("/me", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    page = await page_as(request, "volunteer")
    volunteer_id = page.volunteer_id
    service, who = page.service, page.caller
    ranking = await volunteers.recommended_activities(volunteer_id, who, service, page.now, k=10)
    mine = places.signups_of(service, volunteer_id)
    offers = [_offer(page, m) for m in ranking["matches"] if m.get("shift_id")]
    held = {s.shift_id for s in mine if s.status in HOLDING}
    return render(
        page,
        "volunteer_home.html",
        offers=[o for o in offers if o["shift_id"] not in held],
        note=None if ranking["note"] is None else ranking["note"][page.lang],
        signups=[
            {"signup": s, "shift": describe(service, s.shift_id, page.lang, page.now)} for s in reversed(mine)
        ],
        hours=ledger.hours(volunteer_id, who, service, request, page.now),
        calendar=calendars.volunteer_calendar_link(volunteer_id, who, service, request)["url"],
    )


def _offer(page: Page, match: dict[str, Any]) -> dict[str, Any]:
    shift = describe(page.service, match["shift_id"], page.lang)
    return {"shift_id": match["shift_id"], "title": match["title"], "shift": shift, "score": match["score"],
            "reasons": [r[page.lang] for r in match["reasons"]]}  # fmt: skip


QUIET_KINDS = ("signup_confirmed", "signup_waitlisted", "invited", "hours_approved", "hours_corrected", "reminder",
               "tier_reached", "emergency_call")  # fmt: skip
"""Kinds a volunteer may leave in the inbox only, as the page offers them."""


@router.get("/me/inbox", response_class=HTMLResponse)
async def inbox(request: Request) -> Response:
    """The inbox (an emergency call with its accept and decline buttons), and how to be told."""
    page = await page_as(request, "volunteer")
    found = await run_in_threadpool(
        notifications.inbox, page.service, page.volunteer_id, request.app.state.clock(), limit=50, before=None,
        links=request.app.state.links,
    )  # fmt: skip
    zone = CITY_ZONE  # times as the city keeps them
    messages = [
        m | {"when": f"{datetime.fromtimestamp(m['created_s'], zone):%Y-%m-%d %H:%M}",
             "when_iso": datetime.fromtimestamp(m["created_s"], zone).isoformat(),
             "answer": {k: _local(v) for k, v in (m.get("links") or {}).items()}}
        for m in found["items"]
    ]  # fmt: skip
    unread_ids = ",".join(str(m["id"]) for m in messages if m["read_s"] is None)
    prefs = await run_in_threadpool(
        notifications.preferences, page.service, page.volunteer_id, tuple(request.app.state.channels)
    )
    return render(
        page, "inbox.html", messages=messages, unread_ids=unread_ids, prefs=prefs, kinds=QUIET_KINDS
    )


def _local(url: str) -> str:
    """A link in a message as a path on this site (the page may be served under another name)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


@router.post("/me/notification-preferences")
async def set_preferences(request: Request) -> Response:
    """The form as ``PUT /volunteers/{id}/notification-preferences`` (quiet hours that end
    earlier than they start are taken to run overnight, as the form says)."""
    page = await page_as(request, "volunteer")
    form = await request.form()
    await form_of(page)
    start, end = str(form.get("quiet_start") or "22:00")[:5], str(form.get("quiet_end") or "07:00")[:5]
    try:
        per_week = int(str(form.get("max_per_week") or "5"))
    except ValueError:
        per_week = -1  # refused below, naming the field
    body = {
        "channels": [str(c) for c in form.getlist("channels")][:3],
        "muted": [str(k) for k in form.getlist("muted")][:20],
        "quiet_hours": {"start": start, "end": end, "overnight": end < start},
        "max_per_week": per_week,
        "language": str(form.get("language") or "zh")[:5],
    }

    async def act() -> None:
        choices = notifications_routes.PreferencesIn.model_validate(body)
        notifications_routes.put_preferences(
            page.volunteer_id, choices, page.caller, page.service, page.now, request
        )

    return await attempt(page, "/me/inbox", page.t("saved"), act)


@router.post("/me/inbox/read")
async def read_all(request: Request) -> Response:
    """Mark the messages the page showed unread as read (not any that arrived since)."""
    page = await page_as(request, "volunteer")
    form = await form_of(page)
    ids = [int(i) for i in form.get("ids", "").split(",")[:50] if i.strip().isdigit()]

    async def act() -> None:
        for ident in ids:
            await run_in_threadpool(notifications.mark_read, page.service, page.volunteer_id, ident, page.now)

    return await attempt(page, "/me/inbox", page.t("marked_read"), act)


@router.get("/me/certificate", response_class=HTMLResponse)
async def certificate(request: Request) -> Response:
    page = await page_as(request, "volunteer")
    return ledger.certificate(page.volunteer_id, page.caller, page.service, request, page.now)


@router.post("/me/signups")
async def sign_up(request: Request) -> Response:
    page = await page_as(request, "volunteer")
    form = await form_of(page)

    async def act() -> None:
        signups.sign_up(form.get("shift_id", "")[:64], page.caller, page.service, page.now)

    return await attempt(page, "/me", page.t("done"), act)


@router.post("/me/signups/{signup_id}/{action}")
async def change(request: Request, signup_id: str, action: str) -> Response:
    """Cancel, accept or decline a sign-up, or check in with the organiser's code."""
    page = await page_as(request, "volunteer")
    form = await form_of(page)
    who, service, now = page.caller, page.service, page.now
    actions = {
        "cancel": lambda: signups.cancel(signup_id, who, service, now),
        "accept": lambda: signups.accept(signup_id, who, service, now),
        "decline": lambda: signups.decline(signup_id, who, service, now),
        "check-in": lambda: attendance.check_in(signup_id, who, service, request, now, CheckIn(at=None, code=form.get("code", "")[:12])),
    }  # fmt: skip
    if action not in actions:
        return render(page, "error.html", 404, message=page.t("not_found"))

    async def act() -> None:
        actions[action]()

    return await attempt(page, "/me", page.t("done"), act)
