"""Open feeds for partner platforms (other departments' sites, calendars): open activities and
their shifts with places left, as JSON or iCalendar. No token, no personal data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from api.deps import LiveDep, NowDep, policy
from matcher.domain import Activity, Shift
from matcher.interchange import activity_to_json

router = APIRouter(prefix="/api/v1/feeds", tags=["feeds"])
Days = Annotated[int, Query(ge=1, le=366, description="how many days ahead")]


def _open(service: LiveDep, now: datetime, days: int) -> list[tuple[Activity, list[tuple[Shift, int]]]]:
    return service.open_postings(now, now + timedelta(days=days))


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
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//volmatch//open activities//ZH",
        "CALSCALE:GREGORIAN",
    ]
    stamp = _utc(clock)
    for a, shifts in _open(service, clock, days):
        for s, left in shifts:
            lines += [
                "BEGIN:VEVENT",
                f"UID:{s.id}@volmatch",
                f"DTSTAMP:{stamp}",
                f"DTSTART:{_utc(s.starts_at)}",
                f"DTEND:{_utc(s.ends_at)}",
                f"SUMMARY:{_text(a.title)}",
                f"DESCRIPTION:{_text(f'{a.category} · {left} places left · {a.organisation_id}')}",
                f"CATEGORIES:{_text(a.category)}",
            ]
            if a.location is not None:
                lines.append(f"GEO:{a.location.lat:.6f};{a.location.lon:.6f}")
            lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    body = "".join(_fold(line) + "\r\n" for line in lines)
    return Response(body.encode(), media_type="text/calendar; charset=utf-8")


def _utc(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _text(value: str) -> str:
    """RFC 5545 TEXT escaping."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Fold at 75 octets without splitting a UTF-8 character (Chinese titles are 3 bytes each)."""
    out, current, size = [], "", 0
    for ch in line:
        n = len(ch.encode())
        if size + n > 75:
            out.append(current)
            current, size = " ", 1
        current += ch
        size += n
    out.append(current)
    return "\r\n".join(out)
