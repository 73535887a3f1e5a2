"""Distance: close is better, relative to how far this volunteer is willing to travel.

score = 1 / (1 + (2 d / L)^2) for distance d and the volunteer's own travel limit L: 1 at the
door, 0.5 at half the limit, 0.2 at the limit (beyond it the pair is ineligible, a hard rule).
Someone happy to travel 20 km is not put off by 5 km (0.8); someone who said 5 km is (0.2).
Online activities score 1: nobody travels.
"""

from __future__ import annotations

import numpy as np

from matcher.matching.factors.base import F32, ExplainContext, PairFeatures
from matcher.model.domain import Reason
from matcher.model.geo import distance_band

FACTOR_NAME = "distance"
MIN_LIMIT_KM = 0.1  # a travel limit of 0 means "only at my door": treat as 100 m


def decay(distance_km: F32, max_travel_km: F32) -> F32:
    """The distance curve, vectorised; monotone down in distance and up in the limit."""
    limit = np.maximum(max_travel_km, np.float32(MIN_LIMIT_KM))
    ratio = np.float32(2.0) * distance_km / limit
    return (np.float32(1.0) / (np.float32(1.0) + ratio * ratio)).astype(np.float32)


class DistanceFactor:
    name = FACTOR_NAME
    label_zh = "距离"
    label_en = "distance"

    def score(self, f: PairFeatures) -> F32:
        return np.where(f.online, np.float32(1.0), decay(f.distance_km, f.max_travel_km)).astype(np.float32)

    def explain(self, f: PairFeatures, i: int, ctx: ExplainContext) -> Reason:
        if f.online[i]:
            return Reason(self.name, "线上活动，无需出行", "online, no travel")
        return distance_reason(float(f.distance_km[i]), ctx.distance_mode)


def shown_km(distance_km: float) -> float:
    """A distance as people are shown it: to 100 m, the same in a reason and a number."""
    return round(distance_km, 1)


def distance_reason(distance_km: float, mode: str = "exact") -> Reason:
    """ "2.4 km away" (``mode="exact"``, the volunteer's own view) or "2–5 km away" (``"band"``)."""
    text = distance_band(distance_km) if mode == "band" else f"{shown_km(distance_km):.1f} km"
    return Reason(FACTOR_NAME, f"距离 {text}", f"{text} away")


FACTOR = DistanceFactor()
