"""A volunteer's console inbox: what they were told (places, waitlist offers with their
deadline, invitations, hours), newest first, with the unread count; and marking one read."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response

from api.deps import Caller, CallerDep, LiveDep, NowDep, own_shift, own_volunteer, policy
from api.responses import InboxOut, MessageOut
from api.usecases import notifications

router = APIRouter(prefix="/api/v1", tags=["notifications"])
MAX_ID = 2**62
"""Message ids are 64-bit integers in both stores."""


def _whose(who: Caller, volunteer_id: str | None) -> str:
    """The volunteer whose inbox this is: a volunteer's own; an admin names one."""
    if who.role == "volunteer":
        own = who.account.volunteer_id
        if own is None or volunteer_id not in (None, own):
            raise HTTPException(403, "a volunteer reads their own notifications only")
        return own
    if volunteer_id is None:
        raise HTTPException(422, "give volunteer_id: whose notifications to read")
    own_volunteer(who, volunteer_id)
    return volunteer_id


@router.get(
    "/notifications",
    response_model=InboxOut,
    **policy("the volunteer themself, admins", "volunteer", "admin"),
)
def inbox(
    who: CallerDep,
    service: LiveDep,
    volunteer_id: Annotated[str | None, Query(max_length=64, description="admins: whose inbox")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="only messages older than this id")
    ] = None,
) -> dict[str, Any]:
    """Messages newest first (``before`` pages back) and how many of all are unread."""
    return notifications.inbox(service, _whose(who, volunteer_id), limit=limit, before=before)


@router.post(
    "/notifications/{message_id}/read",
    response_model=MessageOut,
    **policy("the volunteer themself, admins", "volunteer", "admin"),
)
def mark_read(
    message_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    who: CallerDep,
    service: LiveDep,
    clock: NowDep,
    volunteer_id: Annotated[str | None, Query(max_length=64, description="admins: whose message")] = None,
) -> dict[str, Any]:
    """Mark a message read (again: no change); another volunteer's is not found."""
    return notifications.mark_read(service, _whose(who, volunteer_id), message_id, clock)


@router.get(
    "/shifts/{shift_id}/notifications", **policy("the shift's organisers or an admin", "organiser", "admin")
)
def shift_notifications(shift_id: str, who: CallerDep, service: LiveDep) -> dict[str, Any]:
    """How many of the shift's volunteers were told what, and how it went out by channel and
    status (sent, pending, dead): counts only, no names or addresses."""
    own_shift(service, who, shift_id)
    return notifications.shift_counts(service, shift_id)


@router.get("/admin/dead-letters", **policy("admins", "admin"))
def dead_letters(
    service: LiveDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> dict[str, list[dict[str, Any]]]:
    """Deliveries that failed every attempt, with the last error."""
    return {"items": notifications.dead_letters(service, limit)}


@router.post("/admin/dead-letters/{message_id}/retry", status_code=204, **policy("admins", "admin"))
def retry_dead_letter(
    message_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    service: LiveDep,
    clock: NowDep,
    channel: Annotated[Literal["email"], Query()] = "email",
) -> Response:
    """Queue a dead delivery again (its attempts counted afresh)."""
    notifications.retry(service, message_id, channel, clock)
    return Response(status_code=204)
