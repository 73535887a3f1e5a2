"""Open feeds for partner platforms (other departments' sites, calendars): open activities and
their shifts with places left, as JSON or iCalendar. No token, no personal data."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from api import ical
from api.deps import LiveDep, NowDep, policy
from api.usecases import demand
from matcher.interchange.records import activity_to_json
from matcher.model.domain import Activity, Shift

router = APIRouter(prefix="/api/v1/feeds", tags=["feeds"])
Days = Annotated[int, Query(ge=1, le=366, description="how many days ahead")]


def _open(service: LiveDep, now: datetime, days: int) -> list[tuple[Activity, list[tuple[Shift, int]]]]:
    return demand.open_postings(service, now, now + timedelta(days=days))


@router.get("/activities", **policy("public"))
def activities_feed(
    service: LiveDep,
    clock: NowDep,
    days: Days = 30,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Open activities with the shifts that still have places, soonest first."""
    found = sorted(_open(service, clock, days), key=lambda t: (t[1][0][0].starts_at, t[0].id))
    items = []
    for a, shifts in found[offset : offset + limit]:
        item = activity_to_json(a)
        item["shifts"] = [
            {"id": s.id, "start": s.starts_at.isoformat(), "end": s.ends_at.isoformat(), "places_left": left}
            for s, left in shifts
        ]
        items.append(item)
    return {"items": items, "total": len(found), "offset": offset, "limit": limit}


@router.get("/activities.ics", **policy("public"))
def activities_calendar(service: LiveDep, clock: NowDep, days: Days = 30) -> Response:
    """The same, one calendar event per open shift (RFC 5545)."""
    lines = ical.header("open activities")
    stamp = ical.utc(clock)
    for a, shifts in _open(service, clock, days):
        for s, left in shifts:
            lines += [
                "BEGIN:VEVENT",
                f"UID:{s.id}@volmatch",
                f"DTSTAMP:{stamp}",
                f"DTSTART:{ical.utc(s.starts_at)}",
                f"DTEND:{ical.utc(s.ends_at)}",
                f"SUMMARY:{ical.text(a.title)}",
                f"DESCRIPTION:{ical.text(f'{a.category} · {left} places left · {a.organisation_id}')}",
                f"CATEGORIES:{ical.text(a.category)}",
            ]
            if a.location is not None:
                lines.append(f"GEO:{a.location.lat:.6f};{a.location.lon:.6f}")
            lines.append("END:VEVENT")
    return ical.response(lines)
