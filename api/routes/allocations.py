"""Campaign allocation: one plan that fills many shifts at once, then invitations.

An organiser lists the shifts of a campaign (or its activities) and gets a draft plan: who goes
where, with each assignment's score parts and reasons, each unfilled place with why, the total
score, the fill rate, whether the plan is proven optimal and its fairness figures
(:mod:`matcher.operations.allocation`). Accepting the draft invites everyone in it through the sign-up flow,
in one transaction. For a shift at short notice, ``"mode": "emergency"`` asks the best available
people at once and passes over those asked too often lately.

Organisers plan and see their own organisation's shifts only; volunteers appear with their
name, district and a distance band, as in recommendations.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import Field, model_validator

from api.deps import Caller, CallerDep, LiveDep, NowDep, own_organisation, own_shift, policy
from api.live import Live
from api.schemas import Ident, Strict
from api.usecases import allocations, places, records
from api.usecases.allocations import MAX_CAMPAIGN_SHIFTS
from api.views import card, volunteer_cards
from matcher.matching.ranking import MAX_K
from matcher.model.errors import NotFoundError, ValidationError
from matcher.operations import allocation

router = APIRouter(prefix="/api/v1", tags=["campaign allocation"])
PLANNERS = ("organisers (their organisation's shifts), admins", "organiser", "org_admin", "admin")
PLAN_TIME_LIMIT_S = 20.0
"""Longest a request's solve may take; a plan cut short says it is not proven optimal."""


class AllocationOptions(Strict):
    """The rules of the plan. Per volunteer: ``max_shifts``, ``max_hours_per_week``,
    ``rest_hours``. Fairness: ``spread``, ``newcomer_share``, ``hard_minimum`` (see
    :class:`matcher.operations.allocation.Fairness`). Per shift: ``minimum`` staffing and ``priority``
    (0-10). Emergency mode (one shift): ``ask_cap`` and ``page``."""

    mode: Literal["plan", "emergency"] = "plan"
    max_shifts: int = Field(default=2, ge=1, le=50)
    max_hours_per_week: float | None = Field(default=None, gt=0, le=168)
    rest_hours: float = Field(default=0.0, ge=0, le=72)
    spread: float = Field(
        default=0.0, ge=0, le=1, description="score each shift beyond a volunteer's first costs"
    )
    newcomer_share: float = Field(
        default=0.0, ge=0, le=1, description="share of the places held for newcomers"
    )
    hard_minimum: bool = Field(
        default=False, description="refuse a plan that leaves a shift below its minimum"
    )
    minimum: Annotated[dict[Ident, Annotated[int, Field(ge=0, le=10_000)]], Field(max_length=MAX_CAMPAIGN_SHIFTS)] = (
        Field(default_factory=dict, description="shift id: people it needs at least, places taken included")
    )  # fmt: skip
    priority: Annotated[dict[Ident, Annotated[float, Field(ge=0, le=10)]], Field(max_length=MAX_CAMPAIGN_SHIFTS)] = (
        Field(default_factory=dict, description="shift id: 0 (default) to 10; multiplies its scores by 1 + priority")
    )  # fmt: skip
    candidates_per_place: int = Field(default=allocation.CANDIDATES_PER_PLACE, ge=1, le=50)
    ask_cap: int = Field(
        default=2,
        ge=1,
        le=100,
        description=f"emergency: skip people invited this often in {allocation.ASK_WINDOW_DAYS} days",
    )
    page: int | None = Field(default=None, ge=1, le=MAX_K, description="emergency: how many to ask (default: the open places)")  # fmt: skip


class AllocationIn(Strict):
    shift_ids: Annotated[list[Ident], Field(max_length=MAX_CAMPAIGN_SHIFTS)] = Field(default_factory=list)
    activity_ids: Annotated[list[Ident], Field(max_length=MAX_CAMPAIGN_SHIFTS)] = Field(default_factory=list)
    options: AllocationOptions = AllocationOptions()

    @model_validator(mode="after")
    def _some_shifts(self) -> AllocationIn:
        if not self.shift_ids and not self.activity_ids:
            raise ValueError("give shift_ids or activity_ids: the shifts to fill")
        if self.options.mode == "emergency" and (len(self.shift_ids) != 1 or self.activity_ids):
            raise ValueError("emergency mode is for one shift: give exactly one shift id and no activity_ids")
        return self


