"""Past service: reliability, recency and experience with this kind of work and organisation.

score = 0.45 reliability + 0.15 recency + 0.25 category experience + 0.15 organisation experience

- reliability = (a + attended) / (a + b + attended + no-shows), a Beta(4, 1) prior: a newcomer
  starts at 0.8, not 0, and one no-show moves it a little; counts decay with a half-life (see
  :mod:`matcher.matching.index`) so one bad month is not held against anyone for ever;
- recency = exp(-days since the last service / 180), 0 for someone who never served;
- experience = 1 - exp(-hours / scale) with scales 20 h (category) and 10 h (organisation).

A volunteer with no history scores 0.36: behind proven regulars when everything else is equal,
never excluded, and the other three factors carry their recommendations.
"""

from __future__ import annotations

import numpy as np

from matcher.matching.factors.base import F32, ExplainContext, PairFeatures
from matcher.model.domain import Reason

PRIOR_ATTENDED = 4.0
PRIOR_MISSED = 1.0
RECENCY_DAYS = 180.0
CATEGORY_HOURS_SCALE = 20.0
ORGANISATION_HOURS_SCALE = 10.0
W_RELIABILITY, W_RECENCY, W_CATEGORY, W_ORGANISATION = 0.45, 0.15, 0.25, 0.15


def reliability(attended: F32, missed: F32) -> F32:
    """Posterior mean attendance under the Beta prior; arrays of (decayed) counts."""
    a, b = np.float32(PRIOR_ATTENDED), np.float32(PRIOR_MISSED)
    return ((attended + a) / (attended + missed + a + b)).astype(np.float32)


def static_part(rel: F32, rec: F32) -> F32:
    """The part that does not depend on the activity (the index keeps its maximum per block)."""
    return (np.float32(W_RELIABILITY) * rel + np.float32(W_RECENCY) * rec).astype(np.float32)


class PastServiceFactor:
    name = "past_service"
    label_zh = "服务经历"
    label_en = "past service"

    def score(self, f: PairFeatures) -> F32:
        cat = np.float32(1.0) - np.exp(-f.category_hours / np.float32(CATEGORY_HOURS_SCALE))
        org = np.float32(1.0) - np.exp(-f.organisation_hours / np.float32(ORGANISATION_HOURS_SCALE))
        s = (
            static_part(f.reliability, f.recency)
            + np.float32(W_CATEGORY) * cat
            + np.float32(W_ORGANISATION) * org
        )
        out: F32 = np.clip(s, 0.0, 1.0).astype(np.float32)
        return out

    def explain(self, f: PairFeatures, i: int, ctx: ExplainContext) -> Reason:
        hours = float(f.category_hours[i])
        rel = round(100 * float(f.reliability[i]))
        if hours > 0:
            return Reason(
                self.name,
                f"{ctx.category_zh}累计 {hours:.0f} 小时，出勤可靠度 {rel}%",
                f"{hours:.0f} h of {ctx.category_en}, {rel}% reliable",
            )
        if float(f.recency[i]) > 0:
            return Reason(self.name, f"有服务经历，出勤可靠度 {rel}%", f"served before, {rel}% reliable")
        return Reason(self.name, "新志愿者，欢迎加入", "new volunteer, welcome")


FACTOR = PastServiceFactor()
