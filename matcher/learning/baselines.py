"""The obvious alternatives a ranking must beat, in the same harness (:mod:`matcher.learning.evaluation`).

Each baseline is fitted on training interactions (a pandas frame with ``user`` and ``item``
columns) and ranks items for a user, best first, leaving out what the user already has:

- :class:`Popularity`: the most joined items first (the same list for everyone);
- :class:`Content`: items whose features (topics, skills, category) are most like those of the
  user's own items (cosine similarity of feature counts);
- :class:`Collaborative`: a low-rank factorisation of the user × item matrix (scikit-learn's
  ``TruncatedSVD``, seeded): items that users with similar histories joined.

Ties are broken by item id, so every ranking is repeatable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping

import numpy as np
import pandas as pd
from sklearn.decomposition import TruncatedSVD  # type: ignore[import-untyped]


class _Baseline:
    def __init__(self, train: pd.DataFrame) -> None:
        if not {"user", "item"} <= set(train.columns):
            raise ValueError("training interactions need columns user and item")
        self.items = sorted(set(map(str, train["item"])))
        self.has: dict[str, set[str]] = {str(u): set(map(str, g)) for u, g in train.groupby("user")["item"]}

    def _order(self, user: str, scores: np.ndarray, k: int, catalogue: list[str]) -> list[str]:
        seen = self.has.get(user, set())
        order = np.lexsort((np.array(catalogue), -scores))
        return [catalogue[i] for i in order if catalogue[i] not in seen][:k]


class Popularity(_Baseline):
    def __init__(self, train: pd.DataFrame) -> None:
        super().__init__(train)
        counts = Counter(map(str, train["item"]))
        self.scores = np.array([counts[i] for i in self.items], dtype=np.float64)

    def rank(self, user: str, k: int) -> list[str]:
        return self._order(user, self.scores, k, self.items)


class Content(_Baseline):
    """``features``: for each item, its features (an item without any scores 0)."""

    def __init__(self, train: pd.DataFrame, features: Mapping[str, Collection[str]]) -> None:
        super().__init__(train)
        self.catalogue = sorted(set(self.items) | set(features))
        vocabulary = sorted({f for fs in features.values() for f in fs})
        column = {f: j for j, f in enumerate(vocabulary)}
        m = np.zeros((len(self.catalogue), len(vocabulary)))
        for i, item in enumerate(self.catalogue):
            for f in features.get(item, ()):
                m[i, column[f]] = 1.0
        norms = np.linalg.norm(m, axis=1, keepdims=True)
        self.matrix = np.divide(m, norms, out=np.zeros_like(m), where=norms > 0)
        self.row = {item: i for i, item in enumerate(self.catalogue)}

    def rank(self, user: str, k: int) -> list[str]:
        mine = [self.row[i] for i in self.has.get(user, ()) if i in self.row]
        if not mine:
            return self._order(user, np.zeros(len(self.catalogue)), k, self.catalogue)
        profile = self.matrix[mine].sum(axis=0)
        norm = np.linalg.norm(profile)
        scores = self.matrix @ (profile / norm) if norm > 0 else np.zeros(len(self.catalogue))
        return self._order(user, scores, k, self.catalogue)


class Collaborative(_Baseline):
    def __init__(self, train: pd.DataFrame, components: int = 16, seed: int = 0) -> None:
        super().__init__(train)
        self.users = sorted(self.has)
        user_row = {u: i for i, u in enumerate(self.users)}
        item_col = {it: j for j, it in enumerate(self.items)}
        m = np.zeros((len(self.users), len(self.items)))
        for u, items in self.has.items():
            for it in items:
                m[user_row[u], item_col[it]] = 1.0
        rank = max(1, min(components, min(m.shape) - 1))
        svd = TruncatedSVD(n_components=rank, random_state=seed)
        self.user_factors = svd.fit_transform(m)
        self.item_factors = svd.components_
        self.user_row = user_row
        self.popular = m.sum(axis=0)

    def rank(self, user: str, k: int) -> list[str]:
        row = self.user_row.get(user)
        scores = self.popular if row is None else self.user_factors[row] @ self.item_factors
        return self._order(user, scores, k, self.items)
