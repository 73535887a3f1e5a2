"""Weights and the combination of factor scores into one total with its explanation.

total = sum_f w_f * part_f / sum_f w_f, so totals stay in [0, 1] whatever the weights. Default
weights (configuration, overridable per call, per deployment or by a learned model later):

- skills 0.35: the post has to be done well; required skills are already a hard rule, this ranks
  how completely they and the preferred ones are covered;
- distance 0.25 and availability 0.25: the two things that decide whether someone actually turns
  up (Chinese and UK volunteer surveys name travel and time as the first barriers);
- past service 0.15: reliability and experience break ties between otherwise equal volunteers
  without shutting newcomers out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from matcher.matching.factors import REGISTRY, PairFeatures
from matcher.model.errors import ValidationError

DEFAULT_WEIGHTS: Mapping[str, float] = {
    "skills": 0.35,
    "distance": 0.25,
    "availability": 0.25,
    "past_service": 0.15,
}


@dataclass(frozen=True, slots=True)
class Weights:
    """Non-negative factor weights, at least one positive; unknown factor names are refused."""

    values: Mapping[str, float]

    def __post_init__(self) -> None:
        known = {f.name for f in REGISTRY}
        for name, w in self.values.items():
            if name not in known:
                raise ValidationError(f"weights.{name}", f"unknown factor; known: {sorted(known)}")
            if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w) or w < 0:
                raise ValidationError(f"weights.{name}", "must be a finite number >= 0")
        if sum(self.values.get(f.name, 0.0) for f in REGISTRY) <= 0:
            raise ValidationError("weights", "at least one weight must be positive")

    @classmethod
    def default(cls) -> Weights:
        return cls(dict(DEFAULT_WEIGHTS))

    def normalised(self) -> dict[str, float]:
        """Weights of every registered factor, summing to 1."""
        total = sum(self.values.get(f.name, 0.0) for f in REGISTRY)
        return {f.name: self.values.get(f.name, 0.0) / total for f in REGISTRY}

    def key(self) -> tuple[float, ...]:
        """The normalised weights in factor order: equal keys rank alike (a cache key)."""
        return tuple(self.normalised().values())


def score_parts(features: PairFeatures) -> dict[str, NDArray[np.float32]]:
    """Every registered factor's scores for the pairs, keyed by factor name."""
    return {f.name: f.score(features) for f in REGISTRY}


def combine(parts: Mapping[str, NDArray[np.float32]], weights: Weights) -> NDArray[np.float64]:
    """Weighted total in [0, 1], float64 so that ties are decided by the id, not by rounding noise
    that depends on the order of evaluation."""
    w = weights.normalised()
    total: NDArray[np.float64] | None = None
    for name, part in parts.items():
        term = part.astype(np.float64) * w[name]
        total = term if total is None else total + term
    assert total is not None
    return total
