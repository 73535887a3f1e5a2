"""The evaluation metrics against values worked out by hand, and their properties."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.learning import evaluation as ev
from matcher.matching.fairness import gini

IDS = st.sampled_from([f"i{n}" for n in range(12)])


def test_metrics_of_a_small_case_worked_by_hand() -> None:
    ranked = [["a", "b", "c"], ["d", "e", "f"], ["g", "h", "i"]]
    relevant = [{"b"}, {"d", "f", "x"}, {"z"}]
    m = ev.per_query(ranked, relevant, k=3)
    assert list(m["hit_rate"]) == [1, 1, 0]
    assert m["precision"].tolist() == pytest.approx([1 / 3, 2 / 3, 0])
    assert m["recall"].tolist() == pytest.approx([1, 2 / 3, 0])
    # b at rank 2: 1/log2(3) over the ideal 1; d and f at ranks 1 and 3 over the ideal of three
    # relevant ids in three places: (1 + 1/2) / (1 + 1/log2(3) + 1/2).
    assert m["ndcg"].tolist() == pytest.approx([1 / math.log2(3), 1.5 / (1.5 + 1 / math.log2(3)), 0])
    assert m["mrr"].tolist() == pytest.approx([0.5, 1.0, 0.0])


@given(
    st.lists(st.tuples(st.lists(IDS, max_size=8, unique=True), st.sets(IDS, min_size=1)), min_size=1),
    st.integers(1, 10),
)
def test_every_metric_is_a_share_and_a_perfect_ranking_scores_one(cases: list, k: int) -> None:
    ranked = [r for r, _ in cases]
    relevant = [g for _, g in cases]
    for values in ev.per_query(ranked, relevant, k).values():
        assert np.all((values >= 0) & (values <= 1))
    perfect = [sorted(g) for g in relevant]
    best = ev.per_query(perfect, relevant, k)
    assert np.all(best["hit_rate"] == 1) and np.all(best["mrr"] == 1)
    assert best["ndcg"] == pytest.approx(np.ones(len(cases)))
    assert best["recall"] == pytest.approx([min(len(g), k) / len(g) for g in relevant])


def test_queries_without_an_answer_and_bad_k_are_refused() -> None:
    with pytest.raises(ValueError, match="no relevant"):
        ev.per_query([["a"]], [set()], 1)
    with pytest.raises(ValueError, match="k must"):
        ev.per_query([["a"]], [{"a"}], 0)


def test_gini_of_equal_and_of_all_in_one() -> None:
    assert gini([3, 3, 3, 3]) == pytest.approx(0.0)
    assert gini([0, 0, 0, 8]) == pytest.approx(3 / 4)
    assert gini([0, 0]) == 0.0
    # Mean absolute difference over twice the mean, computed the long way.
    x = np.array([1.0, 2.0, 7.0, 0.0, 5.0])
    long_way = np.abs(x[:, None] - x[None, :]).mean() / (2 * x.mean())
    assert gini(x) == pytest.approx(long_way)


def test_coverage_and_exposure_over_the_catalogue() -> None:
    ranked = [["a", "b", "zz"], ["a", "c"]]
    assert ev.coverage(ranked, ["a", "b", "c", "d"], k=2) == pytest.approx(3 / 4)
    assert ev.exposure(ranked, ["a", "b", "c", "d"], k=2).tolist() == [2, 1, 1, 0]


@given(st.lists(st.floats(0, 1), min_size=1, max_size=50), st.integers(0, 2**31))
def test_a_bootstrap_interval_holds_the_mean(values: list[float], seed: int) -> None:
    e = ev.bootstrap(values, resamples=200, seed=seed)
    assert e.low <= e.mean <= e.high
    assert e.mean == pytest.approx(float(np.mean(values)))
    assert ev.bootstrap(values, resamples=200, seed=seed) == e  # repeatable


def test_a_bootstrap_interval_narrows_with_more_queries() -> None:
    rng = np.random.default_rng(1)
    few = ev.bootstrap(rng.random(20), seed=1)
    many = ev.bootstrap(rng.random(2000), seed=1)
    assert many.high - many.low < (few.high - few.low) / 4


def interactions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user": ["u1", "u1", "u1", "u2", "u2", "u3"],
            "item": ["a", "b", "c", "a", "d", "e"],
            "time": pd.to_datetime(
                ["2024-01-01", "2024-03-01", "2024-02-01", "2024-01-05", "2024-04-01", "2024-02-02"]
            ),
        }
    )


def test_leave_one_out_holds_out_each_users_latest() -> None:
    train, test = ev.leave_one_out(interactions())
    assert sorted(zip(test["user"], test["item"], strict=True)) == [("u1", "b"), ("u2", "d")]
    assert len(train) + len(test) == 6 and "u3" in set(train["user"])
    assert ev.relevant_by_user(test) == {"u1": {"b"}, "u2": {"d"}}


def test_temporal_split_trains_on_the_past_and_tests_known_users() -> None:
    train, test = ev.temporal_split(interactions(), pd.Timestamp("2024-02-15"))
    assert set(train["item"]) == {"a", "c", "e"}
    assert sorted(test["item"]) == ["b", "d"]
    assert (train["time"] < pd.Timestamp("2024-02-15")).all()
    with pytest.raises(ValueError, match="missing"):
        ev.temporal_split(interactions().drop(columns="time"), 0)
