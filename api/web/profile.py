"""A volunteer's own profile, registration (the API's, phone and all) and proving the phone.

The profile is edited in one form and saved through the API's ``PATCH /volunteers/{id}``
(its validation and messages): skills picked from the taxonomy with a search in Chinese or
English (htmx asks ``/me/skills?q=`` as they type), availability as a weekly grid of two-hour
blocks, how far they will travel, certifications with their expiry, and where they live. Their
precise location is used only with their consent; without it their home is their district's
centre (the district is geocoded by the offline gazetteer) and matching works from that.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError as PydanticError
from starlette.concurrency import run_in_threadpool

from api.auth import issue_token, utcnow
from api.routes import accounts as account_routes
from api.routes import volunteers
from api.routes.accounts import AccountIn
from api.schemas import ConsentIn, VolunteerPatch
from api.usecases import accounts, demand, joining
from api.web.base import (
    SESSION,
    SESSION_HOURS,
    Page,
    attempt,
    back,
    form_of,
    page_as,
    page_for,
    problem,
    render,
    set_cookie,
)
from matcher.model.domain import MAX_AGE_YEARS
from matcher.model.errors import MatcherError

router = APIRouter(include_in_schema=False)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = {"zh": "一二三四五六日", "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}
BLOCKS = tuple((h, h + 2) for h in range(6, 22, 2))
"""The grid's two-hour blocks, 06:00-22:00."""
MIN_PASSWORD = 8
CERT_ROWS = 3