@router.post("/allocations", status_code=201, **policy(*PLANNERS))
def create_allocation(body: AllocationIn, who: CallerDep, service: LiveDep, clock: NowDep) -> dict[str, Any]:
    """A draft plan for the campaign's open shifts: the best total match within capacity, each
    volunteer's limits and every hard rule of the core, solved exactly (``optimal`` says whether
    it was proven), with the fairness options applied and measured."""
    organisation = _campaign_organisation(service, who, body)
    o = body.options
    if o.mode == "emergency":
        plan = allocations.emergency(service, body.shift_ids[0], now=clock, ask_cap=o.ask_cap, page=o.page)
    else:
        slots, pairs = allocations.campaign(service,
            now=clock, activity_ids=body.activity_ids, shift_ids=body.shift_ids,
            per_place=o.candidates_per_place, minimum=o.minimum, priority=o.priority,
        )  # fmt: skip
        limits = allocation.Limits(o.max_shifts, o.max_hours_per_week, o.rest_hours)
        fairness = allocation.Fairness(o.spread, o.newcomer_share, o.hard_minimum)
        plan = allocation.allocate(slots, pairs, limits, fairness, time_limit_s=PLAN_TIME_LIMIT_S)
    return allocations.save(
        service, organisation, who.account.id, body.model_dump(mode="json"), _shown(service, plan), clock
    )


@router.get("/allocations/{allocation_id}", **policy(*PLANNERS))
def get_allocation(allocation_id: Ident, who: CallerDep, service: LiveDep) -> dict[str, Any]:
    """A plan as it was made, with its status (draft or accepted) and, once accepted, the
    invitations it sent."""
    return _own_allocation(service, who, allocation_id)


@router.post("/allocations/{allocation_id}/accept", **policy(*PLANNERS))
def accept_allocation(
    allocation_id: Ident, who: CallerDep, service: LiveDep, clock: NowDep
) -> dict[str, Any]:
    """Invite everyone the plan assigns (each volunteer accepts or declines, as with any
    invitation). All invitations are sent in one transaction; accepting again changes nothing.
    An assignment the core's rules now forbid (the volunteer took another shift at that time,
    the shift has started) is skipped and listed with why."""
    _own_allocation(service, who, allocation_id)
    return allocations.accept(service, allocation_id, clock)


def _campaign_organisation(service: Live, who: Caller, body: AllocationIn) -> str | None:
    """The organisation whose shifts these are (an organiser's own; else 404 on the first that
    is not); for an admin, the one organisation they all belong to, or none."""
    owners = set()
    for activity_id in body.activity_ids:
        if not places.is_activity(service, activity_id):
            raise NotFoundError("activity", activity_id)
        owner = records.organisation_of(service, activity_id)
        own_organisation(who, owner, kind="activity", ident=activity_id)
        owners.add(owner)
    for shift_id in body.shift_ids:
        owners.add(records.organisation_of(service, own_shift(service, who, shift_id)))
    unknown = (set(body.options.minimum) | set(body.options.priority)) - set(body.shift_ids)
    if unknown and not body.activity_ids:
        raise ValidationError("options", f"minimum or priority for shifts not listed: {sorted(unknown)[:10]}")
    return owners.pop() if len(owners) == 1 else (who.account.organisation_id if who.staff else None)


def _own_allocation(service: Live, who: Caller, allocation_id: str) -> dict[str, Any]:
    record = allocations.get(service, allocation_id)
    own_organisation(who, record["organisation_id"], kind="allocation", ident=allocation_id)
    return record


def _shown(service: Live, plan: allocation.Plan) -> dict[str, Any]:
    """The plan as organisers see it: each volunteer's name, district and distance band beside
    the scores, never where they live or how to reach them."""
    out = plan.to_json()
    cards = volunteer_cards(service, [a.volunteer_id for a in plan.assignments])
    for shown, a in zip(out["assignments"], plan.assignments, strict=True):
        shown |= card(cards, a.volunteer_id, a.distance_km)
    return out
