"""Organisations as the association is organised (社会化运作): the registry and its hierarchy
(city → district → street → community; schools, companies, NGOs, departments), members, invitations,
teams and their sign-ups, service stations, and activities open to members only.

Who sees what: admins everything; organisers and org admins the organisations they act for
(an org admin's and everything under it), and others' records are not found (404); volunteers
and analysts the directory of approved organisations (public fields), to choose where to join."""

from __future__ import annotations

import secrets
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response
from pydantic import Field

from api.deps import Caller, CallerDep, LiveDep, NowDep, own_organisation, own_volunteer, policy
from api.schemas import Exact, Ident, Strict, Text, Window, near_point
from api.usecases import organisations as orgs
from api.usecases import records
from matcher.model.errors import NotFoundError, ValidationError
from matcher.model.vocabulary import ROLES, OrganisationKind, OrganisationStatus, StationSetting
from matcher.operations.joining import Organisation
from matcher.store.organisations import Station, Team

router = APIRouter(prefix="/api/v1", tags=["organisations"])

STAFF = ("organiser", "org_admin", "admin")
ORG_ADMINS = ("org_admin", "admin")
MAX_RADIUS_KM = 200.0
Code = Annotated[str, Path(min_length=1, max_length=100)]


def _visible(service: Any, who: Caller, ident: str) -> tuple[Organisation, bool]:
    """The organisation and whether the caller sees it whole (else its public fields); 404 if
    the caller may not see it at all."""
    org = orgs.get(service, ident)
    if who.acts_for(ident):
        return org, True
    if not who.staff and org.status is OrganisationStatus.APPROVED:
        return org, False
    raise NotFoundError("organisation", ident)


def _managed(who: Caller, ident: str, *, admins_only: bool = False) -> None:
    """The caller acts for the organisation (an org admin, with ``admins_only``), else 404."""
    if not who.acts_for(ident) or (admins_only and who.role not in ORG_ADMINS):
        raise NotFoundError("organisation", ident)


class OrganisationIn(Strict):
    """A new organisation. Made by an admin, or an org admin over its parent, it is approved
    at once; anyone else's applies, for the parent's admins to approve."""

    id: Ident | None = Field(default=None, description="leave out: the service assigns one")
    name: str = Field(min_length=1, max_length=200)
    kind: OrganisationKind
    parent_id: Ident | None = Field(default=None, description="none only for an association (the root)")
    district: Text | None = None
    area: Annotated[list[Text], Field(max_length=100)] = Field(
        default_factory=list, description="districts served"
    )
    contact_name: Text | None = None
    contact_phone: Text | None = None
    contact_email: Text | None = None


@router.post("/organisations", status_code=201, **policy("anyone signed in may apply", *ROLES))
def create_organisation(
    body: OrganisationIn, who: CallerDep, service: LiveDep, clock: NowDep
) -> dict[str, Any]:
    """Apply for a new organisation under its parent (or make one, approved, as an admin above)."""
    approver = who.role == "admin" or (
        who.role == "org_admin" and body.parent_id is not None and who.acts_for(body.parent_id)
    )
    org = Organisation(
        id=body.id or f"org_{secrets.token_hex(6)}", name=body.name.strip(), kind=body.kind,
        parent_id=body.parent_id, status=OrganisationStatus.APPLIED, district=body.district,
        area=tuple(body.area), contact_name=body.contact_name, contact_phone=body.contact_phone,
        contact_email=body.contact_email, created_s=int(clock.timestamp()),
    )  # fmt: skip
    return orgs.org_json(orgs.create(service, org, who.account.id, approver), full=True)


