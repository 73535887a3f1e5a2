"""Learning the ranking from what happened after it was shown.

Served answers joined to the outcomes that followed are labelled examples: a pair is *good*
when the person took the place and neither declined nor failed to turn up (:func:`examples`).
Models are fitted on a temporal split (older examples train, the newest fifth tests):

- ``linear``: logistic regression on the factor parts. Its coefficients, clipped at zero and
  normalised, are a :class:`matcher.matching.scoring.Weights`, so the service ranks with them
  through the same pruned search and every explanation stays per factor; probabilities come
  from Platt scaling of the weighted total (monotone: the ranking is the weights').
- ``boosted``: ``HistGradientBoostingClassifier`` on the parts and richer numeric columns,
  sigmoid-calibrated (isotonic plateaus would tie candidates the trees told apart), kept small
  and slow-learning because outcomes are few and mostly negative. It re-orders candidates;
  the parts shown stay the factors'.

A :class:`Model` carries its version, kind, features, training range and test metrics. Nothing
here reads the clock (``created`` is an argument) and everything is seeded. scikit-learn is
imported inside the functions that need it, not by the module: every serving process imports
this module, and scikit-learn would dominate its start-up (see ``docs/benchmarks.md``).
"""

from __future__ import annotations

import hashlib
import io
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from matcher.matching.factors import REGISTRY
from matcher.matching.scoring import Weights
from matcher.model.errors import ValidationError
from matcher.model.vocabulary import BAD_OUTCOMES, GOOD_OUTCOMES

FACTORS: tuple[str, ...] = tuple(f.name for f in REGISTRY)
KINDS = ("linear", "boosted")
TEST_SHARE = 0.2
MIN_EXAMPLES = 50


