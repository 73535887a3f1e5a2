"""Demand-driven project design: needs that are not yet activities, and where demand outruns
the volunteers who could meet it.

Communities, residents' committees and partner agencies post needs through their organisers
(organisation accounts). Analysts and organisers read the gap table and the suggestions:
aggregates only, with any cell built from fewer than five volunteers suppressed
(:mod:`matcher.analytics.gaps`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Query
from pydantic import AwareDatetime, Field

from api.deps import Caller, CallerDep, LiveDep, NowDep, policy
from api.live import Live
from api.schemas import Ident, IsoDate, Point, Strict, Text, city_midnight
from api.usecases import demand, organisations, records
from matcher.analytics import forecast
from matcher.analytics.gaps import KEYS, Scope, check_range
from matcher.interchange.records import need_to_json, parse_need
from matcher.matching.columns import category_key
from matcher.model.domain import Need
from matcher.model.errors import NotFoundError, ValidationError

router = APIRouter(prefix="/api/v1", tags=["demand and supply"])


class NeedIn(Strict):
    """A need: what, where (a point or a district), when (once, or weekly until a date), for
    how many volunteers and people, how urgent."""

    id: Ident
    organisation_id: Ident | None = Field(None, description="admins only: the organisation it is posted for")
    category: Text
    start: AwareDatetime
    end: AwareDatetime
    weekly_until: date | None = None
    skills: Annotated[list[Text], Field(max_length=50)] = Field(default_factory=list)
    location: Point | None = None
    district: Text | None = None
    volunteers_needed: int = Field(1, ge=1, le=10_000)
    people_affected: int = Field(0, ge=0, le=10_000_000)
    urgency: Literal["low", "normal", "high", "urgent"] = "normal"
    description: Annotated[str, Field(max_length=10_000)] = ""


class NeedPatch(Strict):
    status: Literal["open", "met", "closed"] | None = None
    activity_ids: Annotated[list[Ident], Field(max_length=100)] | None = None
    volunteers_needed: int | None = Field(None, ge=1, le=10_000)
    urgency: Literal["low", "normal", "high", "urgent"] | None = None


NEED_WRITERS = ("organisers (for their organisation), admins", "organiser", "org_admin", "admin")
READERS = ("analysts, organisers, admins", "analyst", "organiser", "org_admin", "admin")
SUBTREE_404: dict[int | str, dict[str, Any]] = {
    404: {"description": "the organisation is not one the caller acts for"}
}


@router.post("/needs", status_code=201, **policy(*NEED_WRITERS))
def create_need(body: NeedIn, who: CallerDep, service: LiveDep) -> dict[str, Any]:
    """Post a need that no activity answers yet."""
    data = body.model_dump(mode="json")
    if who.staff:
        if body.organisation_id is not None and not who.acts_for(body.organisation_id):
            raise ValidationError("organisation_id", "an organiser posts needs for their own organisation")
        data["organisation_id"] = body.organisation_id or who.account.organisation_id
    elif body.organisation_id is None:
        raise ValidationError("organisation_id", "say which organisation the need is for")
    need = parse_need(data, service.taxonomy)
    return need_to_json(demand.add_need(service, need))


@router.get("/needs", **policy(*READERS))
def list_needs(
    service: LiveDep,
    status: Literal["open", "met", "closed"] | None = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Needs (no personal data in them), by id."""
    found = demand.needs(service, status)
    return {"items": [need_to_json(n) for n in found[offset : offset + limit]], "total": len(found),
            "offset": offset, "limit": limit}  # fmt: skip


@router.get("/needs/{need_id}", **policy(*READERS))
def get_need(need_id: Ident, service: LiveDep) -> dict[str, Any]:
    return need_to_json(demand.need(service, need_id))


@router.patch("/needs/{need_id}", **policy(*NEED_WRITERS))
def update_need(need_id: Ident, body: NeedPatch, who: CallerDep, service: LiveDep) -> dict[str, Any]:
    """Mark a need met or closed, change how many it asks for, or link the activities that
    answer it (they must exist)."""
    need = demand.need(service, need_id)
    if who.staff and not who.acts_for(need.organisation_id):
        raise NotFoundError("need", need_id)
    for ident in body.activity_ids or ():
        records.activity(service, ident)  # 404 for an activity that does not exist
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    if "activity_ids" in changes:
        changes["activity_ids"] = tuple(changes["activity_ids"])
    fields = {f: getattr(need, f) for f in Need.__dataclass_fields__}
    return need_to_json(demand.replace_need(service, Need(**(fields | changes))))


def _scope(service: Live, who: Caller, organisation: str | None) -> Scope | None:
    """An organisation's subtree (an org admin's own when none is named), if the caller acts
    for it (else 404); None: the whole city."""
    if organisation is None and who.role == "org_admin":
        organisation = who.account.organisation_id
    if organisation is None:
        return None
    if who.staff and not who.acts_for(organisation):
        raise NotFoundError("organisation", organisation)
    return demand.subtree_scope(service, organisation)


def _range(clock: Any, start: date | None, end: date | None) -> tuple[date, date]:
    first = start or clock.date()
    last = end or first + timedelta(days=28)
    check_range(first, last)
    return first, last


