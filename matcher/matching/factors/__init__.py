"""The soft factors. This registry is the only list of them: a new signal is a new module here
plus one line below (its weight goes in :class:`matcher.matching.scoring.Weights`)."""

from __future__ import annotations

from matcher.matching.factors import availability, distance, past_service, skills
from matcher.matching.factors.base import ExplainContext, Factor, PairFeatures

REGISTRY: tuple[Factor, ...] = (
    skills.FACTOR,
    distance.FACTOR,
    availability.FACTOR,
    past_service.FACTOR,
)

__all__ = ["REGISTRY", "ExplainContext", "Factor", "PairFeatures"]
