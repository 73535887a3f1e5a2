"""What every soft factor sees and promises.

A factor turns :class:`PairFeatures` (one entry per volunteer-shift pair, already eligible) into
a score in [0, 1] per pair, and explains one pair in a short bilingual reason. Factors are pure
array functions: same input, same output, element by element, so the order of pairs never matters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from matcher.model.domain import Reason
from matcher.model.skills import Taxonomy

F32 = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class PairFeatures:
    """Features of n volunteer-shift pairs; every array has shape (n,)."""

    distance_km: F32  # great-circle distance home -> activity; 0 for online activities
    max_travel_km: F32  # the volunteer's own travel limit
    online: NDArray[np.bool_]  # the activity is done online
    coverage: F32  # share of the shift inside the volunteer's weekly windows, (0, 1]
    skill_required: F32  # mean credit over required skills; 1 when none are required
    skill_preferred: F32  # mean credit over preferred skills; 0 when none
    has_preferred: NDArray[np.bool_]  # the activity lists preferred skills
    reliability: F32  # attendance with a prior, decayed over time, (0, 1)
    recency: F32  # exp(-days since last service / 180); 0 for newcomers
    category_hours: F32  # hours served in the activity's category
    organisation_hours: F32  # hours served with the activity's organisation

    def __len__(self) -> int:
        return int(self.distance_km.shape[0])

    def take(self, index: NDArray[np.intp]) -> PairFeatures:
        """The pairs at ``index`` (fancy indexing applied to every column)."""
        return PairFeatures(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @classmethod
    def concat(cls, parts: Sequence[PairFeatures]) -> PairFeatures:
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)})


@dataclass(frozen=True, slots=True)
class ExplainContext:
    """What a factor needs to phrase its reason for one pair."""

    taxonomy: Taxonomy
    required_skills: tuple[str, ...]
    preferred_skills: tuple[str, ...]
    held_skills: frozenset[str]
    held_certifications: frozenset[str]
    required_certifications: tuple[str, ...]
    shift_zh: str  # the shift in the volunteer's local time, "周六 08:00–12:00"
    shift_en: str  # "Sat 08:00–12:00"
    category_zh: str
    category_en: str
    distance_mode: str = "exact"  # "exact" or "band" (for viewers who must not learn distances)


class Factor(Protocol):
    """A soft matching signal."""

    name: str
    label_zh: str
    label_en: str

    def score(self, f: PairFeatures) -> F32:
        """Scores in [0, 1], shape (n,), float32, no NaN."""
        ...

    def explain(self, f: PairFeatures, i: int, ctx: ExplainContext) -> Reason | None:
        """A short reason for pair ``i`` (None when there is nothing worth saying)."""
        ...
