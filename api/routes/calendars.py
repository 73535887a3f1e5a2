"""Private calendar links: each volunteer's confirmed shifts, and each activity's shifts with
their places for its organisers (the link carries its own secret: a calendar app cannot send a
bearer token)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api import ical
from api.deps import (
    CallerDep,
    LiveDep,
    NowDep,
    own_organisation,
    own_volunteer,
    policy,
)
from api.live import Live
from api.usecases import notifications, places, records
from matcher.model.errors import NotFoundError

router = APIRouter(prefix="/api/v1", tags=["calendars"])


def calendar_token(request: Request, kind: str, ident: str) -> str:
    """The secret part of a private calendar link: whoever has the link may read the feed (a
    calendar app cannot send a bearer token)."""
    key = request.app.state.signing_key.encode()
    return hmac.new(key, f"calendar:{kind}:{ident}".encode(), hashlib.sha256).hexdigest()[:40]


def _link(request: Request, kind: str, **ident: str) -> dict[str, str]:
    """The private calendar link of a volunteer or an activity (route ``{kind}_calendar``)."""
    token = calendar_token(request, kind, next(iter(ident.values())))
    return {"url": str(request.url_for(f"{kind}_calendar", **ident).include_query_params(token=token))}


def _check_token(request: Request, kind: str, ident: str, token: str) -> None:
    if not hmac.compare_digest(calendar_token(request, kind, ident).encode(), token.encode()):
        raise NotFoundError("calendar", ident)


Token = Annotated[str, Query(min_length=1, max_length=100, description="the secret of the calendar link")]


@router.get(
    "/volunteers/{volunteer_id}/calendar-link",
    **policy("the volunteer themself or an admin", "volunteer", "admin"),
)
def volunteer_calendar_link(
    volunteer_id: str, who: CallerDep, service: LiveDep, request: Request
) -> dict[str, str]:
    """The private link of the volunteer's calendar of confirmed shifts (keep it private)."""
    own_volunteer(who, volunteer_id)
    records.volunteer(service, volunteer_id)
    return _link(request, "volunteer", volunteer_id=volunteer_id)


@router.get("/volunteers/{volunteer_id}/calendar.ics", name="volunteer_calendar", **policy("public"))
def volunteer_calendar(
    volunteer_id: str, token: Token, service: LiveDep, request: Request, clock: NowDep
) -> Response:
    """A volunteer's confirmed shifts (private link from ``calendar-link``), each with an alarm
    at the activity's reminder times (what the volunteer is also sent)."""
    _check_token(request, "volunteer", volunteer_id, token)
    mine = [s for s in places.signups_of(service, volunteer_id) if s.status == "confirmed"]
    return _calendar(service, "my volunteer shifts", [(s.shift_id, None) for s in mine], clock, alarms=True)


@router.get(
    "/activities/{activity_id}/calendar-link",
    **policy("the activity's organisers or an admin", "organiser", "org_admin", "admin"),
)
def activity_calendar_link(
    activity_id: str, who: CallerDep, service: LiveDep, request: Request
) -> dict[str, str]:
    own_organisation(who, records.organisation_of(service, activity_id), kind="activity", ident=activity_id)
    return _link(request, "activity", activity_id=activity_id)


@router.get("/activities/{activity_id}/calendar.ics", name="activity_calendar", **policy("public"))
def activity_calendar(
    activity_id: str, token: Token, service: LiveDep, request: Request, clock: NowDep
) -> Response:
    """An activity's shifts with their places taken (private link for its organisers)."""
    _check_token(request, "activity", activity_id, token)
    a = records.activity(service, activity_id)
    shifts = [
        (s.id, places.places_left(service, s.id) if places.is_shift(service, s.id) else None)
        for s in a.shifts
    ]
    return _calendar(service, a.title, shifts, clock)


def _calendar(
    service: Live, name: str, shifts: list[tuple[str, int | None]], clock: datetime, *, alarms: bool = False
) -> Response:
    lines = ical.header(name)
    stamp = ical.utc(clock)
    for shift_id, left in shifts:
        if not places.is_shift(service, shift_id):
            continue
        a = records.activity(service, places.shift_activity(service, shift_id))
        shift = next(s for s in a.shifts if s.id == shift_id)
        lines += [
            "BEGIN:VEVENT",
            f"UID:{shift_id}@volmatch",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{ical.utc(shift.starts_at)}",
            f"DTEND:{ical.utc(shift.ends_at)}",
            f"SUMMARY:{ical.text(a.title)}",
        ]
        if left is not None:
            lines.append(f"DESCRIPTION:{ical.text(f'{left} places left')}")
        if a.location is not None:
            lines.append(f"GEO:{a.location.lat:.6f};{a.location.lon:.6f}")
        if alarms:
            for minutes in notifications.reminder_minutes(service, a.id)["minutes"]:
                lines += ["BEGIN:VALARM", "ACTION:DISPLAY", f"DESCRIPTION:{ical.text(a.title)}",
                          f"TRIGGER:-PT{minutes}M", "END:VALARM"]  # fmt: skip
        lines.append("END:VEVENT")
    return ical.response(lines)