def examples(served: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """The served log with a ``label`` column: 1 when an outcome in :data:`~matcher.model.vocabulary.GOOD_OUTCOMES` followed for
    the same volunteer and shift (or activity, for rows without a shift) and none in :data:`~matcher.model.vocabulary.BAD_OUTCOMES`.

    ``served`` needs ``query``, ``time``, ``volunteer_id``, ``shift_id`` (or ``activity_id``),
    ``rank`` and one column per factor; ``outcomes`` needs ``volunteer_id``, ``shift_id``,
    ``kind`` and ``time``. Only outcomes at or after the serving count."""
    missing = {"query", "time", "volunteer_id", "rank", *FACTORS} - set(served.columns)
    if missing:
        raise ValidationError("served", f"missing columns {sorted(missing)}")
    key = "shift_id" if "shift_id" in served.columns else "activity_id"
    out = served.copy()
    if outcomes.empty:
        out["label"] = 0
        return out
    marks = outcomes[["volunteer_id", key, "kind", "time"]].rename(columns={"time": "outcome_time"})
    joined = out[["volunteer_id", key, "time"]].reset_index().merge(marks, on=["volunteer_id", key])
    joined = joined[joined["outcome_time"] >= joined["time"]]
    good = set(joined.loc[joined["kind"].isin(GOOD_OUTCOMES), "index"])
    bad = set(joined.loc[joined["kind"].isin(BAD_OUTCOMES), "index"])
    out["label"] = [int(i in good and i not in bad) for i in out.index]
    return out


@dataclass(frozen=True)
class Model:
    """A fitted ranking model and what it was fitted on. ``weights`` is set for linear models
    (what the service ranks with); ``estimator`` gives calibrated probabilities."""

    version: str
    kind: str
    features: tuple[str, ...]
    trained_from: float
    trained_to: float
    examples: int
    metrics: dict[str, float]
    estimator: Any = field(repr=False)
    weights: Weights | None = None

    def predict(self, frame: pd.DataFrame) -> NDArray[np.float64]:
        """The calibrated probability of a good outcome for each row of ``frame``."""
        missing = set(self.features) - set(frame.columns)
        if missing:
            raise ValidationError("features", f"model {self.version} needs columns {sorted(missing)}")
        if self.weights is not None:
            total = weighted(frame, self.weights)[:, None]
            return np.asarray(self.estimator.predict_proba(total)[:, 1], dtype=np.float64)
        x = frame[list(self.features)].to_numpy(dtype=np.float64)
        return np.asarray(self.estimator.predict_proba(x)[:, 1], dtype=np.float64)

    def describe(self) -> dict[str, Any]:
        """What a person (or ``--json``) is shown about the model."""
        return {
            "version": self.version,
            "kind": self.kind,
            "features": list(self.features),
            "trained_from": self.trained_from,
            "trained_to": self.trained_to,
            "examples": self.examples,
            "metrics": self.metrics,
            "weights": None if self.weights is None else self.weights.normalised(),
        }

    def to_bytes(self) -> bytes:
        """The model for the store (pickle; models are only ever read back from the service's
        own database)."""
        buf = io.BytesIO()
        pickle.dump(self, buf, protocol=pickle.HIGHEST_PROTOCOL)
        return buf.getvalue()

    @staticmethod
    def from_bytes(blob: bytes) -> Model:
        model = pickle.loads(blob)
        if not isinstance(model, Model):
            raise ValueError("not a volmatch model")
        return model


def fit(
    data: pd.DataFrame,
    *,
    kind: str = "linear",
    created: datetime,
    seed: int = 0,
    extra: Sequence[str] = (),
) -> Model:
    """Fit a model of ``kind`` on labelled examples (:func:`examples`): the oldest 80 % of
    queries by time train, the newest 20 % test. ``extra`` names further numeric columns for the
    boosted model (ignored by the linear one, which sees the factor parts only)."""
    if kind not in KINDS:
        raise ValidationError("kind", f"must be one of {list(KINDS)}")
    if len(data) < MIN_EXAMPLES:
        raise ValidationError("examples", f"{len(data)} examples; at least {MIN_EXAMPLES} are needed")
    if data["label"].nunique() < 2:
        raise ValidationError("examples", "every example has the same outcome: nothing to learn from")
    train, test = split(data)
    features = FACTORS if kind == "linear" else (*FACTORS, *extra)
    missing = set(features) - set(data.columns)
    if missing:
        raise ValidationError("extra", f"no such columns in the examples: {sorted(missing)}")
    metrics: dict[str, float] = {}
    weights: Weights | None = None
    if kind == "linear":
        weights, estimator, clipped = _fit_linear(train, seed)
        metrics["clipped_factors"] = float(clipped)
    else:
        from sklearn.calibration import CalibratedClassifierCV  # type: ignore[import-untyped]
        from sklearn.ensemble import HistGradientBoostingClassifier  # type: ignore[import-untyped]

        x = train[list(features)].to_numpy(dtype=np.float64)
        estimator = CalibratedClassifierCV(
            HistGradientBoostingClassifier(
                random_state=seed,
                max_iter=100,
                learning_rate=0.05,
                min_samples_leaf=20,
                l2_regularization=1.0,
            ),
            method="sigmoid",
            cv=3,
        ).fit(x, train["label"].to_numpy())
    times = data["time"].to_numpy(dtype=np.float64)
    digest = hashlib.sha256(
        pd.util.hash_pandas_object(data[[*features, "label"]], index=False).to_numpy().tobytes()
        + f"{kind}:{seed}".encode()
    ).hexdigest()[:8]
    model = Model(
        version=f"{kind}-{created:%Y%m%d-%H%M%S}-{digest}",
        kind=kind,
        features=tuple(features),
        trained_from=float(times.min()),
        trained_to=float(times.max()),
        examples=len(data),
        metrics=metrics,
        estimator=estimator,
        weights=weights,
    )
    metrics |= evaluate(model, test)
    return model


def split(data: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Temporal split by query: queries served before the cut-off train, the newest
    :data:`TEST_SHARE` of queries test (a query's rows never straddle the cut)."""
    first = data.groupby("query")["time"].min().sort_values(kind="stable")
    cut = int(len(first) * (1 - TEST_SHARE))
    if cut < 1 or cut >= len(first):
        raise ValidationError("examples", "too few queries for a temporal split (need at least 2)")
    train_queries = set(first.index[:cut])
    in_train = data["query"].isin(train_queries)
    return data[in_train], data[~in_train]


def evaluate(model: Model, test: pd.DataFrame) -> dict[str, float]:
    """Test metrics: AUC and Brier score of the probabilities, and NDCG@10 of each query's rows
    re-ordered by the model, beside the default weights' NDCG@10 on the same queries."""
    from sklearn.metrics import brier_score_loss, roc_auc_score  # type: ignore[import-untyped]

    p = model.predict(test)
    y = test["label"].to_numpy()
    out: dict[str, float] = {"test_examples": float(len(test))}
    if len(set(y.tolist())) == 2:
        out["auc"] = round(float(roc_auc_score(y, p)), 4)
    out["brier"] = round(float(brier_score_loss(y, p)), 4)
    out["ndcg_at_10"] = round(ndcg_by_query(test, p), 4)
    out["default_ndcg_at_10"] = round(ndcg_by_query(test, weighted(test, Weights.default())), 4)
    return out


def ndcg_by_query(frame: pd.DataFrame, scores: NDArray[np.float64], k: int = 10) -> float:
    """Mean NDCG@k over queries with at least one good outcome, ordering each query's rows by
    ``scores`` (ties by the rank they were served at) and using ``label`` as the gain."""
    if frame.empty:
        return float("nan")
    d = pd.DataFrame(
        {
            "query": frame["query"].to_numpy(),
            "gain": frame["label"].to_numpy(dtype=float),
            "score": scores,
            "rank": frame["rank"].to_numpy(),
        }
    )
    return graded_ndcg(d, k)


def graded_ndcg(d: pd.DataFrame, k: int = 10) -> float:
    """Mean NDCG@k of frame ``d`` (columns ``query``, ``score``, ``gain``, ``rank``): each
    query's rows ordered by score, against the best order of its gains. Queries whose gains are
    all zero are left out."""
    values = ndcg_per_query(d, k)
    return float(np.mean(values)) if len(values) else float("nan")


def ndcg_per_query(d: pd.DataFrame, k: int = 10) -> NDArray[np.float64]:
    """NDCG@k of each query of ``d`` with a positive gain, in order of first appearance (what
    :func:`graded_ndcg` averages and a bootstrap resamples)."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    values = []
    for _, g in d.groupby("query", sort=False):
        gains = g["gain"].to_numpy(dtype=np.float64)
        if gains.max() <= 0:
            continue
        order = np.lexsort((g["rank"].to_numpy(), -g["score"].to_numpy()))
        got = gains[order][:k]
        best = np.sort(gains)[::-1][:k]
        values.append(float(got @ discounts[: len(got)] / (best @ discounts[: len(best)])))
    return np.asarray(values, dtype=np.float64)


def weighted(frame: pd.DataFrame, weights: Weights) -> NDArray[np.float64]:
    """The weighted total of each row's factor parts (what the ranking scores)."""
    w = weights.normalised()
    return np.asarray(sum(frame[name].to_numpy(dtype=np.float64) * w[name] for name in FACTORS))


def _fit_linear(train: pd.DataFrame, seed: int) -> tuple[Weights, Any, int]:
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    x = train[list(FACTORS)].to_numpy(dtype=np.float64)
    y = train["label"].to_numpy()
    logistic = LogisticRegression(random_state=seed, max_iter=1000, C=10.0).fit(x, y)
    coef = logistic.coef_[0]
    clipped = int((coef < 0).sum())
    if (coef <= 0).all():
        raise ValidationError("examples", "no factor makes a good outcome more likely in these outcomes")
    weights = Weights({name: max(float(c), 0.0) for name, c in zip(FACTORS, coef, strict=True)})
    platt = LogisticRegression(random_state=seed).fit(weighted(train, weights)[:, None], y)
    return weights, platt, clipped
