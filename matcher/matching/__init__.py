"""Matching: who fits which shift, how well, and why.

- :mod:`~matcher.matching.columns`: struct-of-arrays batches the index is built from.
- :mod:`~matcher.matching.index`: :class:`MatchIndex`, the in-memory columnar index, its
  columns in the typed tables of :mod:`~matcher.matching.tables` (``index.volunteers``,
  ``index.activities``, ``index.shifts``), its volunteers in the spatial blocks of
  :mod:`~matcher.matching.blocks`, its derived work in :mod:`~matcher.matching.memo`.
- :mod:`~matcher.matching.constraints`: the hard rules (a pair failing one is never ranked).
- :mod:`~matcher.matching.factors`: the soft factors (skills, distance, availability, past
  service), each a module; :mod:`~matcher.matching.scoring` weighs and combines them.
- :mod:`~matcher.matching.ranking`: top-k both ways and ``why_not``: the volunteer search is
  :mod:`~matcher.matching.search`, the volunteer's direction :mod:`~matcher.matching.activities`,
  the reasons and short-list notes :mod:`~matcher.matching.answers`.
- :mod:`~matcher.matching.kernels`: the compiled (numba) loops behind the volunteer search.
- :mod:`~matcher.matching.fairness`: how evenly chances are spread (Gini of exposure).
"""

from matcher.matching.index import MatchIndex
from matcher.matching.ranking import Ranking, recommend_activities, recommend_volunteers, why_not
from matcher.matching.scoring import DEFAULT_WEIGHTS, Weights

__all__ = [
    "DEFAULT_WEIGHTS",
    "MatchIndex",
    "Ranking",
    "Weights",
    "recommend_activities",
    "recommend_volunteers",
    "why_not",
]
