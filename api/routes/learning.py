"""The feedback the ranking learns from, and the models learned from it.

Outcomes of the sign-up flow (invitations, answers, sign-ups, attendance, no-shows) are logged
by the flow itself; this router takes the two it cannot see: a view (a volunteer opened a
recommended activity, an organiser opened a recommended volunteer) and an organiser's rating of
a place. Admins list, activate and deactivate models (``volmatch train`` fits them); analysts
may list them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path
from pydantic import Field

from api.deps import CallerDep, LiveDep, NowDep, own_organisation, own_volunteer, policy
from api.schemas import Strict
from api.usecases import learning, places, records
from matcher.model.errors import ValidationError

router = APIRouter(prefix="/api/v1", tags=["learning"])
Version = Annotated[str, Path(max_length=120)]


class FeedbackIn(Strict):
    kind: Literal["viewed", "rating"]
    volunteer_id: str = Field(max_length=64)
    shift_id: str = Field(max_length=64)
    served_id: str | None = Field(None, max_length=64, description="the answer the item was shown in")
    value: int | None = Field(None, ge=1, le=5, description="the rating, 1-5 (ratings only)")


@router.post(
    "/feedback",
    status_code=201,
    **policy(
        "a volunteer about themself, organisers about their shifts, admins",
        "volunteer",
        "organiser",
        "org_admin",
        "admin",
    ),
)
def feedback(body: FeedbackIn, who: CallerDep, service: LiveDep, clock: NowDep) -> dict[str, Any]:
    """Report a view of a recommendation (volunteers and organisers) or rate a volunteer's place
    on a shift (organisers, 1-5, once they held a place there)."""
    activity_id = places.shift_activity(service, body.shift_id)
    if who.role == "volunteer":
        own_volunteer(who, body.volunteer_id)
    elif who.staff:  # an organiser's view or rating concerns their own shifts
        own_organisation(
            who, records.organisation_of(service, activity_id), kind="activity", ident=activity_id
        )
    if body.kind == "rating":
        if who.role == "volunteer":
            raise HTTPException(403, "ratings are given by the activity's organisers")
        if body.value is None:
            raise ValidationError("value", "a rating needs a value from 1 to 5")
    learning.record_outcome(
        service,
        body.kind,
        body.volunteer_id,
        body.shift_id,
        clock,
        None if body.value is None else float(body.value),
        who.account.id,
    )
    return {"kind": body.kind, "volunteer_id": body.volunteer_id, "shift_id": body.shift_id, "recorded": True}


@router.get("/models", **policy("admins and analysts", "admin", "analyst"))
def models(service: LiveDep) -> dict[str, Any]:
    """Every stored ranking model, newest first: kind, features, training data range, test
    metrics, and which one the service ranks with."""
    return learning.models(service)


@router.post("/models/{version}/activate", **policy("admins", "admin"))
def activate(version: Version, service: LiveDep) -> dict[str, Any]:
    """Rank with this model from now on, in every worker."""
    return {"active": learning.activate(service, version)}


@router.post("/models/deactivate", **policy("admins", "admin"))
def deactivate(service: LiveDep) -> dict[str, Any]:
    """Rank with the default weights again."""
    return {"active": learning.activate(service, None)}
