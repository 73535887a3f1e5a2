"""The console's pages for organising: a volunteer's organisations and teams (join, leave, a
leader's team sign-up), the staff's page for what they act for (organisations and their
approvals, members and requests, invitations, teams, stations), and stations on the map. Each
action is the API's own route function with the signed-in caller, so the page shows and does
exactly what the API allows."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from api.routes import organisations as routes
from api.usecases import recommend
from api.web.base import attempt, back, form_of, page_as, problem, render
from api.web.maps import district_paths, project
from api.web.shifts import describe
from matcher.model.errors import MatcherError
from matcher.model.vocabulary import OrganisationKind, StationSetting

router = APIRouter(include_in_schema=False)
STAFF = ("organiser", "org_admin", "admin")
SIGNED_IN = ("volunteer", *STAFF, "analyst")


def _float(text: str | None) -> float:
    try:
        return float(text or "")
    except ValueError:
        return float("nan")  # refused by the API's checks, naming the field


# ---------------------------------------------------------------------- volunteers


@router.get("/me/organisations", response_class=HTMLResponse)
async def my_organisations(request: Request) -> Response:
    page = await page_as(request, "volunteer")
    who, service = page.caller, page.service
    vid = who.account.volunteer_id or ""
    district = request.query_params.get("district") or None

    def read() -> dict[str, Any]:
        mine = routes.memberships(vid, who, service)["items"]
        directory = routes.list_organisations(who, service, None, None, None, 500, 0)["items"]
        if district:
            directory = [
                o for o in directory if o.get("district") == district or district in (o.get("area") or [])
            ]
        teams = routes.my_teams(vid, who, service)["items"]
        for t in teams:
            t["leading"] = t["leader_id"] == vid
            if t["leading"]:
                t["shifts"] = [
                    describe(service, s.id, page.lang) | {"id": s.id, "title": a.title}
                    for a in recommend.upcoming_of(service, t["organisation_id"], page.now, limit=20)
                    for s in a.shifts
                ][:40]
        return {"memberships": mine, "directory": directory, "teams": teams}

    held = await run_in_threadpool(read)
    joined = {m["organisation_id"]: m["status"] for m in held["memberships"]}
    return render(page, "my_organisations.html", joined=joined, district=district, **held)


@router.post("/me/organisations/{organisation_id}/join")
async def join(request: Request, organisation_id: str) -> Response:
    page = await page_as(request, "volunteer")
    form = await form_of(page)

    async def act() -> None:
        body = routes.JoinIn(note=form.get("note", "")[:500])
        await run_in_threadpool(routes.join, organisation_id, page.caller, page.service, page.now, body)

    return await attempt(page, "/me/organisations", page.t("join_asked"), act)


@router.post("/me/organisations/{organisation_id}/leave")
async def leave(request: Request, organisation_id: str) -> Response:
    page = await page_as(request, "volunteer")
    await form_of(page)
    vid = page.caller.account.volunteer_id or ""

    async def act() -> None:
        await run_in_threadpool(routes.leave, organisation_id, vid, page.caller, page.service, page.now)

    return await attempt(page, "/me/organisations", page.t("left"), act)


@router.post("/me/teams/{team_id}/signup")
async def team_signup(request: Request, team_id: str) -> Response:
    """A leader signs the members ticked up for a shift, all or none."""
    page = await page_as(request, "volunteer")
    form = await form_of(page)
    members = [str(m) for m in (await request.form()).getlist("members")]

    async def act() -> None:
        body = routes.TeamSignupIn(team_id=team_id, members=members)
        await run_in_threadpool(
            routes.team_sign_up, form.get("shift_id", ""), body, page.caller, page.service, page.now
        )

    return await attempt(page, "/me/organisations", page.t("team_signed_up"), act)


# ---------------------------------------------------------------------- staff


@router.get("/org/manage", response_class=HTMLResponse)
async def manage(request: Request) -> Response:
    """What the caller acts for: organisations (approvals of those applying under them), and
    for the organisation chosen, its members and requests, invitations, teams and stations."""
    page = await page_as(request, *STAFF)
    who, service = page.caller, page.service
    chosen = request.query_params.get("org") or who.account.organisation_id

    def read() -> dict[str, Any]:
        orgs = routes.list_organisations(who, service, None, None, None, 500, 0)["items"]
        held: dict[str, Any] = {"organisations": orgs, "chosen": None}
        if chosen and who.acts_for(chosen):
            held["chosen"] = next((o for o in orgs if o["id"] == chosen), None) or routes.get_organisation(
                chosen, who, service
            )
            held["members"] = routes.list_members(chosen, who, service, None, 500, 0)["items"]
            held["teams"] = routes.list_teams(chosen, who, service)["items"]
            held["stations"] = routes.organisation_stations(chosen, who, service)["items"]
            held["invitations"] = (
                routes.list_invitations(chosen, who, service)["items"]
                if who.role in routes.ORG_ADMINS
                else []
            )
        return held

    held = await run_in_threadpool(read)
    reach = {o["id"] for o in held["organisations"]}
    for o in held["organisations"]:  # the parent's admins decide: an org admin's own is not theirs
        o["decidable"] = who.role == "admin" or (
            who.role == "org_admin" and o.get("parent_id") in reach and o["id"] != who.account.organisation_id
        )
    approved = [m for m in held.get("members", []) if m["status"] == "approved"]
    return render(
        page, "manage.html", kinds=[k.value for k in OrganisationKind], settings=[s.value for s in StationSetting],
        approved=approved, code=request.query_params.get("code"), **held,
    )  # fmt: skip


@router.post("/org/manage/organisations")
async def create_organisation(request: Request) -> Response:
    page = await page_as(request, *STAFF)
    form = await form_of(page)

    async def act() -> None:
        body = routes.OrganisationIn.model_validate({"name": form.get("name", ""), "kind": form.get("kind", ""), "parent_id": form.get("parent_id") or None, "district": form.get("district") or None})  # fmt: skip
        await run_in_threadpool(routes.create_organisation, body, page.caller, page.service, page.now)

    return await attempt(page, "/org/manage", page.t("saved"), act)


@router.post("/org/manage/organisations/{organisation_id}/decide")
async def decide(request: Request, organisation_id: str) -> Response:
    page = await page_as(request, *STAFF)
    form = await form_of(page)

    async def act() -> None:
        body = routes.DecisionIn.model_validate({"status": form.get("status", "approved")})
        await run_in_threadpool(
            routes.approve_organisation, organisation_id, page.caller, page.service, page.now, body
        )

    return await attempt(page, "/org/manage", page.t("saved"), act)


@router.post("/org/manage/{organisation_id}/members/{volunteer_id}")
async def decide_member(request: Request, organisation_id: str, volunteer_id: str) -> Response:
    page = await page_as(request, *STAFF)
    form = await form_of(page)

    async def act() -> None:
        body = routes.MemberDecisionIn(approve=form.get("approve") == "yes")
        await run_in_threadpool(
            routes.decide_member, organisation_id, volunteer_id, body, page.caller, page.service, page.now
        )

    return await attempt(page, f"/org/manage?org={organisation_id}", page.t("saved"), act)


@router.post("/org/manage/{organisation_id}/invitations")
async def invite(request: Request, organisation_id: str) -> Response:
    """An invitation: its code is shown once on the page it returns to, to pass on."""
    page = await page_as(request, *STAFF)
    form = await form_of(page)
    made: dict[str, Any] = {}

    async def act() -> None:
        body = routes.InvitationIn.model_validate({"role": form.get("role", "organiser"), "phone": form.get("phone") or None, "email": form.get("email") or None})  # fmt: skip
        made.update(
            await run_in_threadpool(routes.invite, organisation_id, body, page.caller, page.service, page.now)
        )

    sent = await attempt(page, f"/org/manage?org={organisation_id}", page.t("invitation_made"), act)
    if made:
        return back(f"/org/manage?org={organisation_id}&code={made['code']}", ok=page.t("invitation_made"))
    return sent


@router.post("/org/manage/{organisation_id}/teams")
async def create_team(request: Request, organisation_id: str) -> Response:
    page = await page_as(request, *STAFF)
    form = await form_of(page)
    members = [str(m) for m in (await request.form()).getlist("members")]

    async def act() -> None:
        body = routes.TeamIn(name=form.get("name", ""), leader_id=form.get("leader_id", ""), members=members)
        await run_in_threadpool(
            routes.create_team, organisation_id, body, page.caller, page.service, page.now
        )

    return await attempt(page, f"/org/manage?org={organisation_id}", page.t("saved"), act)


@router.post("/org/manage/{organisation_id}/stations")
async def add_station(request: Request, organisation_id: str) -> Response:
    page = await page_as(request, *STAFF)
    form = await form_of(page)

    async def act() -> None:
        services = [s.strip() for s in form.get("services", "").replace("，", ",").split(",") if s.strip()]
        body = routes.StationIn.model_validate({"name": form.get("name", ""), "setting": form.get("setting", "town"), "lat": _float(form.get("lat")), "lon": _float(form.get("lon")), "address": form.get("address") or None, "district": form.get("district") or None, "services": services})  # fmt: skip
        await run_in_threadpool(
            routes.add_station, organisation_id, body, page.caller, page.service, page.now
        )

    return await attempt(page, f"/org/manage?org={organisation_id}", page.t("saved"), act)


# ---------------------------------------------------------------------- stations on the map


@router.get("/stations", response_class=HTMLResponse)
async def stations(request: Request) -> Response:
    """Service stations on the city's map, and the nearest to a place (the caller's district
    centre for a volunteer, else the city's centre) listed with their distances."""
    page = await page_as(request, *SIGNED_IN)
    shapes, height = district_paths({}, page.lang)
    near = request.query_params.get("near") or "30.25,120.17"

    def read() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = routes.stations_near(page.service, near, 200.0, 200)["items"]
        return found

    try:
        found = await run_in_threadpool(read)
    except MatcherError as e:  # a bad near=: the API's message
        return back("/stations", error=problem(e, page.lang))
    for s in found:
        s["x"], s["y"] = project(s["lon"], s["lat"])
    return render(page, "stations.html", shapes=shapes, height=height, stations=found, near=near)