@router.get("/organisations", **policy("anyone signed in (staff: what they act for)", *ROLES))
def list_organisations(
    who: CallerDep,
    service: LiveDep,
    parent: Annotated[str | None, Query(max_length=64, description="only its children")] = None,
    status: Annotated[OrganisationStatus | None, Query()] = None,
    kind: Annotated[OrganisationKind | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """Organisations: an admin's all, staff's those they act for, everyone else's the approved."""
    if who.role == "admin":
        reach, full = None, True
    elif who.staff:
        reach, full = who.reach, True
    else:
        if status not in (None, OrganisationStatus.APPROVED):
            return {"items": [], "limit": limit, "offset": offset}
        reach, full, status = None, False, OrganisationStatus.APPROVED
    found = orgs.listed(service, reach, parent=parent, status=status, kind=kind, limit=limit, offset=offset)
    return {"items": [orgs.org_json(o, full=full) for o in found], "limit": limit, "offset": offset}


@router.get(
    "/organisations/{organisation_id}", **policy("anyone signed in (staff: what they act for)", *ROLES)
)
def get_organisation(organisation_id: str, who: CallerDep, service: LiveDep) -> dict[str, Any]:
    org, full = _visible(service, who, organisation_id)
    return orgs.org_json(org, full=full)


@router.get(
    "/organisations/{organisation_id}/children",
    **policy("anyone signed in (staff: what they act for)", *ROLES),
)
def organisation_children(organisation_id: str, who: CallerDep, service: LiveDep) -> dict[str, Any]:
    """The organisations directly under this one."""
    _, full = _visible(service, who, organisation_id)
    found = orgs.children(service, organisation_id)
    shown = [
        o for o in found if who.acts_for(o.id) or (not who.staff and o.status is OrganisationStatus.APPROVED)
    ]
    return {"items": [orgs.org_json(o, full=full) for o in shown]}


class OrganisationPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    parent_id: Ident | None = None
    district: Text | None = None
    area: Annotated[list[Text], Field(max_length=100)] | None = None
    contact_name: Text | None = None
    contact_phone: Text | None = None
    contact_email: Text | None = None


@router.patch("/organisations/{organisation_id}", **policy("its org admins, admins", *ORG_ADMINS))
def update_organisation(
    organisation_id: str, body: OrganisationPatch, who: CallerDep, service: LiveDep
) -> dict[str, Any]:
    """Change names, contacts, area or the parent (checked like a new parent: no cycles)."""
    _managed(who, organisation_id, admins_only=True)
    changes = body.model_dump(exclude_unset=True)
    if "parent_id" in changes and who.role != "admin":
        parent = changes["parent_id"]
        if organisation_id == who.account.organisation_id or parent is None or not who.acts_for(parent):
            raise HTTPException(403, "an org admin moves organisations within what it manages only")
    if "name" in changes and changes["name"] is None:
        raise ValidationError("name", "cannot be removed")
    return orgs.org_json(orgs.update(service, organisation_id, changes), full=True)


class DecisionIn(Exact):
    status: Literal["approved", "refused", "suspended"] = "approved"


@router.post(
    "/organisations/{organisation_id}/approve", **policy("the parent's org admins, admins", *ORG_ADMINS)
)
def approve_organisation(
    organisation_id: str, who: CallerDep, service: LiveDep, clock: NowDep, body: DecisionIn | None = None
) -> dict[str, Any]:
    """Approve an organisation that applied (or refuse it; or suspend an approved one, and
    approve it again to lift that). Decided by the admins of the organisation above it."""
    org = orgs.get(service, organisation_id)
    parent_ok = org.parent_id is not None and who.acts_for(org.parent_id)
    if who.role != "admin" and (not parent_ok or organisation_id == who.account.organisation_id):
        if who.acts_for(organisation_id):
            raise HTTPException(403, "an organisation is approved by the admins of the one above it")
        raise NotFoundError("organisation", organisation_id)
    status = OrganisationStatus((body or DecisionIn()).status)
    return orgs.org_json(orgs.decide(service, organisation_id, status, who.account.id, clock), full=True)


# ---------------------------------------------------------------------- members


class JoinIn(Exact):
    note: str = Field(default="", max_length=500, description="a word to the organisation")


@router.post("/organisations/{organisation_id}/members", status_code=201, **policy("volunteers", "volunteer"))
def join(
    organisation_id: str, who: CallerDep, service: LiveDep, clock: NowDep, body: JoinIn | None = None
) -> dict[str, Any]:
    """Ask to join (the organisation's organisers or admins approve)."""
    _visible(service, who, organisation_id)
    vid = who.account.volunteer_id
    assert vid is not None  # a volunteer account names its volunteer
    return asdict(orgs.apply(service, organisation_id, vid, (body or JoinIn()).note, clock))


@router.get(
    "/organisations/{organisation_id}/members", **policy("its organisers and org admins, admins", *STAFF)
)
def list_members(
    organisation_id: str,
    who: CallerDep,
    service: LiveDep,
    status: Annotated[Literal["applied", "approved", "refused", "left"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """Members and requests, with names and districts (no contacts)."""
    _managed(who, organisation_id)
    return {
        "items": orgs.members(service, organisation_id, status, limit, offset),
        "limit": limit,
        "offset": offset,
    }


class MemberDecisionIn(Exact):
    approve: bool


@router.post(
    "/organisations/{organisation_id}/members/{volunteer_id}/decision",
    **policy("its organisers and org admins, admins", *STAFF),
)
def decide_member(
    organisation_id: str,
    volunteer_id: str,
    body: MemberDecisionIn,
    who: CallerDep,
    service: LiveDep,
    clock: NowDep,
) -> dict[str, Any]:
    """Approve or refuse a request to join; the volunteer is told."""
    _managed(who, organisation_id)
    return asdict(
        orgs.decide_member(service, organisation_id, volunteer_id, body.approve, who.account.id, clock)
    )


@router.delete(
    "/organisations/{organisation_id}/members/{volunteer_id}",
    **policy("the member themself, its organisers and org admins, admins", "volunteer", *STAFF),
)
def leave(
    organisation_id: str, volunteer_id: str, who: CallerDep, service: LiveDep, clock: NowDep
) -> dict[str, Any]:
    """Leave (or remove a member): their teams in the organisation lose them too."""
    if who.role == "volunteer":
        own_volunteer(who, volunteer_id)
    else:
        _managed(who, organisation_id)
    return asdict(orgs.leave(service, organisation_id, volunteer_id, clock))


@router.get(
    "/volunteers/{volunteer_id}/memberships",
    **policy("the volunteer themself or an admin", "volunteer", "admin"),
)
def memberships(volunteer_id: str, who: CallerDep, service: LiveDep) -> dict[str, Any]:
    own_volunteer(who, volunteer_id)
    return {"items": orgs.memberships_of(service, volunteer_id)}


# ---------------------------------------------------------------------- invitations


class InvitationIn(Exact):
    role: Literal["organiser", "org_admin"]
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=200)


@router.post(
    "/organisations/{organisation_id}/invitations",
    status_code=201,
    **policy("its org admins, admins", *ORG_ADMINS),
)
def invite(
    organisation_id: str, body: InvitationIn, who: CallerDep, service: LiveDep, clock: NowDep
) -> dict[str, Any]:
    """An invitation to act for the organisation: its code is shown once, to pass on to the
    invitee, who accepts it signed in with that phone number (verified) or e-mail address."""
    _managed(who, organisation_id, admins_only=True)
    return orgs.invite(service, organisation_id, body.role, body.phone, body.email, who.account.id, clock)


@router.get("/organisations/{organisation_id}/invitations", **policy("its org admins, admins", *ORG_ADMINS))
def list_invitations(organisation_id: str, who: CallerDep, service: LiveDep) -> dict[str, Any]:
    _managed(who, organisation_id, admins_only=True)
    return {"items": orgs.invitations(service, organisation_id)}


@router.post("/invitations/{code}/accept", **policy("the invitee, signed in", *ROLES))
def accept_invitation(code: Code, who: CallerDep, service: LiveDep, clock: NowDep) -> dict[str, Any]:
    """Take the invitation: this account then acts for the organisation in the invited role
    (its volunteer record and hours stay its own). Sign in again for a token with the role."""
    return orgs.accept(service, code, who.account.id, who.account.volunteer_id, clock)


# ---------------------------------------------------------------------- teams


class TeamIn(Exact):
    name: str = Field(min_length=1, max_length=100)
    leader_id: Ident
    members: Annotated[list[Ident], Field(max_length=500)] = Field(default_factory=list)


def _team_json(t: Team) -> dict[str, Any]:
    return {"id": t.id, "organisation_id": t.organisation_id, "name": t.name, "leader_id": t.leader_id,
            "members": list(t.members)}  # fmt: skip


@router.post(
    "/organisations/{organisation_id}/teams",
    status_code=201,
    **policy("its organisers and org admins, admins", *STAFF),
)
def create_team(
    organisation_id: str, body: TeamIn, who: CallerDep, service: LiveDep, clock: NowDep
) -> dict[str, Any]:
    """A team (小队) of the organisation's members, with its leader."""
    _managed(who, organisation_id)
    team = Team(
        f"team_{secrets.token_hex(6)}",
        organisation_id,
        body.name.strip(),
        body.leader_id,
        tuple(body.members),
    )
    return _team_json(orgs.create_team(service, team, clock))


@router.get(
    "/organisations/{organisation_id}/teams", **policy("its organisers and org admins, admins", *STAFF)
)
def list_teams(organisation_id: str, who: CallerDep, service: LiveDep) -> dict[str, Any]:
    _managed(who, organisation_id)
    return {"items": [_team_json(t) for t in orgs.teams(service, organisation_id=organisation_id)]}


def _own_team(service: Any, who: Caller, team_id: str, *, leader: bool) -> Team:
    """The team if the caller may act on it: its organisation's staff, its leader (or, to
    read, any member); else 404."""
    team = orgs.team(service, team_id)
    if who.acts_for(team.organisation_id):
        return team
    vid = who.account.volunteer_id
    if (
        who.role == "volunteer"
        and vid is not None
        and (vid == team.leader_id or (not leader and vid in team.members))
    ):
        return team
    raise NotFoundError("team", team_id)


@router.get(
    "/teams/{team_id}", **policy("its members, its organisation's staff, admins", "volunteer", *STAFF)
)
def get_team(
    team_id: Annotated[str, Path(max_length=64)], who: CallerDep, service: LiveDep
) -> dict[str, Any]:
    return _team_json(_own_team(service, who, team_id, leader=False))


class TeamMembersIn(Exact):
    members: Annotated[list[Ident], Field(max_length=500)]


@router.put(
    "/teams/{team_id}/members", **policy("its leader, its organisation's staff, admins", "volunteer", *STAFF)
)
def set_team_members(
    team_id: Annotated[str, Path(max_length=64)],
    body: TeamMembersIn,
    who: CallerDep,
    service: LiveDep,
    clock: NowDep,
) -> dict[str, Any]:
    """The team's members as listed (each an approved member of the organisation)."""
    _own_team(service, who, team_id, leader=True)
    return _team_json(orgs.set_team_members(service, team_id, body.members, clock))


@router.get(
    "/volunteers/{volunteer_id}/teams", **policy("the volunteer themself or an admin", "volunteer", "admin")
)
def my_teams(volunteer_id: str, who: CallerDep, service: LiveDep) -> dict[str, Any]:
    own_volunteer(who, volunteer_id)
    return {"items": [_team_json(t) for t in orgs.teams(service, member=volunteer_id)]}


class TeamSignupIn(Exact):
    team_id: Ident
    members: Annotated[list[Ident], Field(min_length=1, max_length=500)]


@router.post(
    "/shifts/{shift_id}/team-signups",
    status_code=201,
    **policy("the team's leader, its organisation's staff, admins", "volunteer", *STAFF),
)
def team_sign_up(
    shift_id: str, body: TeamSignupIn, who: CallerDep, service: LiveDep, clock: NowDep
) -> dict[str, Any]:
    """Sign the members going up together: every one confirmed (each eligible by the core's
    rules, the places decided in the database) or none, and a refusal (409) says who failed
    which rule (``failed``), or how many places are left. A team does not wait on the waitlist:
    freed places go one person at a time, which would split it."""
    team = _own_team(service, who, body.team_id, leader=True)
    return orgs.team_sign_up(service, team, shift_id, body.members, who.account.id, clock)


# ---------------------------------------------------------------------- stations


class StationIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    setting: StationSetting = StationSetting.TOWN
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    address: Text | None = None
    district: Text | None = None
    opening_hours: Annotated[list[Window], Field(max_length=100)] = Field(default_factory=list)
    services: Annotated[list[Text], Field(max_length=50)] = Field(default_factory=list)


def _station_json(s: Station, distance_km: float | None = None) -> dict[str, Any]:
    found = asdict(s)
    found["opening_hours"], found["services"], found["activities"] = (
        list(s.opening_hours),
        list(s.services),
        list(s.activities),
    )
    if distance_km is not None:
        found["distance_km"] = round(distance_km, 2)
    return found


@router.post(
    "/organisations/{organisation_id}/stations",
    status_code=201,
    **policy("its organisers and org admins, admins", *STAFF),
)
def add_station(
    organisation_id: str, body: StationIn, who: CallerDep, service: LiveDep, clock: NowDep
) -> dict[str, Any]:
    """A service station (志愿服务站点) the organisation runs: a fixed place, its opening hours
    and the services it offers."""
    _managed(who, organisation_id)
    station = Station(
        f"st_{secrets.token_hex(6)}", organisation_id, body.name.strip(), body.setting.value, body.lat, body.lon,
        body.address, body.district, tuple(w.model_dump() for w in body.opening_hours), tuple(body.services),
    )  # fmt: skip
    return _station_json(orgs.add_station(service, station, clock))


@router.get("/stations", **policy("anyone signed in", *ROLES))
def stations_near(
    service: LiveDep,
    near: Annotated[str, Query(max_length=60, description="lat,lon")],
    radius_km: Annotated[float, Query(gt=0, le=MAX_RADIUS_KM, allow_inf_nan=False)] = 10.0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Stations near a place, nearest first, with their distances."""
    point = near_point(near)
    assert point is not None
    found = orgs.stations_near(service, point.lat, point.lon, radius_km, limit)
    return {"items": [_station_json(s, d) for s, d in found]}


@router.get("/stations/{station_id}", **policy("anyone signed in", *ROLES))
def get_station(station_id: Annotated[str, Path(max_length=64)], service: LiveDep) -> dict[str, Any]:
    return _station_json(orgs.station(service, station_id))


@router.get("/organisations/{organisation_id}/stations", **policy("anyone signed in", *ROLES))
def organisation_stations(organisation_id: str, who: CallerDep, service: LiveDep) -> dict[str, Any]:
    _visible(service, who, organisation_id)
    return {"items": [_station_json(s) for s in orgs.stations_of(service, [organisation_id])]}


class StationChoiceIn(Exact):
    station_id: Ident | None = Field(description="null: held at no station")


@router.put(
    "/activities/{activity_id}/station",
    status_code=204,
    **policy("the activity's organisers, admins", *STAFF),
)
def hold_at_station(activity_id: str, body: StationChoiceIn, who: CallerDep, service: LiveDep) -> Response:
    """Hold the activity at one of its organisation's stations (or at none)."""
    owner = records.organisation_of(service, activity_id)
    own_organisation(who, owner, kind="activity", ident=activity_id)
    if body.station_id is not None:
        station = orgs.station(service, body.station_id)
        if not who.acts_for(station.organisation_id):
            raise NotFoundError("station", body.station_id)
    orgs.hold_at(service, activity_id, body.station_id)
    return Response(status_code=204)


class AudienceIn(Exact):
    organisation_id: Ident | None = Field(description="null: open to everyone")
    subtree: bool = Field(default=False, description="members of the organisations under it too")


@router.put("/activities/{activity_id}/audience", **policy("the activity's organisers, admins", *STAFF))
def set_audience(activity_id: str, body: AudienceIn, who: CallerDep, service: LiveDep) -> dict[str, Any]:
    """Open the activity's shifts to members of an organisation (and those under it) only: a
    hard rule, checked when a place is taken."""
    owner = records.organisation_of(service, activity_id)
    own_organisation(who, owner, kind="activity", ident=activity_id)
    if body.organisation_id is not None and not who.acts_for(body.organisation_id):
        raise NotFoundError("organisation", body.organisation_id)
    orgs.set_audience(service, activity_id, body.organisation_id, body.subtree)
    return {"activity_id": activity_id, "organisation_id": body.organisation_id, "subtree": body.subtree}


@router.get("/activities/{activity_id}/audience", **policy("anyone signed in", *ROLES))
def get_audience(activity_id: str, service: LiveDep) -> dict[str, Any]:
    records.organisation_of(service, activity_id)  # 404 for an unknown activity
    found = orgs.audience(service, activity_id)
    return {"activity_id": activity_id, "organisation_id": None if found is None else found[0],
            "subtree": False if found is None else found[1]}  # fmt: skip
