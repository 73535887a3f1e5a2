"""Hours of service: approved per place, corrected, reported by volunteers and approved by the
activity's organisers; the volunteer's ledger, tier and printable certificate. The ledger is
append-only: every write of hours takes an ``Idempotency-Key`` header, and a retry with the same
key and body returns the first answer (``Idempotent-Replayed: true``) without adding anything."""

from __future__ import annotations

import hashlib
import html
import json
import secrets
from datetime import UTC, datetime
from datetime import date as date_type
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import Field

from api.deps import (
    Caller,
    CallerDep,
    LiveDep,
    NowDep,
    audit_read,
    own_organisation,
    own_shift,
    own_signup,
    own_volunteer,
    policy,
)
from api.responses import HoursOut
from api.schemas import Strict
from api.usecases import hours as service_hours
from api.usecases import places, records
from matcher.operations.recognition import Tiers
from matcher.store.operations import Idempotency

router = APIRouter(prefix="/api/v1", tags=["hours"])
KeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="any unique string per intended write; a retry with the same key and body "
        "returns the first answer and records nothing twice",
    ),
]


class HoursIn(Strict):
    hours: float | None = Field(
        None, gt=0, le=24, description="default: from the check-in and check-out times"
    )
    note: str = Field("", max_length=500)


class CorrectionIn(Strict):
    hours: float = Field(ge=-24, le=24, description="hours to add (negative: to take away)")
    note: str = Field(min_length=1, max_length=500, description="why")
    shift_id: str | None = Field(None, max_length=64)


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
    **policy("the shift's organisers or an admin", "organiser", "org_admin", "admin"),
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
    own_signup(service, who, signup_id, organiser=True, volunteer=False)
    key = _key(idempotency_key, who, f"hours:{signup_id}", body)
    return _recorded(
        service_hours.approve(service, signup_id, body.hours, body.note, who.account.id, clock, key)
    )


@router.post(
    "/volunteers/{volunteer_id}/hours/corrections",
    status_code=201,
    **policy("admins, or the organisers of the shift corrected", "organiser", "org_admin", "admin"),
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
    if who.staff:
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
        "a volunteer for themself, organisers for their activities, admins",
        "volunteer",
        "organiser",
        "org_admin",
        "admin",
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
    if who.staff:
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
    **policy("the activity's organisers or an admin", "organiser", "org_admin", "admin"),
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