@router.get("/analytics/gaps", responses=SUBTREE_404, **policy(*READERS))
def gap_table(
    service: LiveDep,
    who: CallerDep,
    clock: NowDep,
    by: Annotated[
        str,
        Query(
            max_length=100,
            description=f"comma-separated, any of {', '.join(KEYS)} (category or skill, not both)",
        ),
    ] = "district,category,weekday",
    start: Annotated[IsoDate | None, Query(alias="from", description="first date (default: today)")] = None,
    end: Annotated[
        IsoDate | None, Query(alias="to", description="end date, exclusive (default: 4 weeks on)")
    ] = None,
    format: Literal["json", "geojson"] = "json",
    organisation: Annotated[
        str | None,
        Query(
            max_length=64, description="an organisation's subtree: its postings, volunteers in its districts"
        ),
    ] = None,
) -> dict[str, Any]:
    """Demand against supply per cell: hours needed, hours volunteers are free (after their
    confirmed shifts), the gap and the fill rate. Cells from fewer than five volunteers are
    suppressed. ``format=geojson`` gives one point feature per row at its district's centre.
    With ``organisation`` (an org admin's own by default) the table is its subtree's: demand
    from its postings and needs, supply from the districts it serves."""
    keys = [k.strip() for k in by.split(",") if k.strip()]
    first, last = _range(clock, start, end)
    frame = demand.gaps(service, keys, first, last, _scope(service, who, organisation))
    rows = [
        {k: (None if v != v else v) for k, v in r.items()} for r in frame.to_dict("records")
    ]  # NaN -> null
    if format == "json":
        return {"from": first.isoformat(), "to": last.isoformat(), "by": keys, "rows": rows}
    centres = demand.district_centres(
        service,
    )
    features = []
    for r in rows:
        centre = centres.get(str(r.get("district")))
        features.append(
            {"type": "Feature", "properties": r,
             "geometry": None if centre is None else {"type": "Point", "coordinates": [round(centre[1], 5), round(centre[0], 5)]}}
        )  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


@router.get("/analytics/stations", responses=SUBTREE_404, **policy(*READERS))
def station_table(
    service: LiveDep,
    who: CallerDep,
    clock: NowDep,
    start: Annotated[IsoDate | None, Query(alias="from", description="first date (default: today)")] = None,
    end: Annotated[
        IsoDate | None, Query(alias="to", description="end date, exclusive (default: 4 weeks on)")
    ] = None,
    organisation: Annotated[str | None, Query(max_length=64, description="an organisation's subtree")] = None,
) -> dict[str, Any]:
    """Service stations with the shifts of the activities held at them in the range: places
    offered, places taken and the fill rate, emptiest first (an org admin's own subtree by
    default)."""
    first, last = _range(clock, start, end)
    scope = _scope(service, who, organisation)
    rows = organisations.station_figures(
        service, city_midnight(first), city_midnight(last), None if scope is None else scope.organisations
    )
    return {"from": first.isoformat(), "to": last.isoformat(), "rows": rows}


@router.get("/analytics/suggestions", **policy(*READERS))
def suggestions(
    service: LiveDep,
    clock: NowDep,
    start: Annotated[IsoDate | None, Query(alias="from")] = None,
    end: Annotated[IsoDate | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    """Ideas for new projects (idle volunteers who fit, open needs) and for recruitment (open
    needs no nearby volunteers can meet), each with its evidence."""
    first, last = _range(clock, start, end)
    return {"from": first.isoformat(), "to": last.isoformat()} | demand.suggestions(
        service, first, last, limit
    )


@router.get("/analytics/forecast", responses=SUBTREE_404, **policy(*READERS))
def demand_forecast(
    service: LiveDep,
    who: CallerDep,
    clock: NowDep,
    weeks: Annotated[int, Query(ge=1, le=26, description="weeks to forecast")] = 4,
    history_weeks: Annotated[int, Query(ge=4, le=260, description="weeks of history to read")] = 104,
    organisation: Annotated[str | None, Query(max_length=64, description="an organisation's subtree")] = None,
) -> dict[str, Any]:
    """How demand moves: hours served per category and week (history), each category's share
    by weekday, and a forecast of the coming weeks (recent level and trend, scaled by season
    where two years of history show one)."""
    today = clock.date()
    rows = demand.served_hours(
        service, today - timedelta(weeks=history_weeks), _scope(service, who, organisation)
    )
    history = pd.DataFrame(rows, columns=["date", "category", "hours"])
    history["category"] = history["category"].map(category_key)
    table = forecast.weekly(history, today)
    ahead = forecast.forecast(table, today, weeks) if not table.empty else table
    profile = forecast.weekday_profile(history) if not history.empty else pd.DataFrame()
    return {
        "history": [{"week": str(r["week"]), "category": r["category"], "hours": round(float(r["hours"]), 1)}
                    for r in table.to_dict("records")],
        "forecast": [r | {"week": str(r["week"])} for r in ahead.to_dict("records")],
        "weekday_share": {str(c): {str(k): float(v) for k, v in row.items()} for c, row in profile.iterrows()},
    }  # fmt: skip
