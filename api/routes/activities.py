"""Activities (postings with their shifts): organisers manage their organisation's, everyone
signed in can browse, organisers ask for recommended volunteers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response

from api import views
from api.deps import CallerDep, LiveDep, NowDep, PlacesDep, own_organisation, policy
from api.geocoding import fill_point
from api.responses import ActivityOut, Page, VolunteerRankingOut
from api.schemas import (
    ActivityIn,
    ActivityPatch,
    IsoDateTime,
    assign_ids,
    near_point,
)
from api.usecases import recommend, records
from matcher.interchange.records import activity_to_json, parse_activity
from matcher.matching.ranking import Ranking
from matcher.model.errors import NotFoundError, ValidationError
from matcher.model.vocabulary import ROLES

router = APIRouter(prefix="/api/v1/activities", tags=["activities"])
MAX_RADIUS_KM = 200.0
SIGNED_IN = ROLES


@router.post(
    "",
    response_model=ActivityOut,
    response_model_exclude_unset=True,
    status_code=201,
    **policy("organisers post for their organisation", "organiser", "org_admin", "admin"),
)
def create_activity(body: ActivityIn, who: CallerDep, service: LiveDep, places: PlacesDep) -> dict[str, Any]:
    own = who.account.organisation_id if who.staff else None
    if own is not None and body.organisation_id is not None and not who.acts_for(body.organisation_id):
        raise HTTPException(403, f"you post for organisation {own!r} only")
    if body.organisation_id is None and own is None:
        raise ValidationError("organisation_id", "say which organisation posts this activity")
    doc = assign_ids(
        body.model_dump(mode="json", exclude_none=True) | {"organisation_id": body.organisation_id or own},
        "a",
    )
    if not doc.get("online"):
        doc = fill_point(doc, "location", places)
    a = parse_activity(doc, service.taxonomy)
    return activity_to_json(records.create_activity(service, a))


@router.get("", response_model=Page, **policy("anyone signed in", *SIGNED_IN))
def list_activities(
    service: LiveDep,
    near: Annotated[str | None, Query(description="lat,lon: nearest first", max_length=60)] = None,
    radius_km: Annotated[float | None, Query(gt=0, le=MAX_RADIUS_KM, allow_inf_nan=False)] = None,
    category: Annotated[str | None, Query(max_length=200)] = None,
    starts_from: Annotated[IsoDateTime | None, Query(alias="from")] = None,
    starts_to: Annotated[IsoDateTime | None, Query(alias="to")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    """Open postings filtered by place, category and when their shifts start; paginated."""
    point = near_point(near)
    if radius_km is not None and point is None:
        raise ValidationError("radius_km", "needs near=lat,lon")
    if starts_from is not None and starts_to is not None and starts_to <= starts_from:
        raise ValidationError("to", "must be after 'from'")
    found = recommend.activities_near(
        service,
        near=point,
        radius_km=radius_km,
        category=category,
        starts_from=starts_from,
        starts_to=starts_to,
    )
    page = found[offset : offset + limit]
    return {
        "items": [views.activity(a, d) for a, d in page],
        "total": len(found),
        "offset": offset,
        "limit": limit,
    }


@router.get(
    "/{activity_id}",
    response_model=ActivityOut,
    response_model_exclude_unset=True,
    **policy("anyone signed in", *SIGNED_IN),
)
async def get_activity(activity_id: str, service: LiveDep) -> dict[str, Any]:
    """The posting as this service keeps it for display: a change made through another worker
    shows here within a quarter of a second (the change log), one made here at once."""
    found = (await service.activities.shown([activity_id])).get(activity_id)
    if found is None:
        raise NotFoundError("activity", activity_id)
    return activity_to_json(found)


@router.patch(
    "/{activity_id}",
    response_model=ActivityOut,
    response_model_exclude_unset=True,
    **policy("organisers of the activity's organisation", "organiser", "org_admin", "admin"),
)
def update_activity(
    activity_id: str, body: ActivityPatch, who: CallerDep, service: LiveDep, places: PlacesDep, clock: NowDep
) -> dict[str, Any]:
    current = records.activity(service, activity_id)
    own_organisation(who, current.organisation_id, kind="activity", ident=activity_id)
    change = body.model_dump(mode="json", exclude_unset=True)
    if change.get("shifts"):
        change["shifts"] = assign_ids(change, "a")["shifts"]
    if "address" in change:
        change = fill_point({"location": None} | change, "location", places)
    merged = activity_to_json(current) | change
    merged["id"], merged["organisation_id"] = activity_id, current.organisation_id
    changed = parse_activity(merged, service.taxonomy)
    return activity_to_json(records.replace_activity(service, changed, clock))  # its volunteers told of moves


@router.delete(
    "/{activity_id}",
    status_code=204,
    **policy("organisers of the activity's organisation", "organiser", "org_admin", "admin"),
)
def delete_activity(activity_id: str, who: CallerDep, service: LiveDep, clock: NowDep) -> Response:
    current = records.activity(service, activity_id)
    own_organisation(who, current.organisation_id, kind="activity", ident=activity_id)
    records.delete_activity(service, activity_id, clock)  # its volunteers told
    return Response(status_code=204)


@router.get(
    "/{activity_id}/recommended-volunteers",
    response_model=VolunteerRankingOut,
    **policy("organisers of the activity's organisation", "organiser", "org_admin", "admin"),
)
async def recommended_volunteers(
    activity_id: str,
    who: CallerDep,
    service: LiveDep,
    clock: NowDep,
    shift_id: Annotated[str | None, Query(max_length=64)] = None,
    k: Annotated[int, Query(ge=1, le=100, description="how many results (1-100)")] = 10,
    radius_km: Annotated[float | None, Query(gt=0, le=MAX_RADIUS_KM, allow_inf_nan=False)] = None,
) -> dict[str, Any]:
    """The best volunteers for a shift (or for any open shift), with their parts and reasons.
    Organisers see districts and distance bands, not where volunteers live."""
    # A coroutine on purpose: the work is a millisecond or two of computation in memory, cheaper
    # done in place than handed to a worker thread and back (unless a long write holds the
    # index: see Live.answer); the volunteers' cards are kept by the service.

    def rank() -> Ranking:
        own_organisation(
            who, records.organisation_of(service, activity_id), kind="activity", ident=activity_id
        )
        return recommend.volunteers_for(
            service,
            activity_id,
            now=clock,
            shift_id=shift_id,
            k=k,
            radius_km=radius_km,
            banded=who.role != "admin",
        )

    ranking = await service.answer(rank)
    cards = await service.cards.shown([m.id for m in ranking.matches])
    out = views.volunteer_ranking(ranking, cards)
    return views.served(service, out, "volunteers", activity_id, who.account.id, ranking, clock)
