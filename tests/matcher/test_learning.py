"""Learning from outcomes: labels from the served log, and the known-answer check (outcomes drawn
from the demo city's hidden preferences must pull the learned ranking towards them)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from matcher.demo import outcomes as demo_outcomes
from matcher.demo.city import generate_city
from matcher.learning import training as learning
from matcher.matching.scoring import DEFAULT_WEIGHTS, Weights
from matcher.model.errors import ValidationError
from matcher.model.skills import Taxonomy


def served_row(query: str, volunteer: str, shift: str, time: float, rank: int = 1) -> dict[str, object]:
    return {
        "query": query,
        "time": time,
        "volunteer_id": volunteer,
        "shift_id": shift,
        "rank": rank,
        "skills": 0.5,
        "distance": 0.5,
        "availability": 0.5,
        "past_service": 0.5,
    }


def test_a_pair_is_good_when_the_person_took_the_place_and_did_not_back_out() -> None:
    served = pd.DataFrame(
        [
            served_row("q1", "v1", "s1", 10.0),  # accepted, attended: good
            served_row("q1", "v2", "s1", 10.0),  # accepted, then did not come: not good
            served_row("q1", "v3", "s1", 10.0),  # signed up before it was shown: not this serving's
            served_row("q1", "v4", "s1", 10.0),  # nothing happened
            served_row("q2", "v1", "s2", 20.0),  # declined
        ]
    )
    outcomes = pd.DataFrame(
        {
            "volunteer_id": ["v1", "v1", "v2", "v2", "v3", "v1"],
            "shift_id": ["s1", "s1", "s1", "s1", "s1", "s2"],
            "kind": ["accepted", "attended", "accepted", "no_show", "signed_up", "declined"],
            "time": [11.0, 15.0, 11.0, 15.0, 5.0, 21.0],
        }
    )
    assert learning.examples(served, outcomes)["label"].tolist() == [1, 0, 0, 0, 0]


def test_fit_refuses_data_it_cannot_learn_from() -> None:
    rows = pd.DataFrame([served_row(f"q{i}", "v", "s", float(i)) for i in range(60)]).assign(label=0)
    with pytest.raises(ValidationError, match="same outcome"):
        learning.fit(rows, created=datetime(2026, 1, 1))
    with pytest.raises(ValidationError, match="at least"):
        learning.fit(rows.head(5).assign(label=[0, 1, 0, 1, 0]), created=datetime(2026, 1, 1))
    with pytest.raises(ValidationError, match="kind"):
        learning.fit(rows, kind="forest", created=datetime(2026, 1, 1))


@pytest.fixture(scope="module")
def known_answer(taxonomy: Taxonomy) -> tuple[pd.DataFrame, datetime]:
    city = generate_city(4000, 500, 4000, seed=5)
    index = city.build_index(taxonomy)
    now = datetime.combine(city.as_of, datetime.min.time(), UTC)
    served, outcomes = demo_outcomes.simulate(index, now=now, queries=300, k=30, seed=2)
    return learning.examples(served, outcomes), now


def _distance_to_hidden(weights: dict[str, float]) -> float:
    hidden = Weights(dict(demo_outcomes.HIDDEN_WEIGHTS)).normalised()
    return sum(abs(weights[f] - hidden[f]) for f in hidden)


def test_learning_recovers_the_hidden_preferences(known_answer: tuple[pd.DataFrame, datetime]) -> None:
    data, now = known_answer
    assert 0.1 < data["label"].mean() < 0.9  # both outcomes occur
    model = learning.fit(data, kind="linear", created=now, seed=0)
    assert model.weights is not None
    learned = model.weights.normalised()
    default = Weights(dict(DEFAULT_WEIGHTS)).normalised()
    # The learned weights are much nearer the hidden ones than the defaults are.
    assert _distance_to_hidden(learned) < 0.5 * _distance_to_hidden(default)
    # And on the newest shifts (never trained on) they order each served list closer to the
    # hidden preferences: NDCG@10 with each person's chance of saying yes as the gain.
    _, test = learning.split(data)
    graded = test.assign(gain=test["p_accept"])
    learned_ndcg = learning.graded_ndcg(graded.assign(score=model.predict(test)))
    default_ndcg = learning.graded_ndcg(graded.assign(score=test["score"]))
    assert learned_ndcg > default_ndcg + 0.01
    assert model.metrics["auc"] > 0.7
    # On realised answers (noisy: one draw of those chances) it is no worse than the default.
    assert model.metrics["ndcg_at_10"] > model.metrics["default_ndcg_at_10"] - 0.02


def test_boosted_model_is_calibrated_and_survives_the_store(
    known_answer: tuple[pd.DataFrame, datetime],
) -> None:
    data, now = known_answer
    model = learning.fit(data, kind="boosted", created=now, seed=0, extra=("distance_km",))
    _, test = learning.split(data)
    p = model.predict(test)
    assert ((p >= 0) & (p <= 1)).all()
    # Calibrated: within deciles of predicted probability, the observed rate is close.
    bins = pd.qcut(p, 5, labels=False, duplicates="drop")
    observed = test["label"].groupby(bins).mean().to_numpy()
    predicted = pd.Series(p).groupby(bins).mean().to_numpy()
    assert np.abs(observed - predicted).max() < 0.15
    again = learning.Model.from_bytes(model.to_bytes())
    assert np.array_equal(again.predict(test), p)
    assert again.version == model.version and model.version.startswith("boosted-")
    assert again.trained_from <= again.trained_to


def test_the_known_answer_harness_orders_methods_as_the_hidden_preferences_say(
    known_answer: tuple[pd.DataFrame, datetime],
) -> None:
    data, now = known_answer
    table = demo_outcomes.compare(data, created=now, resamples=200)
    assert set(table) == set(demo_outcomes.METHODS)
    hidden = {name: metrics["hidden_ndcg_at_10"] for name, metrics in table.items()}
    # The hidden preferences weigh distance most and skills least: orderings follow that.
    assert hidden["distance"].mean > hidden["skills"].mean
    assert hidden["learned_linear"].low > hidden["default"].high
    # On the realised yes/no answers (one draw of the hidden chances) the two are within each
    # other's noise; the learned model must not fall below the default's interval.
    assert table["learned_linear"]["ndcg_at_10"].mean > table["default"]["ndcg_at_10"].low
