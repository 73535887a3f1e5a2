"""Availability: the share of the shift that falls inside the volunteer's weekly windows, computed
in the volunteer's own time zone on the shift's real dates (see :mod:`matcher.model.calendar`). A shift
with no overlap at all is ineligible (a hard rule), so scores here are in (0, 1]."""

from __future__ import annotations

import numpy as np

from matcher.matching.factors.base import F32, ExplainContext, PairFeatures
from matcher.model.domain import Reason


class AvailabilityFactor:
    name = "availability"
    label_zh = "时间"
    label_en = "availability"

    def score(self, f: PairFeatures) -> F32:
        return np.clip(f.coverage, 0.0, 1.0).astype(np.float32)

    def explain(self, f: PairFeatures, i: int, ctx: ExplainContext) -> Reason:
        share = float(f.coverage[i])
        if share >= 0.999:
            return Reason(self.name, f"{ctx.shift_zh} 有空", f"available {ctx.shift_en}")
        pct = round(100 * share)
        return Reason(
            self.name,
            f"{ctx.shift_zh} 约 {pct}% 时间有空",
            f"available for {pct}% of {ctx.shift_en}",
        )


FACTOR = AvailabilityFactor()
