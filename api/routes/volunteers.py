"""Volunteers: their own profile, erasure, data export and recommended activities."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from api import views
from api.deps import (
    Caller,
    CallerDep,
    LiveDep,
    NowDep,
    PlacesDep,
    audit_read,
    audit_read_async,
    own_volunteer,
    policy,
)
from api.geocoding import fill_point
from api.live import Live
from api.responses import ActivityRankingOut, VolunteerOut
from api.schemas import ConsentIn, VolunteerIn, VolunteerPatch, assign_ids
from api.usecases import recommend, records
from matcher.interchange.records import parse_volunteer, volunteer_to_json
from matcher.model.errors import ConflictError

router = APIRouter(prefix="/api/v1/volunteers", tags=["volunteers"])
K = Annotated[int, Query(ge=1, le=100, description="how many results (1-100)")]


@router.post(
    "",
    response_model=VolunteerOut,
    response_model_exclude_unset=True,
    status_code=201,
    **policy("admin registers volunteers", "admin"),
)
def create_volunteer(body: VolunteerIn, service: LiveDep, places: PlacesDep) -> dict[str, Any]:
    doc = fill_point(assign_ids(body.model_dump(mode="json", exclude_none=True), "v"), "home", places)
    v = parse_volunteer(doc, service.taxonomy)
    return volunteer_to_json(records.create_volunteer(service, v))


@router.get(
    "/{volunteer_id}",
    response_model=VolunteerOut,
    response_model_exclude_unset=True,
    **policy("the volunteer themself or an admin", "volunteer", "admin"),
)
def get_volunteer(volunteer_id: str, who: CallerDep, service: LiveDep, clock: NowDep) -> dict[str, Any]:
    """The whole record, home and contacts included (an admin's read is audited)."""
    own_volunteer(who, volunteer_id)
    found = volunteer_to_json(records.volunteer(service, volunteer_id))
    audit_read(service, who, "read.profile", [volunteer_id], clock)
    return found


@router.patch(
    "/{volunteer_id}",
    response_model=VolunteerOut,
    response_model_exclude_unset=True,
    **policy("the volunteer themself or an admin", "volunteer", "admin"),
)
def update_volunteer(
    volunteer_id: str,
    body: VolunteerPatch,
    who: CallerDep,
    service: LiveDep,
    places: PlacesDep,
    clock: NowDep,
) -> dict[str, Any]:
    own_volunteer(who, volunteer_id)
    change = body.model_dump(mode="json", exclude_unset=True)
    if "address" in change:
        change = fill_point({"home": None} | change, "home", places)
    locating = change.get("home") is not None
    consent = records.location_consent(service, volunteer_id) if locating else None
    if consent is not None and consent.action == "consent.location.withdrawn":
        raise ConflictError(
            "this volunteer withdrew consent to the use of their location: give it again "
            f"(PUT /api/v1/volunteers/{volunteer_id}/consent) before setting a home"
        )
    merged = volunteer_to_json(records.volunteer(service, volunteer_id)) | change
    merged["id"] = volunteer_id
    saved = volunteer_to_json(records.replace_volunteer(service, parse_volunteer(merged, service.taxonomy)))
    if locating and consent is None:  # giving a home is consenting to its use: on record
        _record_consent(service, who, volunteer_id, True, clock, "gave a home location")
    return saved


@router.get("/{volunteer_id}/consent", **policy("the volunteer themself or an admin", "volunteer", "admin"))
def get_consent(volunteer_id: str, who: CallerDep, service: LiveDep) -> dict[str, Any]:
    """Whether the volunteer's location may be used for matching, and since when. Without a
    recorded choice, a home given is taken as consent (``recorded: false``)."""
    own_volunteer(who, volunteer_id)
    v = records.volunteer(service, volunteer_id)
    last = records.location_consent(service, volunteer_id)
    if last is None:
        return {
            "volunteer_id": volunteer_id,
            "location": v.home is not None,
            "since_s": None,
            "recorded": False,
        }
    given = last.action == "consent.location.given"
    return {"volunteer_id": volunteer_id, "location": given, "since_s": last.at_s, "recorded": True}


@router.put("/{volunteer_id}/consent", **policy("the volunteer themself or an admin", "volunteer", "admin"))
def set_consent(
    volunteer_id: str, body: ConsentIn, who: CallerDep, service: LiveDep, clock: NowDep
) -> dict[str, Any]:
    """Give or withdraw consent to the use of the volunteer's location. Withdrawing removes
    their home at once, and with it the volunteer from every location-based match: they are
    matched to online activities only until they give consent and a home again. Either way
    the choice is recorded in the audit log."""
    own_volunteer(who, volunteer_id)
    v = records.volunteer(service, volunteer_id)
    if not body.location and v.home is not None:
        records.replace_volunteer(service, replace(v, home=None))
    _record_consent(service, who, volunteer_id, body.location, clock, body.note)
    return get_consent(volunteer_id, who, service)


def _record_consent(
    service: Live, who: Caller, volunteer_id: str, given: bool, at: datetime, detail: str
) -> None:
    records.record_consent(
        service, who.account.id, who.role, volunteer_id, given, int(at.timestamp()), detail
    )


@router.delete(
    "/{volunteer_id}", status_code=204, **policy("the volunteer themself or an admin", "volunteer", "admin")
)
def erase_volunteer(volunteer_id: str, who: CallerDep, service: LiveDep) -> Response:
    """Erase the person's personal data (name, contact, home, birth date) and their sign-in;
    their service hours stay as anonymous statistics."""
    own_volunteer(who, volunteer_id)
    records.erase_volunteer(service, volunteer_id)
    return Response(status_code=204)


@router.get("/{volunteer_id}/export", **policy("the volunteer themself or an admin", "volunteer", "admin"))
def export_volunteer(volunteer_id: str, who: CallerDep, service: LiveDep, clock: NowDep) -> dict[str, Any]:
    """Everything held about the volunteer: profile and service history (an admin's export is
    audited)."""
    own_volunteer(who, volunteer_id)
    found = views.volunteer_export(service, volunteer_id)
    audit_read(service, who, "read.export", [volunteer_id], clock)
    return found


@router.get(
    "/{volunteer_id}/recommended-activities",
    response_model=ActivityRankingOut,
    **policy("the volunteer themself or an admin", "volunteer", "admin"),
)
async def recommended_activities(
    volunteer_id: str, who: CallerDep, service: LiveDep, clock: NowDep, k: K = 10
) -> dict[str, Any]:
    """The best activities for the volunteer, each with its best shift, with parts and reasons."""
    # A coroutine on purpose, as recommended-volunteers is: the ranking is computed in place,
    # and what it shows (titles, places, the volunteer's home) is kept by the service.
    own_volunteer(who, volunteer_id)
    ranking = await service.answer(lambda: recommend.activities_for(service, volunteer_id, now=clock, k=k))
    # Exact distances from the home to known places: an admin's read is on record.
    await audit_read_async(service, who, "read.recommendations", [volunteer_id], clock)
    home = (await service.homes.shown([volunteer_id])).get(volunteer_id)
    shown = await service.activities.shown([m.id for m in ranking.matches])
    out = views.activity_ranking(ranking, shown, home)
    return views.served(service, out, "activities", volunteer_id, who.account.id, ranking, clock)
