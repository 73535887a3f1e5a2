"""Organisers' pages: their organisation's activities, a new activity with its shift, each
shift's suggested volunteers (district and distance band, with reasons) to invite, its roster
with check-in, the check-in code with its QR code, and a campaign plan to accept. Each action is
the API's own route function, so an organiser sees and does here exactly what the API allows."""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from api.deps import own_organisation
from api.live import Live
from api.routes import activities, allocations, attendance, ledger, signups
from api.routes.allocations import AllocationIn
from api.routes.ledger import HoursIn
from api.routes.signups import SignupIn
from api.schemas import ActivityIn, ActivityPatch
from api.usecases import demand, hours, places, recommend, records
from api.views import volunteer_cards
from api.web.base import Page, attempt, back, form_of, page_as, problem, render
from api.web.shifts import describe
from matcher.model.errors import MatcherError, ValidationError

router = APIRouter(include_in_schema=False)
ORGANISERS = ("organiser", "org_admin", "admin")
LOCAL = ZoneInfo("Asia/Shanghai")


def _organisation(page: Page) -> str | None:
    return page.caller.account.organisation_id


def _our_activities(page: Page) -> list[Any]:
    org = _organisation(page)
    return recommend.upcoming_of(page.service, org, page.now, limit=200)


@router.get("/org", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    page = await page_as(request, *ORGANISERS)
    mine = _our_activities(page)
    rows = [{"activity": a, "shifts": [describe(page.service, s.id, page.lang) | {"id": s.id} for s in a.shifts]}
            for a in mine]  # fmt: skip
    return render(page, "org_home.html", activities=rows, districts=demand.districts(page.service),
                  categories=demand.categories(page.service))  # fmt: skip


@router.post("/org/activities")
async def create(request: Request) -> Response:
    page = await page_as(request, *ORGANISERS)
    form = await form_of(page)
    org = _organisation(page) or form.get("organisation_id", "")

    async def act() -> None:
        start, end = (_local(form.get(k, "")) for k in ("start", "end"))
        if _before(start, page.now):
            raise ValidationError("start", "the shift would start in the past: give a time to come")
        body = ActivityIn.model_validate({
            "id": f"a_{secrets.token_hex(6)}", "organisation_id": org, "title": form.get("title", ""),
            "category": form.get("category", ""), "district": form.get("district") or None,
            "address": form.get("district") or None,
            "required_skills": [s.strip() for s in form.get("skills", "").replace("，", ",").split(",") if s.strip()],
            "shifts": [{"id": f"s_{secrets.token_hex(6)}", "start": start, "end": end,
                        "capacity": _whole(form.get("capacity", ""))}],
        })  # fmt: skip
        activities.create_activity(body, page.caller, page.service, request.app.state.places)

    return await attempt(page, "/org", page.t("done"), act)


def _before(value: str, now: datetime) -> bool:
    try:
        return datetime.fromisoformat(value) < now
    except ValueError:
        return False  # not a time: the API's validation says so


def _local(value: str) -> str:
    """A ``datetime-local`` field (Beijing time) as an aware ISO time; the API refuses bad ones."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=LOCAL).isoformat()
    except ValueError:
        return value


@router.get("/org/shifts/{shift_id}", response_class=HTMLResponse)
async def shift(request: Request, shift_id: str) -> Response:
    page = await page_as(request, *ORGANISERS)
    who, service = page.caller, page.service
    try:
        listed = signups.roster(shift_id, who, service, page.now)
        code = attendance.shift_check_in_code(shift_id, who, service, request, page.now)
        activity_id = places.shift_activity(service, shift_id)
        suggested = await activities.recommended_volunteers(
            activity_id, who, service, page.now, shift_id=shift_id, k=10
        )
    except MatcherError as e:
        return render(page, "error.html", 404, message=problem(e, page.lang))
    cards = volunteer_cards(service, [s["volunteer_id"] for s in listed["signups"]])
    on_roster = {s["volunteer_id"] for s in listed["signups"]}
    qr = io.BytesIO()
    # A full QR code (not a Micro QR, which phone cameras and WeChat do not read), sized by CSS.
    segno.make_qr(code["code"], error="m").save(qr, kind="svg", xmldecl=False, svgns=True, scale=6, border=2,
                                                omitsize=True)  # fmt: skip
    return render(
        page, "shift.html", shift_id=shift_id, shift=describe(service, shift_id, page.lang),
        suggested=[m | {"reasons_shown": [r[page.lang] for r in m["reasons"]]} for m in suggested["matches"]
                   if m["id"] not in on_roster],
        suggested_note=None if suggested["note"] is None else suggested["note"][page.lang],
        roster=[s | {"name": cards.get(s["volunteer_id"], ("", None))[0], "approved": _approved(service, s)}
                for s in listed["signups"]],
        code=code["code"], qr=Markup(qr.getvalue().decode()),  # segno's own SVG: no user text in it
    )  # fmt: skip


def _approved(service: Live, signup: dict[str, Any]) -> bool:
    """Whether the hours of a finished place are in the volunteer's ledger already."""
    if signup["checked_out_s"] is None:
        return False
    return any(e.shift_id == signup["shift_id"] for e in hours.ledger(service, signup["volunteer_id"]))


@router.post("/org/shifts/{shift_id}/invite")
async def invite(request: Request, shift_id: str) -> Response:
    page = await page_as(request, *ORGANISERS)
    form = await form_of(page)
    body = SignupIn(volunteer_id=form.get("volunteer_id", "")[:64])

    async def act() -> None:
        signups.sign_up(shift_id, page.caller, page.service, page.now, body)

    return await attempt(page, f"/org/shifts/{shift_id}", page.t("invited"), act)


@router.post("/org/signups/{signup_id}/{action}")
async def record_attendance(request: Request, signup_id: str, action: str) -> Response:
    """Check someone in or out, mark a no-show, or approve the hours of a place."""
    page = await page_as(request, *ORGANISERS)
    form = await form_of(page)
    target = form.get("back", "/org")
    who, service, now = page.caller, page.service, page.now
    actions: dict[str, Callable[[], object]] = {
        "check-in": lambda: attendance.check_in(signup_id, who, service, request, now),
        "check-out": lambda: attendance.check_out(signup_id, who, service, now),
        "no-show": lambda: attendance.no_show(signup_id, who, service, now),
        "hours": lambda: ledger.approve_hours(
            signup_id,
            HoursIn.model_validate({"hours": _number(form.get("hours")), "note": ""}),
            who,
            service,
            now,
        ),
    }
    if action not in actions:
        return render(page, "error.html", 404, message=page.t("not_found"))

    async def act() -> None:
        actions[action]()

    return await attempt(page, target if target.startswith("/org/") else "/org", page.t("done"), act)


@router.get("/org/activities/{activity_id}", response_class=HTMLResponse)
async def edit_page(request: Request, activity_id: str) -> Response:
    page = await page_as(request, *ORGANISERS)
    try:
        a = records.activity(page.service, activity_id)
        own_organisation(page.caller, a.organisation_id, kind="activity", ident=activity_id)
    except MatcherError as e:
        return render(page, "error.html", 404, message=problem(e, page.lang))
    shifts = [{"id": s.id, "start": s.starts_at.astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M"),
               "end": s.ends_at.astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M"), "capacity": s.capacity}
              for s in a.shifts]  # fmt: skip
    return render(page, "activity_edit.html", a=a, shifts=shifts, districts=demand.districts(page.service),
                  categories=demand.categories(page.service))  # fmt: skip


@router.post("/org/activities/{activity_id}")
async def edit(request: Request, activity_id: str) -> Response:
    """Change the activity and its shifts (and add one) through the API's PATCH."""
    page = await page_as(request, *ORGANISERS)
    form = await form_of(page)
    shifts = []
    for i in range(int(form.get("shift_rows") or 0)):
        ident = form.get(f"shift_id_{i}") or (f"s_{secrets.token_hex(6)}" if form.get(f"start_{i}") else "")
        existing = bool(form.get(f"shift_id_{i}"))
        if ident and (not existing or form.get(f"keep_{i}") == "on"):  # an unticked box is not sent
            shifts.append({"id": ident, "start": _local(form.get(f"start_{i}", "")), "end": _local(form.get(f"end_{i}", "")),
                           "capacity": _whole(form.get(f"capacity_{i}", ""))})  # fmt: skip

    async def act() -> None:
        body = ActivityPatch.model_validate({
            "title": form.get("title", ""), "description": form.get("description", ""),
            "category": form.get("category", ""), "district": form.get("district") or None, "shifts": shifts,
        })  # fmt: skip
        activities.update_activity(
            activity_id, body, page.caller, page.service, request.app.state.places, page.now
        )

    return await attempt(page, f"/org/activities/{activity_id}", page.t("saved"), act)


def _number(value: str | None) -> float | str | None:
    try:
        return None if not value else float(value)
    except ValueError:
        return value  # the API's validation names the field


def _whole(value: str) -> int | str:
    try:
        return int(value)
    except ValueError:
        return value  # the API's validation names the field


@router.post("/org/allocations")
async def plan(request: Request) -> Response:
    page = await page_as(request, *ORGANISERS)
    form = await request.form()
    await form_of(page)
    chosen = [str(a) for a in form.getlist("activity_ids")][:200]
    try:
        body = AllocationIn.model_validate(
            {"activity_ids": chosen, "options": {"max_shifts": int(str(form.get("max_shifts") or 2))}}
        )
        made = allocations.create_allocation(body, page.caller, page.service, page.now)
    except Exception as e:
        return back("/org", error=problem(e, page.lang))
    return back(f"/org/allocations/{made['id']}")


@router.get("/org/allocations/{allocation_id}", response_class=HTMLResponse)
async def allocation(request: Request, allocation_id: str) -> Response:
    page = await page_as(request, *ORGANISERS)
    try:
        record = allocations.get_allocation(allocation_id, page.caller, page.service)
    except MatcherError as e:
        return render(page, "error.html", 404, message=problem(e, page.lang))
    ids = {a["shift_id"] for a in record["assignments"]} | {u["shift_id"] for u in record["unfilled"]}
    shifts = {s: describe(page.service, s, page.lang) for s in ids}
    for rows in (record["assignments"], record["unfilled"]):  # in time order, as organisers read a plan
        rows.sort(key=lambda r: (shifts[r["shift_id"]]["starts"], r["shift_id"]))
    return render(page, "allocation.html", plan=record, shifts=shifts)


@router.post("/org/allocations/{allocation_id}/accept")
async def accept(request: Request, allocation_id: str) -> Response:
    page = await page_as(request, *ORGANISERS)
    await form_of(page)

    async def act() -> None:
        allocations.accept_allocation(allocation_id, page.caller, page.service, page.now)

    return await attempt(page, f"/org/allocations/{allocation_id}", page.t("done"), act)
