"""Recognition tiers from cumulative approved service hours.

The default is the national star scale for registered volunteers (one star at 100 hours, two at
300, three at 600, four at 1,000, five at 1,500); an association with other thresholds sets
``VOLMATCH_TIER_HOURS`` (for example ``30,60,100,200,300``) instead of changing code.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from matcher.model.errors import ValidationError

NATIONAL_STARS = (100.0, 300.0, 600.0, 1000.0, 1500.0)


@dataclass(frozen=True)
class Standing:
    hours: float
    stars: int  # tiers reached, 0 = none yet
    next_tier_hours: float | None  # threshold of the next tier (None: the top one is reached)
    hours_to_next: float | None


@dataclass(frozen=True)
class Tiers:
    """Ascending hour thresholds; tier ``i`` (1-based) is reached at ``thresholds[i - 1]`` hours."""

    thresholds: tuple[float, ...] = NATIONAL_STARS

    def __post_init__(self) -> None:
        t = self.thresholds
        if (
            not t
            or any(not math.isfinite(x) or x <= 0 for x in t)
            or any(a >= b for a, b in itertools.pairwise(t))
        ):
            raise ValidationError(
                "tiers", "give positive hour thresholds in increasing order, e.g. 100,300,600"
            )

    @classmethod
    def parse(cls, text: str) -> Tiers:
        """From ``"100,300,600,1000,1500"``."""
        try:
            return cls(tuple(float(x) for x in text.split(",")))
        except ValueError as e:
            raise ValidationError("tiers", f"not a list of hours: {text!r}") from e

    def standing(self, hours: float) -> Standing:
        # A total is a sum of entries in hundredths: compare on that grid, not on float noise.
        h = round(hours, 6)
        stars = sum(1 for t in self.thresholds if h >= t)
        if stars == len(self.thresholds):
            return Standing(h, stars, None, None)
        nxt = self.thresholds[stars]
        return Standing(h, stars, nxt, round(nxt - h, 6))
