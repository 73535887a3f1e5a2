"""A volunteer's own profile, and registration.

The profile is edited in one form and saved through the API's ``PATCH /volunteers/{id}``
(its validation and messages): skills picked from the taxonomy with a search in Chinese or
English (htmx asks ``/me/skills?q=`` as they type), availability as a weekly grid of two-hour
blocks, how far they will travel, certifications with their expiry, and where they live. Their
precise location is used only with their consent; without it their home is their district's
centre (the district is geocoded by the offline gazetteer) and matching works from that.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from api.auth import hash_password, issue_token, new_account_id, utcnow
from api.geocoding import fill_point
from api.routes import volunteers
from api.schemas import ConsentIn, VolunteerPatch
from api.usecases import accounts, demand, records
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
from matcher.interchange.records import parse_volunteer
from matcher.model.domain import MAX_AGE_YEARS
from matcher.model.errors import MatcherError
from matcher.store.base import Account

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
    """A new volunteer and their sign-in; then on to their profile."""
    page = await page_for(request)
    form = await form_of(page)
    service = page.service
    name, password = form.get("account", "").strip(), form.get("password", "")
    if len(password.strip()) < MIN_PASSWORD:
        return back("/register", error=page.t("password_short"))
    if not name or len(name) > 200 or len(form.get("name", "")) > 200:
        return back("/register", error=page.t("name_long"))
    if await run_in_threadpool(accounts.find, service, name) is not None:
        return back("/register", error=page.t("name_taken"))
    doc = {"id": f"v_{secrets.token_hex(6)}", "name": form.get("name", "").strip() or name,
           "max_travel_km": _number(form.get("max_travel_km") or 10), "district": form.get("district") or None,
           "birth_date": form.get("birth_date") or None}  # fmt: skip
    try:
        if form.get("consent") == "on" and form.get("lat") and form.get("lon"):
            doc["home"] = {"lat": _number(form["lat"]), "lon": _number(form["lon"])}
        volunteer = parse_volunteer(fill_point(doc, "home", request.app.state.places), service.taxonomy)
        records.create_volunteer(service, volunteer)
        account = Account(new_account_id(), name, "volunteer", volunteer_id=volunteer.id,
                          password_hash=hash_password(password))  # fmt: skip
        await run_in_threadpool(accounts.create, service, account)
        if "home" in doc:  # the consent box was ticked and a place given: on record
            await run_in_threadpool(
                records.record_consent, service, account.id, "volunteer", volunteer.id, True,
                int(page.now.timestamp()), "registration",
            )  # fmt: skip
    except (MatcherError, ValueError) as e:
        return back("/register", error=problem(e, page.lang))
    token = issue_token(account, request.app.state.signing_key, now=utcnow(), ttl_hours=SESSION_HOURS)
    response = back("/me/profile", ok=page.t("welcome"))
    set_cookie(request, response, SESSION, token, max_age=SESSION_HOURS * 3600)
    return response
