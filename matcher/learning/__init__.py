"""Learning the ranking's weights from what followed it, and judging rankings offline.

- :mod:`~matcher.learning.training`: labelled examples from the feedback log, the fitted
  :class:`~matcher.learning.training.Model` and its NDCG.
- :mod:`~matcher.learning.evaluation`: per-query metrics, bootstrap intervals and splits.
- :mod:`~matcher.learning.baselines`: popularity, content and collaborative baselines.
- :mod:`~matcher.learning.scistarter`: every method compared on SciStarter's real joins.
"""

from matcher.learning.evaluation import Estimate, bootstrap, summarise
from matcher.learning.training import Model, evaluate, fit

__all__ = ["Estimate", "Model", "bootstrap", "evaluate", "fit", "summarise"]
