"""How evenly a ranking or a plan spreads its chances: the Gini coefficient of exposure counts.

Shared by offline evaluation (how concentrated recommendations are) and campaign allocation (how
concentrated assignments are)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray


def gini(counts: Sequence[float] | NDArray[Any]) -> float:
    """The Gini coefficient of non-negative counts: 0 when all are equal, (n-1)/n when one
    holds everything (mean absolute difference over twice the mean)."""
    x = np.sort(np.asarray(counts, dtype=np.float64))
    if x.size == 0 or np.any(x < 0):
        raise ValueError("give at least one count, none negative")
    total = x.sum()
    if total == 0:
        return 0.0
    n = x.size
    ranks = np.arange(1, n + 1)
    return float((2.0 * (ranks * x).sum()) / (n * total) - (n + 1) / n)
