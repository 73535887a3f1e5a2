"""Places on shifts and the hours that come of them.

Volunteers sign up (a place, or a place on the waitlist), accept a place offered to them, and
cancel; organisers see their shifts' rosters, check people in and out, mark no-shows and approve
hours; admins may act for either. Hours go into an append-only ledger: every write of hours
takes an ``Idempotency-Key`` header, and a retry with the same key and body returns the first
answer (``Idempotent-Replayed: true``) without adding anything. Each volunteer has a private
calendar link of their confirmed shifts; each activity one for its organisers.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import secrets
from datetime import UTC, datetime
from datetime import date as date_type
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import AwareDatetime, Field

from api import ical
from api.deps import (
    Caller,
    CallerDep,
    LiveDep,
    NowDep,
    audit_read,
    own_organisation,
    own_shift,
    own_volunteer,
    policy,
)
from api.live import Live
from api.responses import HoursOut, SignupOut
from api.schemas import Strict
from api.usecases import hours as service_hours
from api.usecases import places, records
from matcher.model.calendar import epoch_seconds
from matcher.model.errors import NotFoundError
from matcher.operations.recognition import Tiers
from matcher.store.operations import CHECK_IN_OPENS_S, Idempotency, Signup

router = APIRouter(prefix="/api/v1", tags=["sign-ups and hours"])
KeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="any unique string per intended write; a retry with the same key and body "
        "returns the first answer and records nothing twice",
    ),
]


class SignupIn(Strict):
    volunteer_id: str | None = Field(None, max_length=64, description="admins only: sign up this volunteer")


class CheckIn(Strict):
    at: AwareDatetime | None = Field(None, description="organisers: when (default: now)")
    code: str | None = Field(None, max_length=12, description="volunteers: the code the organiser shows")


class InviteIn(Strict):
    volunteer_id: str = Field(max_length=64)


class HoursIn(Strict):
    hours: float | None = Field(
        None, gt=0, le=24, description="default: from the check-in and check-out times"
    )
    note: str = Field("", max_length=500)


class CorrectionIn(Strict):
    hours: float = Field(ge=-24, le=24, description="hours to add (negative: to take away)")
    note: str = Field(min_length=1, max_length=500, description="why")
    shift_id: str | None = Field(None, max_length=64)


# ---------------------------------------------------------------------------------- places


@router.post(
    "/shifts/{shift_id}/signups",
    response_model=SignupOut,
    status_code=201,
    **policy(
        "a volunteer for themself, an organiser inviting (own shifts), an admin for anyone",
        "volunteer",
        "organiser",
        "admin",
    ),
)
def sign_up(
    shift_id: str, who: CallerDep, service: LiveDep, clock: NowDep, body: SignupIn | None = None
) -> Any:
    """A place on the shift, or (when it is full) a place on its waitlist with its position.
    The core's hard rules apply (skills, certificates, age, availability, overlapping shifts);
    a refusal says which. An organiser's sign-up of someone else is an invitation, which the
    volunteer accepts or declines."""
    if who.role == "organiser":
        if body is None or body.volunteer_id is None:
            raise HTTPException(422, "give volunteer_id: the volunteer to invite")
        own_shift(service, who, shift_id)
        return places.invite(service, shift_id, body.volunteer_id, clock).to_json()
    volunteer_id = (
        who.account.volunteer_id if who.role == "volunteer" else (body.volunteer_id if body else None)
    )
    if who.role == "volunteer" and body is not None and body.volunteer_id not in (None, volunteer_id):
        raise HTTPException(403, "a volunteer signs up themself only")
    if volunteer_id is None:
        raise HTTPException(422, "give volunteer_id: the volunteer to sign up")
    return places.sign_up(service, shift_id, volunteer_id, clock).to_json()


def _signup_for(service: Live, who: Caller, signup_id: str, *, organiser: bool, volunteer: bool) -> Signup:
    """The sign-up if the caller may act on it (else 404: nothing about others' sign-ups leaks)."""
    s = places.signup(service, signup_id)
    if who.role == "admin":
        return s
    if volunteer and who.role == "volunteer" and who.account.volunteer_id == s.volunteer_id:
        return s
    if organiser and who.role == "organiser":
        activity_id = places.shift_activity(service, s.shift_id)
        own_organisation(who, records.organisation_of(service, activity_id), kind="sign-up", ident=signup_id)
        return s
    raise NotFoundError("sign-up", signup_id)


@router.get(
    "/signups/{signup_id}",
    response_model=SignupOut,
    **policy("its volunteer, the shift's organisers, admins", *("volunteer", "organiser", "admin")),
)
def get_signup(signup_id: str, who: CallerDep, service: LiveDep) -> dict[str, Any]:
    return _signup_for(service, who, signup_id, organiser=True, volunteer=True).to_json()


@router.delete(
    "/signups/{signup_id}",
    response_model=SignupOut,
    **policy("its volunteer or an admin", "volunteer", "admin"),
)
@router.post(
    "/signups/{signup_id}/cancel",
    response_model=SignupOut,
    **policy("its volunteer or an admin", "volunteer", "admin"),
)
def cancel(signup_id: str, who: CallerDep, service: LiveDep, clock: NowDep) -> dict[str, Any]:
    """Give up the place (or the place on the waitlist). Before the association's cut-off it is
    a cancellation; later a late cancellation, on record. A freed place is offered to the first
    on the waitlist."""
    # A volunteer's own sign-ups only (another's: 404), checked in the cancellation's own
    # transaction; the policy lets only volunteers and admins this far.
    return places.cancel(
        service, signup_id, clock, who.account.volunteer_id if who.role == "volunteer" else None
    ).to_json()


@router.post(
    "/signups/{signup_id}/accept",
    response_model=SignupOut,
    **policy("its volunteer or an admin", "volunteer", "admin"),
)
def accept(signup_id: str, who: CallerDep, service: LiveDep, clock: NowDep) -> dict[str, Any]:
    """Take a place offered from the waitlist while the offer holds, or accept an organiser's
    invitation (a place if one is free, else the waitlist; the hard rules apply)."""
    s = _signup_for(service, who, signup_id, organiser=False, volunteer=True)
    return places.accept(service, s, clock).to_json()


@router.post(
    "/signups/{signup_id}/decline",
    response_model=SignupOut,
    **policy("its volunteer or an admin", "volunteer", "admin"),
)
def decline(signup_id: str, who: CallerDep, service: LiveDep, clock: NowDep) -> dict[str, Any]:
    """Turn down an organiser's invitation."""
    _signup_for(service, who, signup_id, organiser=False, volunteer=True)
    return places.decline(service, signup_id, clock).to_json()


@router.get("/shifts/{shift_id}/roster", **policy("the shift's organisers or an admin", "organiser", "admin"))
def roster(shift_id: str, who: CallerDep, service: LiveDep, clock: NowDep) -> dict[str, Any]:
    """Everyone signed up for the shift in order of arrival: places, offers, the waitlist with
    positions, cancellations, attendance."""
    own_shift(service, who, shift_id)
    found = places.roster(service, shift_id, clock)
    audit_read(service, who, "read.roster", [s.volunteer_id for s in found], clock, f"shift {shift_id}")
    counts: dict[str, int] = {}
    for s in found:
        counts[s.status] = counts.get(s.status, 0) + 1
    return {"shift_id": shift_id, "counts": counts, "signups": [s.to_json() for s in found]}


# ---------------------------------------------------------------------------------- attendance


CODE_WINDOW_S = 600  # a check-in code changes every ten minutes; the last one still works


def check_in_code(request: Request, shift_id: str, window: int) -> str:
    key = request.app.state.signing_key.encode()
    digest = hmac.new(key, f"check-in:{shift_id}:{window}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:4], 'big') % 1_000_000:06d}"


@router.get(
    "/shifts/{shift_id}/check-in-code", **policy("the shift's organisers or an admin", "organiser", "admin")
)
def shift_check_in_code(
    shift_id: str, who: CallerDep, service: LiveDep, request: Request, clock: NowDep
) -> dict[str, Any]:
    """The code the organiser shows at the post (as text or a QR code): a volunteer with a place
    checks themself in with it. It changes every ten minutes."""
    own_shift(service, who, shift_id)
    window = epoch_seconds(clock) // CODE_WINDOW_S
    return {
        "shift_id": shift_id,
        "code": check_in_code(request, shift_id, window),
        "valid_until_s": (window + 2) * CODE_WINDOW_S,
    }


@router.post(
    "/signups/{signup_id}/check-in",
    response_model=SignupOut,
    **policy(
        "the shift's organisers or an admin; its volunteer with the organiser's code",
        "volunteer",
        "organiser",
        "admin",
    ),
)
def check_in(
    signup_id: str,
    who: CallerDep,
    service: LiveDep,
    request: Request,
    clock: NowDep,
    body: CheckIn | None = None,
) -> dict[str, Any]:
    """Organisers record when someone arrived; a volunteer checks in at the post with the code
    the organiser shows, from an hour before the shift to its end."""
    s = _signup_for(service, who, signup_id, organiser=True, volunteer=True)
    if who.role != "volunteer":
        at = epoch_seconds(body.at if body and body.at else clock)
        return places.check(service, signup_id, "in", at).to_json()
    now_s = epoch_seconds(clock)
    if body is None or body.code is None or body.at is not None:
        raise HTTPException(422, "give the check-in code the organiser shows (and no time: it is now)")
    starts_s, ends_s = places.shift_times(service, s.shift_id)
    if not starts_s - CHECK_IN_OPENS_S <= now_s <= ends_s:
        raise HTTPException(409, "check-in opens an hour before the shift and closes at its end")
    window = now_s // CODE_WINDOW_S
    if not any(
        hmac.compare_digest(body.code.encode(), check_in_code(request, s.shift_id, w).encode())
        for w in (window, window - 1)
    ):
        raise HTTPException(
            422, "the check-in code is wrong or has expired: ask the organiser for the current one"
        )
    if s.checked_in_s is not None:
        raise HTTPException(409, "already checked in")
    return places.check(service, signup_id, "in", now_s).to_json()


@router.post(
    "/signups/{signup_id}/check-out",
    response_model=SignupOut,
    **policy("the shift's organisers or an admin", "organiser", "admin"),
)
def check_out(
    signup_id: str, who: CallerDep, service: LiveDep, clock: NowDep, body: CheckIn | None = None
) -> dict[str, Any]:
    _signup_for(service, who, signup_id, organiser=True, volunteer=False)
    at = epoch_seconds(body.at if body and body.at else clock)
    return places.check(service, signup_id, "out", at).to_json()


@router.post(
    "/signups/{signup_id}/no-show",
    response_model=SignupOut,
    **policy("the shift's organisers or an admin", "organiser", "admin"),
)
def no_show(signup_id: str, who: CallerDep, service: LiveDep, clock: NowDep) -> dict[str, Any]:
    """After the shift: the volunteer held a place and did not come (it counts in their record)."""
    _signup_for(service, who, signup_id, organiser=True, volunteer=False)
    return places.no_show(service, signup_id, clock, who.account.id).to_json()


# ---------------------------------------------------------------------------------- hours


def _key(request_key: str | None, who: Caller, what: str, body: Strict | None) -> Idempotency | None:
    if request_key is None:
        return None
    doc = json.dumps([what, None if body is None else body.model_dump(mode="json")], sort_keys=True)
    return Idempotency(who.account.id, request_key, hashlib.sha256(doc.encode()).hexdigest())


def _recorded(answer: tuple[dict[str, Any], bool]) -> Response:
    entry, replayed = answer
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return Response(json.dumps(entry), status_code=201, media_type="application/json", headers=headers)


@router.post(
    "/signups/{signup_id}/hours",
    status_code=201,
    **policy("the shift's organisers or an admin", "organiser", "admin"),
)
def approve_hours(
    signup_id: str,
    body: HoursIn,
    who: CallerDep,
    service: LiveDep,
    clock: NowDep,
    idempotency_key: KeyHeader = None,
) -> Response:
    """Approve the hours of a confirmed place (from its check times unless given): one entry in
    the volunteer's ledger and one service record. Once per place; change it with a correction."""
    _signup_for(service, who, signup_id, organiser=True, volunteer=False)
    key = _key(idempotency_key, who, f"hours:{signup_id}", body)
    return _recorded(
        service_hours.approve(service, signup_id, body.hours, body.note, who.account.id, clock, key)
    )


@router.post(
    "/volunteers/{volunteer_id}/hours/corrections",
    status_code=201,
    **policy("admins, or the organisers of the shift corrected", "organiser", "admin"),
)
def correct_hours(
    volunteer_id: str,
    body: CorrectionIn,
    who: CallerDep,
    service: LiveDep,
    clock: NowDep,
    idempotency_key: KeyHeader = None,
) -> Response:
    """A further ledger entry (negative to take hours away); entries are never edited."""
    if who.role == "organiser":
        if body.shift_id is None or not places.is_shift(service, body.shift_id):
            raise HTTPException(
                403, "an organiser corrects hours of their own organisation's shifts: give shift_id"
            )
        own_shift(service, who, body.shift_id)
    key = _key(idempotency_key, who, f"correction:{volunteer_id}", body)
    return _recorded(
        service_hours.correct(
            service, volunteer_id, body.hours, body.note, who.account.id, clock, body.shift_id, key
        )
    )


class ClaimIn(Strict):
    volunteer_id: str = Field(max_length=64)
    activity_id: str = Field(max_length=64)
    shift_id: str | None = Field(None, max_length=64)
    date: date_type
    hours: float = Field(gt=0, le=24)
    note: str = Field("", max_length=500)


@router.post(
    "/service-records",
    status_code=201,
    **policy(
        "a volunteer for themself, organisers for their activities, admins", "volunteer", "organiser", "admin"
    ),
)
def claim_hours(
    body: ClaimIn, who: CallerDep, service: LiveDep, clock: NowDep, idempotency_key: KeyHeader = None
) -> Response:
    """Hours of service done (manual hours: a day's work outside the sign-up flow, or service
    the volunteer reports); they count once the activity's organisers approve them."""
    if who.role == "volunteer" and body.volunteer_id != who.account.volunteer_id:
        raise HTTPException(403, "a volunteer reports their own hours only")
    organisation = records.organisation_of(service, body.activity_id)  # 404 for an unknown activity
    if who.role == "organiser":
        own_organisation(who, organisation, kind="activity", ident=body.activity_id)
    if body.date > clock.date():
        raise HTTPException(422, "hours are reported for service done: the date is in the future")
    key = _key(idempotency_key, who, "claim", body)
    claim = f"hc_{secrets.token_hex(8)}"
    return _recorded(
        service_hours.report(
            service,
            claim,
            body.volunteer_id,
            body.activity_id,
            body.shift_id,
            body.date,
            body.hours,
            body.note,
            who.account.id,
            clock,
            key,
        )
    )


@router.post(
    "/service-records/{claim_id}/approve",
    status_code=201,
    **policy("the activity's organisers or an admin", "organiser", "admin"),
)
def approve_claim(
    claim_id: str, who: CallerDep, service: LiveDep, clock: NowDep, idempotency_key: KeyHeader = None
) -> Response:
    """Approve reported hours: an entry in the volunteer's ledger and a service record."""
    claim = service_hours.claim(service, claim_id)
    own_organisation(
        who, records.organisation_of(service, claim["activity_id"]), kind="hour claim", ident=claim_id
    )
    key = _key(idempotency_key, who, f"approve:{claim_id}", None)
    return _recorded(service_hours.approve_claim(service, claim_id, who.account.id, clock, key))


def _tiers(request: Request) -> Tiers:
    tiers: Tiers = request.app.state.tiers
    return tiers


@router.get(
    "/volunteers/{volunteer_id}/service",
    response_model=HoursOut,
    **policy("the volunteer themself or an admin", "volunteer", "admin"),
)
@router.get(
    "/volunteers/{volunteer_id}/hours",
    response_model=HoursOut,
    **policy("the volunteer themself or an admin", "volunteer", "admin"),
)
def hours(
    volunteer_id: str, who: CallerDep, service: LiveDep, request: Request, clock: NowDep
) -> dict[str, Any]:
    """Approved hours (the sum of the ledger), recognition tier, hours to the next tier, and
    the ledger's entries (an admin's read is audited)."""
    own_volunteer(who, volunteer_id)
    records.volunteer(service, volunteer_id)
    entries = service_hours.ledger(service, volunteer_id)
    audit_read(service, who, "read.hours", [volunteer_id], clock)
    total = round(sum(e.hours for e in entries), 6)
    standing = _tiers(request).standing(total)
    return {
        "volunteer_id": volunteer_id,
        "total_hours": standing.hours,
        "stars": standing.stars,
        "tiers": list(_tiers(request).thresholds),
        "next_tier_hours": standing.next_tier_hours,
        "hours_to_next": standing.hours_to_next,
        "entries": [e.to_json() for e in entries],
        "earlier_service": service_hours.earlier_service(service, volunteer_id, entries),
    }


@router.get(
    "/volunteers/{volunteer_id}/certificate",
    response_class=HTMLResponse,
    **policy("the volunteer themself or an admin", "volunteer", "admin"),
)
def certificate(
    volunteer_id: str, who: CallerDep, service: LiveDep, request: Request, clock: NowDep
) -> HTMLResponse:
    """A printable certificate of service (HTML; print to PDF from any browser): approved
    service by date and activity, total hours and tier."""
    own_volunteer(who, volunteer_id)
    v = records.volunteer(service, volunteer_id)
    entries = service_hours.ledger(service, volunteer_id)
    audit_read(service, who, "read.hours", [volunteer_id], clock, "certificate")
    total = round(sum(e.hours for e in entries), 2)
    standing = _tiers(request).standing(total)
    titles = {
        a: records.activity(service, a).title
        for a in {e.activity_id for e in entries if e.activity_id}
        if places.is_activity(service, a)
    }
    rows = "".join(
        f"<tr><td>{datetime.fromtimestamp(e.recorded_s, UTC).date().isoformat()}</td>"
        f"<td>{html.escape(titles.get(e.activity_id or '', e.note or e.kind))}</td>"
        f"<td class=n>{e.hours:g}</td></tr>"
        for e in entries
    )
    page = f"""<!doctype html><html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>志愿服务证明 Certificate of volunteer service</title>
<style>body{{font-family:sans-serif;max-width:40rem;margin:2rem auto;color:#111}}
table{{width:100%;border-collapse:collapse}}td,th{{border-bottom:1px solid #999;padding:.3rem}}
.n{{text-align:right}}@media print{{a{{display:none}}}}</style></head><body>
<h1>志愿服务证明<br><small>Certificate of volunteer service</small></h1>
<p>{html.escape(v.name)} ({html.escape(v.id)})</p>
<p>累计服务时长 Total approved service: <strong>{total:g} h</strong> · 星级 Stars: <strong>{standing.stars}</strong></p>
<table><thead><tr><th>日期 Date</th><th>活动 Activity</th><th class=n>小时 Hours</th></tr></thead>
<tbody>{rows}</tbody></table>
<p>出具日期 Issued {clock.date().isoformat()}</p></body></html>"""
    return HTMLResponse(page)


# ---------------------------------------------------------------------------------- calendars


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
    """A volunteer's confirmed shifts (private link from ``calendar-link``)."""
    _check_token(request, "volunteer", volunteer_id, token)
    mine = [s for s in places.signups_of(service, volunteer_id) if s.status == "confirmed"]
    return _calendar(service, "my volunteer shifts", [(s.shift_id, None) for s in mine], clock)


@router.get(
    "/activities/{activity_id}/calendar-link",
    **policy("the activity's organisers or an admin", "organiser", "admin"),
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


def _calendar(service: Live, name: str, shifts: list[tuple[str, int | None]], clock: datetime) -> Response:
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
        lines.append("END:VEVENT")
    return ical.response(lines)
