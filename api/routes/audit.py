"""The audit log, for admins: who read whose personal data, and consents given or withdrawn."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import LiveDep, policy
from api.schemas import IsoDateTime
from api.usecases import audit, learning
from matcher.store.audit import ACTIONS, MAX_PAGE

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit", **policy("admins only", "admin"))
def audit_log(
    service: LiveDep,
    subject: Annotated[str | None, Query(min_length=1, max_length=64, description="a volunteer id")] = None,
    actor: Annotated[str | None, Query(min_length=1, max_length=64, description="an account id")] = None,
    action: Annotated[
        str | None,
        Query(pattern="^(" + "|".join(a.replace(".", r"\.") for a in (*ACTIONS, "shown.ranking")) + ")$"),
    ] = None,
    since: Annotated[IsoDateTime | None, Query(alias="from")] = None,
    until: Annotated[IsoDateTime | None, Query(alias="to")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> dict[str, Any]:
    """Entries newest first. With ``subject``: everything recorded about that volunteer,
    including the rankings that showed them to an organiser (``shown.ranking``)."""
    if subject is not None:
        learning.flush(service)  # rankings served in the last moments are in the log too
    entries = audit.query(
        service,
        subject=subject,
        actor=actor,
        action=action,
        since_s=None if since is None else int(since.timestamp()),
        until_s=None if until is None else int(until.timestamp()),
        offset=offset,
        limit=limit,
    )
    return {"entries": [e.to_json() for e in entries], "offset": offset, "limit": limit}
