"""Outcomes for the demo city, drawn from a hidden preference model: a known answer for learning.

Real outcomes are noisy and nobody knows the preferences behind them, so a learner cannot be
checked against the truth on them. Here the truth is set: volunteers in the demo city decide
with the weights :data:`HIDDEN_WEIGHTS`, which differ on purpose from the default ones (people
care about distance far more, and about how well their skills match far less, than the
defaults assume). For each of a number of shifts the service's default ranking is served
(top ``k``), and each person shown takes the place with probability

    p = sigmoid(SHARPNESS * (utility - MIDPOINT)),   utility = sum_f HIDDEN_WEIGHTS[f] * part_f

then turns up with probability :data:`SHOW_RATE` (otherwise a no-show). The served frame keeps
the hidden ``utility`` and ``p_accept`` as columns so that an evaluation can use them as graded
relevance; a learner must not use them as features.

Queries are served in order; their ``time`` is their position (seconds), so temporal splits
keep the newest shifts for testing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import numpy as np
import pandas as pd

from matcher.learning import evaluation
from matcher.learning import training as learning
from matcher.matching.index import MatchIndex
from matcher.matching.ranking import recommend_volunteers
from matcher.matching.scoring import Weights

HIDDEN_WEIGHTS: Mapping[str, float] = {
    "skills": 0.05,
    "distance": 0.60,
    "availability": 0.15,
    "past_service": 0.20,
}
SHARPNESS = 14.0
MIDPOINT = 0.62
SHOW_RATE = 0.9


def simulate(
    index: MatchIndex,
    *,
    now: datetime,
    queries: int,
    k: int = 30,
    seed: int = 0,
    hidden: Mapping[str, float] = HIDDEN_WEIGHTS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(served, outcomes)`` for up to ``queries`` open shifts drawn at random (seeded): the
    served log (one row per volunteer shown: ``query``, ``time``, ``volunteer_id``,
    ``activity_id``, ``shift_id``, ``rank``, ``score``, ``distance_km``, one column per factor,
    and the hidden ``utility`` and ``p_accept``) and the outcomes (``volunteer_id``, ``shift_id``, ``kind``,
    ``time``)."""
    rng = np.random.default_rng(seed)
    weights = Weights(dict(hidden)).normalised()
    now_s = now.timestamp()
    n = len(index.shifts.ids)
    open_rows = np.flatnonzero(
        (index.shifts.start.data[:n] > now_s) & (index.shifts.taken.data[:n] < index.shifts.cap.data[:n])
    )
    picks = rng.permutation(open_rows)
    served: list[dict[str, object]] = []
    outcomes: list[dict[str, object]] = []
    q = 0
    for s_row in picks.tolist():
        if q == queries:
            break
        shift_id = index.shifts.ids[s_row]
        activity_id = index.activity_of_shift(shift_id)
        ranking = recommend_volunteers(index, activity_id, now=now, shift_id=shift_id, k=k)
        if len(ranking.matches) < 2:
            continue
        for rank, m in enumerate(ranking.matches, start=1):
            utility = sum(weights[f] * m.parts[f] for f in weights)
            p_accept = 1.0 / (1.0 + np.exp(-SHARPNESS * (utility - MIDPOINT)))
            served.append(
                {
                    "query": f"q{q}",
                    "time": float(q),
                    "volunteer_id": m.id,
                    "activity_id": activity_id,
                    "shift_id": shift_id,
                    "rank": rank,
                    "score": m.score,
                    "distance_km": m.distance_km,
                    **m.parts,
                    "utility": utility,
                    "p_accept": p_accept,
                }
            )
            if rng.random() < p_accept:
                outcomes.append(_outcome(m.id, shift_id, "accepted", q + 0.1))
                turned_up = rng.random() < SHOW_RATE
                outcomes.append(_outcome(m.id, shift_id, "attended" if turned_up else "no_show", q + 0.5))
        q += 1
    return pd.DataFrame(served), pd.DataFrame(outcomes, columns=["volunteer_id", "shift_id", "kind", "time"])


METHODS = ("popularity", "distance", "skills", "default", "learned_linear", "learned")


def compare(
    data: pd.DataFrame, *, created: datetime, seed: int = 0, resamples: int = 1000
) -> dict[str, dict[str, evaluation.Estimate]]:
    """Every way of ordering the newest answers' lists (the temporal test split of labelled
    examples from :func:`simulate` and :func:`matcher.learning.training.examples`), with 95% intervals
    over queries: ``ndcg_at_10`` against what people did, and ``hidden_ndcg_at_10`` against
    their chance of saying yes under the hidden preferences.

    ``popularity``: volunteers who took places most often in the training answers first;
    ``distance`` and ``skills``: that factor's part alone; ``default``: the default weights;
    ``learned_linear`` and ``learned``: the two models of :mod:`matcher.learning.training`, fitted on the
    training answers."""
    train, test = learning.split(data)
    taken = train.groupby("volunteer_id")["label"].sum()
    scores = {
        "popularity": test["volunteer_id"].map(taken).fillna(0).to_numpy(dtype=np.float64),
        "distance": test["distance"].to_numpy(dtype=np.float64),
        "skills": test["skills"].to_numpy(dtype=np.float64),
        "default": learning.weighted(test, Weights.default()),
    }
    for name, kind in (("learned_linear", "linear"), ("learned", "boosted")):
        model = learning.fit(data, kind=kind, created=created, seed=seed)  # fitted on `train` only
        scores[name] = model.predict(test)
    out: dict[str, dict[str, evaluation.Estimate]] = {}
    for name in METHODS:
        frame = test.assign(score=scores[name])
        out[name] = {
            "ndcg_at_10": evaluation.bootstrap(
                learning.ndcg_per_query(frame.assign(gain=frame["label"])), resamples=resamples, seed=seed
            ),
            "hidden_ndcg_at_10": evaluation.bootstrap(
                learning.ndcg_per_query(frame.assign(gain=frame["p_accept"])), resamples=resamples, seed=seed
            ),
        }
    return out


def _outcome(volunteer_id: str, shift_id: str, kind: str, time: float) -> dict[str, object]:
    return {"volunteer_id": volunteer_id, "shift_id": shift_id, "kind": kind, "time": time}
