"""Skills: coverage of the required skills, with a bonus for preferred ones.

Each required skill earns the best credit among the volunteer's skills (1 for the skill itself,
partial credit through the taxonomy, see :meth:`matcher.model.skills.Taxonomy.credits_for`); the score
is their mean. When the activity lists preferred skills, a fifth of the score comes from their
mean credit instead. An activity with no skill requirements scores every volunteer 1 on the
required part.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from matcher.matching.factors.base import F32, ExplainContext, PairFeatures
from matcher.model.domain import Reason

PREFERRED_SHARE = 0.2


def blend(required: F32, preferred: F32, has_preferred: NDArray[np.bool_] | bool) -> F32:
    """The score from the mean required and preferred credits; increasing in both, so maxima of
    the credits give a bound on the score."""
    share = np.where(has_preferred, np.float32(PREFERRED_SHARE), np.float32(0.0))
    s = (np.float32(1.0) - share) * required + share * preferred
    return np.clip(s, 0.0, 1.0).astype(np.float32)


class SkillsFactor:
    name = "skills"
    label_zh = "技能"
    label_en = "skills"

    def score(self, f: PairFeatures) -> F32:
        return blend(f.skill_required, f.skill_preferred, f.has_preferred)

    def explain(self, f: PairFeatures, i: int, ctx: ExplainContext) -> Reason | None:
        tax = ctx.taxonomy
        for cert in ctx.required_certifications:
            if cert in ctx.held_certifications:
                return Reason(
                    self.name,
                    f"持有{tax.label(cert, 'zh')}证",
                    f"holds {tax.label(cert, 'en')} certificate",
                )
        for wanted in ctx.required_skills + ctx.preferred_skills:
            if wanted in ctx.held_skills:
                return Reason(
                    self.name, f"具备{tax.label(wanted, 'zh')}技能", f"has {tax.label(wanted, 'en')}"
                )
        for wanted in ctx.required_skills + ctx.preferred_skills:
            credits = tax.credits_for(wanted)
            best = max(
                (s for s in ctx.held_skills if s in credits), key=lambda s: (credits[s], s), default=None
            )
            if best is not None:
                return Reason(
                    self.name,
                    f"{tax.label(best, 'zh')}可部分胜任{tax.label(wanted, 'zh')}",
                    f"{tax.label(best, 'en')} partly covers {tax.label(wanted, 'en')}",
                )
        if not ctx.required_skills:
            return Reason(self.name, "无特殊技能要求", "no special skills needed")
        return None


FACTOR = SkillsFactor()
