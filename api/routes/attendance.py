"""Attendance: the organiser's check-in code (shown as text or a QR code at the post), check-in
by the organiser or by the volunteer with the code, check-out, and no-shows."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import AwareDatetime, Field

from api.deps import (
    CallerDep,
    LiveDep,
    NowDep,
    own_shift,
    own_signup,
    policy,
)
from api.responses import SignupOut
from api.schemas import Strict
from api.usecases import places
from matcher.model.calendar import epoch_seconds
from matcher.store.operations import CHECK_IN_OPENS_S

router = APIRouter(prefix="/api/v1", tags=["attendance"])


class CheckIn(Strict):
    at: AwareDatetime | None = Field(None, description="organisers: when (default: now)")
    code: str | None = Field(None, max_length=12, description="volunteers: the code the organiser shows")


CODE_WINDOW_S = 600  # a check-in code changes every ten minutes; the last one still works


def check_in_code(request: Request, shift_id: str, window: int) -> str:
    key = request.app.state.signing_key.encode()
    digest = hmac.new(key, f"check-in:{shift_id}:{window}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:4], 'big') % 1_000_000:06d}"


@router.get(
    "/shifts/{shift_id}/check-in-code",
    **policy("the shift's organisers or an admin", "organiser", "org_admin", "admin"),
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
        "org_admin",
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
    s = own_signup(service, who, signup_id, organiser=True, volunteer=True)
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
    **policy("the shift's organisers or an admin", "organiser", "org_admin", "admin"),
)
def check_out(
    signup_id: str, who: CallerDep, service: LiveDep, clock: NowDep, body: CheckIn | None = None
) -> dict[str, Any]:
    own_signup(service, who, signup_id, organiser=True, volunteer=False)
    at = epoch_seconds(body.at if body and body.at else clock)
    return places.check(service, signup_id, "out", at).to_json()


@router.post(
    "/signups/{signup_id}/no-show",
    response_model=SignupOut,
    **policy("the shift's organisers or an admin", "organiser", "org_admin", "admin"),
)
def no_show(signup_id: str, who: CallerDep, service: LiveDep, clock: NowDep) -> dict[str, Any]:
    """After the shift: the volunteer held a place and did not come (it counts in their record)."""
    own_signup(service, who, signup_id, organiser=True, volunteer=False)
    return places.no_show(service, signup_id, clock, who.account.id).to_json()
