"""Places on shifts: volunteers sign up (a place, or a place on the waitlist), accept a place
offered to them or an invitation, decline, cancel; organisers invite and read their shifts'
rosters; admins may act for either."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import Field

from api.deps import (
    CallerDep,
    LiveDep,
    NowDep,
    audit_read,
    own_shift,
    own_signup,
    policy,
)
from api.responses import SignupOut
from api.schemas import Strict
from api.usecases import places

router = APIRouter(prefix="/api/v1", tags=["sign-ups"])


class SignupIn(Strict):
    volunteer_id: str | None = Field(None, max_length=64, description="admins only: sign up this volunteer")


class InviteIn(Strict):
    volunteer_id: str = Field(max_length=64)


@router.post(
    "/shifts/{shift_id}/signups",
    response_model=SignupOut,
    status_code=201,
    **policy(
        "a volunteer for themself, an organiser inviting (own shifts), an admin for anyone",
        "volunteer",
        "organiser",
        "org_admin",
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
    if who.staff:
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


@router.get(
    "/signups/{signup_id}",
    response_model=SignupOut,
    **policy(
        "its volunteer, the shift's organisers, admins", *("volunteer", "organiser", "org_admin", "admin")
    ),
)
def get_signup(signup_id: str, who: CallerDep, service: LiveDep) -> dict[str, Any]:
    return own_signup(service, who, signup_id, organiser=True, volunteer=True).to_json()


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
    s = own_signup(service, who, signup_id, organiser=False, volunteer=True)
    return places.accept(service, s, clock).to_json()


@router.post(
    "/signups/{signup_id}/decline",
    response_model=SignupOut,
    **policy("its volunteer or an admin", "volunteer", "admin"),
)
def decline(signup_id: str, who: CallerDep, service: LiveDep, clock: NowDep) -> dict[str, Any]:
    """Turn down an organiser's invitation."""
    own_signup(service, who, signup_id, organiser=False, volunteer=True)
    return places.decline(service, signup_id, clock).to_json()


@router.get(
    "/shifts/{shift_id}/roster",
    **policy("the shift's organisers or an admin", "organiser", "org_admin", "admin"),
)
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