def _minutes(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def grid(windows: list[dict[str, str]]) -> set[str]:
    """The blocks (``"sat:8"``) a volunteer's windows cover whole."""
    out = set()
    for w in windows:
        start, end = _minutes(w["start"]), _minutes(w["end"]) or 24 * 60
        for a, b in BLOCKS:
            if start <= a * 60 and b * 60 <= end:
                out.add(f"{w['day']}:{a}")
    return out


def windows(cells: set[str]) -> list[dict[str, str]]:
    """The grid's ticked blocks as windows, adjacent blocks of a day merged."""
    out: list[dict[str, str]] = []
    for day in DAYS:
        run: tuple[int, int] | None = None
        for a, b in BLOCKS:
            if f"{day}:{a}" in cells:
                run = (run[0], b) if run else (a, b)
                continue
            if run:
                out.append(_window(day, run))
                run = None
        if run:
            out.append(_window(day, run))
    return out


def _window(day: str, run: tuple[int, int]) -> dict[str, str]:
    return {"day": day, "start": f"{run[0]:02d}:00", "end": f"{run[1]:02d}:00"}


def _profile_context(page: Page, v: dict[str, Any]) -> dict[str, Any]:
    tax = page.service.taxonomy
    skills = [s if isinstance(s, str) else s["skill"] for s in v.get("skills", [])]
    certs = list(v.get("certifications", [])) + [{"skill": "", "expires": None}] * CERT_ROWS
    return {
        "v": v,
        "skills": [(s, tax.label(s, page.lang)) for s in skills],
        "cells": grid(v.get("availability", [])),
        "avail_before": json.dumps(v.get("availability", [])),
        "days": list(zip(DAYS, DAY_NAMES[page.lang], strict=True)),
        "blocks": BLOCKS,
        "certs": [
            (c["skill"], tax.label(c["skill"], page.lang) if c["skill"] else "", c.get("expires") or "")
            for c in certs
        ],
        "districts": demand.districts(page.service),
        "precise": bool(v.get("home")) and not str(v["home"].get("source") or "").startswith("geocoded"),
        **birth_bounds(page),
    }


def birth_bounds(page: Page) -> dict[str, Any]:
    """The date picker's bounds: the rule ``check_birth_date`` applies on saving."""
    today = page.now.date()
    return {"birth_min": today.replace(year=today.year - MAX_AGE_YEARS, day=min(today.day, 28)).isoformat(),
            "birth_max": today.isoformat()}  # fmt: skip


@router.get("/me/profile", response_class=HTMLResponse)
async def profile(request: Request) -> Response:
    page = await page_as(request, "volunteer")
    vid = page.volunteer_id
    v = volunteers.get_volunteer(vid, page.caller, page.service, page.now)
    return render(page, "profile.html", **_profile_context(page, v))


@router.get("/me/skills", response_class=HTMLResponse)
async def skill_search(request: Request, q: str = "") -> Response:
    """Skills matching what is typed, as ticked-off options (the htmx fragment of the form)."""
    page = await page_as(request, "volunteer")
    found = page.service.taxonomy.search(q[:100], limit=12)
    return render(
        page,
        "skill_options.html",
        found=[(s.id, s.zh if page.lang == "zh" and s.zh else s.en) for s in found],
    )


def _patch(form: Any, lang: str) -> dict[str, Any]:
    """The form as a ``PATCH /volunteers/{id}`` body."""
    skills = list(dict.fromkeys(str(s) for s in form.getlist("skills")))[:200]
    certs = []
    for i in range(int(str(form.get("cert_rows") or 0))):
        skill = str(form.get(f"cert_skill_{i}") or "").strip()
        if skill:
            certs.append({"skill": skill, "expires": str(form.get(f"cert_expires_{i}") or "") or None})
    body: dict[str, Any] = {
        "name": str(form.get("name") or ""),
        "phone": str(form.get("phone") or "") or None,
        "email": str(form.get("email") or "") or None,
        "district": str(form.get("district") or "") or None,
        "max_travel_km": _number(form.get("max_travel_km")),
        "skills": skills,
        "availability": _availability(form),
        "certifications": certs,
        "online_ok": form.get("online_ok") == "on",
        "birth_date": str(form.get("birth_date") or "") or None,
    }
    if form.get("consent") == "on" and form.get("lat") and form.get("lon"):
        body["home"] = {"lat": _number(form.get("lat")), "lon": _number(form.get("lon"))}
    elif body["district"]:
        body["address"] = body["district"]  # the district's centre: no precise location kept
    return body


def _availability(form: Any) -> list[dict[str, str]]:
    """The grid's windows for the days whose blocks the person changed; every other day keeps
    its windows as they were (the grid shows only whole two-hour blocks, and a window such as
    09:00-11:00 must not be lost by saving something else)."""
    before: list[dict[str, str]] = json.loads(str(form.get("avail_before") or "[]"))
    ticked = {str(c) for c in form.getlist("avail")}
    shown = grid(before)
    changed = {c.split(":")[0] for c in ticked ^ shown}
    kept = [w for w in before if w["day"] not in changed]
    fresh = [w for w in windows(ticked) if w["day"] in changed]
    return sorted(kept + fresh, key=lambda w: (DAYS.index(w["day"]), w["start"]))


def _number(value: Any) -> Any:
    try:
        return float(str(value))
    except ValueError:
        return value  # the API's validation says what is wrong with it


@router.post("/me/profile")
async def save_profile(request: Request) -> Response:
    page = await page_as(request, "volunteer")
    await form_of(page)
    form = await request.form()
    vid = page.volunteer_id

    async def act() -> None:
        body = VolunteerPatch.model_validate(_patch(form, page.lang))
        if form.get("consent") == "on" and form.get("lat") and form.get("lon"):  # ticked: on record
            volunteers.set_consent(
                vid, ConsentIn(location=True, note="console"), page.caller, page.service, page.now
            )
        volunteers.update_volunteer(vid, body, page.caller, page.service, request.app.state.places, page.now)

    return await attempt(page, "/me/profile", page.t("saved"), act)


@router.get("/register", response_class=HTMLResponse)
async def register_page(request: Request) -> Response:
    page = await page_for(request)
    return render(page, "register.html", districts=demand.districts(page.service), **birth_bounds(page))


@router.post("/register")
async def register(request: Request) -> Response:
    """Join through the API's own registration (phone, password, birth date, an optional ID
    number, a guardian for a minor); then signed in, on to verify the phone."""
    page = await page_for(request)
    form = await form_of(page)
    service = page.service
    doc: dict[str, Any] = {
        "name": form.get("name", "").strip(), "phone": form.get("phone", ""), "password": form.get("password", ""),
        "birth_date": form.get("birth_date") or None, "national_id": form.get("national_id") or None,
        "district": form.get("district") or None, "max_travel_km": _number(form.get("max_travel_km") or 10),
        "location_consent": form.get("consent") == "on", "language": page.lang,
    }  # fmt: skip
    if form.get("consent") == "on" and form.get("lat") and form.get("lon"):
        doc["home"] = {"lat": _number(form["lat"]), "lon": _number(form["lon"])}
    if form.get("guardian_name"):
        doc["guardian"] = {
            key: form.get(f"guardian_{key}", "") for key in ("name", "phone", "relationship", "consent_date")
        }
    try:
        body = AccountIn.model_validate(doc)
        joined = await run_in_threadpool(
            account_routes.register, body, request, service, request.app.state.places, page.now
        )
        account = await run_in_threadpool(accounts.get, service, joined["account_id"])
        assert account is not None
        session = await run_in_threadpool(joining.session_for, service, account, page.now)
    except (MatcherError, PydanticError, HTTPException) as e:
        return back("/register", error=problem(e, page.lang))
    token = issue_token(
        account, request.app.state.signing_key, now=utcnow(), ttl_hours=SESSION_HOURS, session=session
    )
    response = back("/me/verify", ok=page.t("welcome"))
    set_cookie(request, response, SESSION, token, max_age=SESSION_HOURS * 3600)
    return response


@router.get("/me/verify", response_class=HTMLResponse)
async def verify_page(request: Request) -> Response:
    """Prove the phone number with a code (it then signs in by itself; SMS may go to it)."""
    page = await page_as(request, "volunteer")
    v = await run_in_threadpool(
        volunteers.get_volunteer, page.volunteer_id, page.caller, page.service, page.now
    )
    return render(page, "verify.html", phone=v.get("phone") or "")


@router.post("/me/verify/send")
async def send_code(request: Request) -> Response:
    page = await page_as(request, "volunteer")
    form = await form_of(page)

    async def act() -> None:
        await run_in_threadpool(
            account_routes.phone_code, account_routes.PhoneIn(phone=form.get("phone", "")), request, page.service,
            page.now,
        )  # fmt: skip

    return await attempt(page, "/me/verify", page.t("code_sent"), act)


@router.post("/me/verify")
async def verify(request: Request) -> Response:
    page = await page_as(request, "volunteer")
    form = await form_of(page)

    async def act() -> None:
        body = account_routes.PhoneCodeIn(phone=form.get("phone", ""), code=form.get("code", "").strip())
        await run_in_threadpool(account_routes.verify_phone, body, request, page.service, page.now)

    done = await attempt(page, "/me/verify", page.t("phone_verified"), act)
    if "error=" in done.headers["location"]:
        return done
    return back("/me/profile", ok=page.t("phone_verified"))
