"""Emergency calls: an organiser needs people for a shift at short notice. The best available
volunteers are asked in waves (the first at once, the next every ``wave_every_minutes`` while
places are open, until the deadline), by every channel they chose, with links to accept or
decline that need no sign-in. An accept signs the volunteer up by the normal rules: beyond the
places, the waitlist, never an overbooking."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from pydantic import Field

from api.deps import CallerDep, LiveDep, NowDep, own_shift, policy
from api.schemas import Exact
from api.usecases import calls
from matcher.matching.answers import MAX_K
from matcher.operations.allocation import ASK_WINDOW_DAYS

router = APIRouter(prefix="/api/v1", tags=["emergency calls"])


class CallIn(Exact):
    needed: int | None = Field(
        default=None, ge=1, le=MAX_K, description="people needed (default: the open places)"
    )
    wave_size: int | None = Field(
        default=None, ge=1, le=MAX_K, description="asked at a time (default: twice needed)"
    )
    wave_every_minutes: int = Field(
        default=10, ge=1, le=24 * 60, description="the next wave, while places are open"
    )
    deadline_minutes: int = Field(
        default=120, ge=5, le=7 * 24 * 60, description="the call closes (at the latest when the shift starts)"
    )
    ask_cap: int = Field(
        default=2, ge=1, le=50, description=f"skip people asked this often in {ASK_WINDOW_DAYS} days"
    )


class AnswerIn(Exact):
    answer: Literal["accept", "decline"]


class LinkAnswerIn(AnswerIn):
    token: str = Field(min_length=1, max_length=1000, description="from the link in the message")


@router.post(
    "/shifts/{shift_id}/emergency-calls",
    status_code=201,
    **policy("the shift's organisers, admins", "organiser", "org_admin", "admin"),
)
def open_call(
    shift_id: str, body: CallIn, who: CallerDep, service: LiveDep, clock: NowDep, request: Request
) -> dict[str, Any]:
    """Rank the shift's best available volunteers and tell the first wave now."""
    own_shift(service, who, shift_id)
    found = calls.open_call(service, shift_id, by=who.account.id, now=clock, **body.model_dump())
    dispatcher = getattr(request.app.state, "dispatcher", None)
    if dispatcher is not None:
        dispatcher.wake()
    return found


@router.get(
    "/emergency-calls/{call_id}",
    **policy("the shift's organisers, admins", "organiser", "org_admin", "admin"),
)
def call_status(
    call_id: Annotated[str, Path(max_length=64)], who: CallerDep, service: LiveDep
) -> dict[str, Any]:
    """Asked by wave, told by channel and status, answers, and the places they became (counts only)."""
    own_shift(service, who, calls.shift_of(service, call_id))
    return calls.status(service, call_id)


@router.post("/emergency-calls/{call_id}/answer", **policy("the volunteer asked", "volunteer"))
def answer(
    call_id: Annotated[str, Path(max_length=64)],
    body: AnswerIn,
    who: CallerDep,
    service: LiveDep,
    clock: NowDep,
) -> dict[str, Any]:
    """Accept (a place, or the waitlist if the places went to quicker answers) or decline."""
    volunteer_id = who.account.volunteer_id or ""
    return calls.answer(service, call_id, volunteer_id, body.answer == "accept", clock)


@router.post("/emergency-calls/answer-by-link", **policy("anyone with the link from the message"))
def answer_by_link(body: LinkAnswerIn, service: LiveDep, clock: NowDep, request: Request) -> dict[str, Any]:
    """The same answer through the signed link in the message (no sign-in)."""
    return calls.answer_by_link(service, request.app.state.links, body.token, body.answer == "accept", clock)
