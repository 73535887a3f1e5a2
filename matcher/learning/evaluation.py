"""Offline evaluation of rankings: the numbers analysts compare models and baselines by.

A ranking is evaluated per query (a volunteer asking for activities, or a shift asking for
volunteers): the ids it ranked, best first, against the ids that turned out relevant (the
activity the volunteer joined, the volunteers who turned up). Every metric is computed per
query and then averaged, so that :func:`bootstrap` can put a confidence interval on the
average by resampling queries.

- ``hit_rate`` (HR@k): the share of queries with at least one relevant id in the top k;
- ``precision`` / ``recall`` @k: relevant ids in the top k over k / over all relevant ids;
- ``ndcg`` @k: discounted gain of the relevant ids' positions (binary relevance), over the
  best possible for that query;
- ``mrr``: the reciprocal rank of the first relevant id (0 when none is ranked);
- :func:`coverage`: the share of the catalogue that appears in any top k;
- :func:`~matcher.matching.fairness.gini`: how concentrated exposure is (0: every id recommended equally often; towards 1:
  a few ids get all of it), over the whole catalogue, ids never recommended included.

Splits for the evaluation data (pandas frames of interactions with ``user``, ``item`` and
``time`` columns): :func:`leave_one_out` (each user's latest interaction is the test) and
:func:`temporal_split` (everything before a cut-off trains, the rest tests).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from matcher.matching.fairness import gini

METRICS = ("hit_rate", "precision", "recall", "ndcg", "mrr")


def per_query(
    ranked: Sequence[Sequence[str]], relevant: Sequence[Collection[str]], k: int
) -> dict[str, NDArray[np.float64]]:
    """Each metric of :data:`METRICS` for each query (``mrr`` looks at the whole ranking, the
    others at its first ``k``). Queries with nothing relevant are refused: they have no answer
    to find, and would count as misses."""
    if k < 1:
        raise ValueError("k must be at least 1")
    if len(ranked) != len(relevant):
        raise ValueError(f"{len(ranked)} rankings for {len(relevant)} sets of relevant ids")
    out = {name: np.zeros(len(ranked)) for name in METRICS}
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    for q, (ids, good) in enumerate(zip(ranked, relevant, strict=True)):
        wanted = set(good)
        if not wanted:
            raise ValueError(f"query {q} has no relevant id")
        hits = [i for i, ident in enumerate(ids[:k]) if ident in wanted]
        out["hit_rate"][q] = 1.0 if hits else 0.0
        out["precision"][q] = len(hits) / k
        out["recall"][q] = len(hits) / len(wanted)
        ideal = discounts[: min(len(wanted), k)].sum()
        out["ndcg"][q] = discounts[hits].sum() / ideal if hits else 0.0
        first = next((i for i, ident in enumerate(ids) if ident in wanted), None)
        out["mrr"][q] = 0.0 if first is None else 1.0 / (first + 1)
    return out


def coverage(ranked: Iterable[Sequence[str]], catalogue: Collection[str], k: int) -> float:
    """The share of ``catalogue`` recommended in at least one top ``k``."""
    if not catalogue:
        raise ValueError("the catalogue is empty")
    shown = {ident for ids in ranked for ident in ids[:k]}
    return len(shown & set(catalogue)) / len(catalogue)


def exposure(ranked: Iterable[Sequence[str]], catalogue: Collection[str], k: int) -> NDArray[np.int64]:
    """How often each id of ``catalogue`` (in its order) appears in a top ``k``."""
    position = {ident: i for i, ident in enumerate(catalogue)}
    counts = np.zeros(len(position), dtype=np.int64)
    for ids in ranked:
        for ident in ids[:k]:
            i = position.get(ident)
            if i is not None:
                counts[i] += 1
    return counts


@dataclass(frozen=True)
class Estimate:
    """A mean with a percentile-bootstrap confidence interval."""

    mean: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        return f"{self.mean:.4f} [{self.low:.4f}, {self.high:.4f}] (n={self.n})"


def bootstrap(
    values: Sequence[float] | NDArray[Any], *, resamples: int = 1000, level: float = 0.95, seed: int = 0
) -> Estimate:
    """The mean of per-query ``values`` with a percentile bootstrap interval at ``level``
    (queries resampled with replacement; ``seed`` makes it repeatable)."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        raise ValueError("no values to estimate from")
    if not 0 < level < 1 or resamples < 1:
        raise ValueError("level must be in (0, 1) and resamples at least 1")
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(resamples, x.size))].mean(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    mean = float(x.mean())
    return Estimate(mean, min(float(low), mean), max(float(high), mean), int(x.size))


def summarise(
    ranked: Sequence[Sequence[str]],
    relevant: Sequence[Collection[str]],
    catalogue: Collection[str],
    k: int,
    *,
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Every metric at ``k`` with its interval, plus coverage and the Gini of exposure."""
    values = per_query(ranked, relevant, k)
    out: dict[str, Any] = {name: bootstrap(v, resamples=resamples, seed=seed) for name, v in values.items()}
    out["coverage"] = coverage(ranked, catalogue, k)
    out["exposure_gini"] = gini(exposure(ranked, catalogue, k))
    return out


def leave_one_out(interactions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each user's latest interaction (ties: the last listed) is their test; the rest trains.
    Users with a single interaction stay in training only (nothing would be left to learn from)."""
    _check_columns(interactions)
    df = interactions.reset_index(drop=True)
    order = df.sort_values(["user", "time"], kind="stable")
    last = order.groupby("user", sort=False).tail(1)
    counts = df.groupby("user")["item"].transform("size")
    test_index = last.index[counts.loc[last.index].to_numpy() > 1]
    test = df.loc[test_index].sort_values(["user"], kind="stable")
    return df.drop(index=test_index), test


def temporal_split(interactions: pd.DataFrame, cutoff: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Interactions before ``cutoff`` train, those at or after it test; test users never seen in
    training are dropped (a ranking cannot be evaluated for them from history)."""
    _check_columns(interactions)
    before = interactions["time"] < cutoff
    train, test = interactions[before], interactions[~before]
    return train, test[test["user"].isin(set(train["user"]))]


def _check_columns(df: pd.DataFrame) -> None:
    missing = {"user", "item", "time"} - set(df.columns)
    if missing:
        raise ValueError(f"interactions need columns user, item, time; missing {sorted(missing)}")


def relevant_by_user(test: pd.DataFrame) -> dict[str, set[str]]:
    """The test items of each user."""
    return {str(u): set(map(str, g)) for u, g in test.groupby("user")["item"]}


def estimates_as_json(table: Mapping[str, Mapping[str, Estimate]]) -> dict[str, dict[str, object]]:
    """``{method: {metric: Estimate}}`` as plain numbers: each metric's mean, and its interval
    under ``<metric>_ci95``."""
    return {
        method: {metric: round(e.mean, 4) for metric, e in metrics.items()}
        | {f"{metric}_ci95": [round(e.low, 4), round(e.high, 4)] for metric, e in metrics.items()}
        for method, metrics in table.items()
    }
