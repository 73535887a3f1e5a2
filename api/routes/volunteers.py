"""Volunteers: their own profile, erasure, data export and recommended activities."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from api import views
from api.deps import CallerDep, LiveDep, NowDep, PlacesDep, own_volunteer, policy
from api.geocoding import fill_point
from api.schemas import RankingOut, VolunteerIn, VolunteerPatch
from matcher.interchange import parse_volunteer, volunteer_to_json

router = APIRouter(prefix="/api/v1/volunteers", tags=["volunteers"])
K = Annotated[int, Query(ge=1, le=100, description="how many results (1-100)")]


@router.post("", status_code=201, **policy("admin registers volunteers", "admin"))
def create_volunteer(body: VolunteerIn, service: LiveDep, places: PlacesDep) -> dict[str, Any]:
    doc = fill_point(body.model_dump(mode="json", exclude_none=True), "home", places)
    v = parse_volunteer(doc, service.taxonomy)
    return volunteer_to_json(service.create_volunteer(v))


@router.get("/{volunteer_id}", **policy("the volunteer themself or an admin", "volunteer", "admin"))
def get_volunteer(volunteer_id: str, who: CallerDep, service: LiveDep) -> dict[str, Any]:
    own_volunteer(who, volunteer_id)
    return volunteer_to_json(service.volunteer(volunteer_id))


@router.patch("/{volunteer_id}", **policy("the volunteer themself or an admin", "volunteer", "admin"))
def update_volunteer(
    volunteer_id: str, body: VolunteerPatch, who: CallerDep, service: LiveDep, places: PlacesDep
) -> dict[str, Any]:
    own_volunteer(who, volunteer_id)
    change = body.model_dump(mode="json", exclude_unset=True)
    if "address" in change:
        change = fill_point({"home": None} | change, "home", places)
    merged = volunteer_to_json(service.volunteer(volunteer_id)) | change
    merged["id"] = volunteer_id
    return volunteer_to_json(service.replace_volunteer(parse_volunteer(merged, service.taxonomy)))


@router.delete(
    "/{volunteer_id}", status_code=204, **policy("the volunteer themself or an admin", "volunteer", "admin")
)
def erase_volunteer(volunteer_id: str, who: CallerDep, service: LiveDep) -> Response:
    """Erase the person's personal data (name, contact, home, birth date) and their sign-in;
    their service hours stay as anonymous statistics."""
    own_volunteer(who, volunteer_id)
    service.erase_volunteer(volunteer_id)
    return Response(status_code=204)


@router.get("/{volunteer_id}/export", **policy("the volunteer themself or an admin", "volunteer", "admin"))
def export_volunteer(volunteer_id: str, who: CallerDep, service: LiveDep) -> dict[str, Any]:
    """Everything held about the volunteer: profile and service history."""
    own_volunteer(who, volunteer_id)
    return views.volunteer_export(service, volunteer_id)


@router.get(
    "/{volunteer_id}/recommended-activities",
    response_model=RankingOut,
    **policy("the volunteer themself or an admin", "volunteer", "admin"),
)
async def recommended_activities(
    volunteer_id: str, who: CallerDep, service: LiveDep, clock: NowDep, k: K = 10
) -> dict[str, Any]:
    """The best activities for the volunteer, each with its best shift, with parts and reasons."""
    # A coroutine on purpose, as recommended-volunteers is.
    own_volunteer(who, volunteer_id)

    def work() -> dict[str, Any]:
        ranking = service.activities_for(volunteer_id, now=clock, k=k)
        home = service.volunteer(volunteer_id).home
        return views.served(
            service,
            views.activity_ranking(service, ranking, home),
            "activities",
            volunteer_id,
            who.account.id,
            ranking,
            clock,
        )

    return await service.answer(work)
