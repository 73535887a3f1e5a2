"""The contract every registered factor keeps, and the shape of each curve."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from matcher.matching.factors import REGISTRY, Factor, PairFeatures
from matcher.matching.factors.distance import decay
from matcher.matching.scoring import DEFAULT_WEIGHTS, Weights, combine, score_parts

N = st.integers(1, 50)


@st.composite
def features(draw: st.DrawFn) -> PairFeatures:
    n = draw(N)

    def floats(lo: float, hi: float) -> np.ndarray:
        return draw(hnp.arrays(np.float32, n, elements=st.floats(lo, hi, width=32)))

    travel = floats(0, 500)
    return PairFeatures(
        distance_km=np.minimum(floats(0, 500), travel),
        max_travel_km=travel,
        online=draw(hnp.arrays(np.bool_, n)),
        coverage=floats(0.0009765625, 1),
        skill_required=floats(0, 1),
        skill_preferred=floats(0, 1),
        has_preferred=draw(hnp.arrays(np.bool_, n)),
        reliability=floats(0.0078125, 0.9921875),
        recency=floats(0, 1),
        category_hours=floats(0, 10_000),
        organisation_hours=floats(0, 10_000),
    )


@pytest.mark.parametrize("factor", REGISTRY, ids=lambda f: f.name)
@settings(max_examples=80, deadline=None)
@given(f=features(), seed=st.integers(0, 2**32 - 1))
def test_factor_contract(factor: Factor, f: PairFeatures, seed: int) -> None:
    s = factor.score(f)
    assert s.shape == (len(f),)
    assert s.dtype == np.float32
    assert not np.isnan(s).any()
    assert ((s >= 0) & (s <= 1)).all()
    assert np.array_equal(factor.score(f), s)  # deterministic
    perm = np.random.default_rng(seed).permutation(len(f))
    assert np.array_equal(factor.score(f.take(perm)), s[perm])  # pairs are scored independently


def test_every_factor_has_a_default_weight() -> None:
    assert {f.name for f in REGISTRY} == set(DEFAULT_WEIGHTS)


@given(st.floats(0, 100), st.floats(0, 100), st.floats(0.1, 200))
def test_distance_falls_with_distance_and_rises_with_the_limit(d1: float, d2: float, limit: float) -> None:
    near, far = sorted((d1, d2))
    a = decay(np.array([near, far], np.float32), np.array([limit, limit], np.float32))
    assert a[0] >= a[1]
    b = decay(np.array([far, far], np.float32), np.array([limit, limit * 2], np.float32))
    assert b[1] >= b[0]


def test_distance_curve_anchor_points() -> None:
    s = decay(np.array([0, 5, 10], np.float32), np.array([10, 10, 10], np.float32))
    assert s.tolist() == pytest.approx([1.0, 0.5, 0.2])


@settings(max_examples=50, deadline=None)
@given(features(), st.dictionaries(st.sampled_from(sorted(DEFAULT_WEIGHTS)), st.floats(0.01, 10), min_size=1))
def test_totals_stay_in_unit_interval_whatever_the_weights(f: PairFeatures, w: dict[str, float]) -> None:
    total = combine(score_parts(f), Weights(w))
    assert ((total >= -1e-9) & (total <= 1 + 1e-9)).all()


def test_newcomer_past_service_is_not_zero() -> None:
    from matcher.matching.factors.past_service import FACTOR, reliability

    f = PairFeatures(
        distance_km=np.zeros(1, np.float32),
        max_travel_km=np.ones(1, np.float32),
        online=np.zeros(1, bool),
        coverage=np.ones(1, np.float32),
        skill_required=np.ones(1, np.float32),
        skill_preferred=np.zeros(1, np.float32),
        has_preferred=np.zeros(1, bool),
        reliability=reliability(np.zeros(1, np.float32), np.zeros(1, np.float32)),
        recency=np.zeros(1, np.float32),
        category_hours=np.zeros(1, np.float32),
        organisation_hours=np.zeros(1, np.float32),
    )
    assert FACTOR.score(f)[0] == pytest.approx(0.36)
