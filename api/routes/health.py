"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import LiveDep, policy
from api.usecases import audit

router = APIRouter(tags=["health"])


@router.get("/health", **policy("public"))
async def health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/ready", **policy("public"))
def ready(service: LiveDep) -> dict[str, object]:
    """The store answers and the index is built."""
    counts = audit.counts(service)
    return {"status": "ready", "volunteers": counts["volunteers"], "activities": counts["activities"]}
