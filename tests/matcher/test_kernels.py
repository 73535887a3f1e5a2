"""The compiled pre-screen's contract: it may keep rows the exact rules later drop, but it never
drops a row that is eligible and scores at least the floor it was given."""

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.demo.city import DemoCity, generate_city
from matcher.matching import kernels, ranking, search
from matcher.matching.constraints import DEFAULT_MIN_SKILL_CREDIT
from matcher.matching.index import MatchIndex
from matcher.matching.scoring import Weights
from matcher.model.skills import Taxonomy
from tests.conftest import AS_OF, NOW


@pytest.fixture(scope="module")
def city(taxonomy: Taxonomy) -> tuple[MatchIndex, DemoCity]:
    city = generate_city(20_000, 300, 20_000, seed=4, as_of=AS_OF)
    return city.build_index(taxonomy), city


def screened_bounds(
    index: MatchIndex, s_row: int, floor: float, heap: np.ndarray | None = None
) -> tuple[dict[str, float], int]:
    """The rows the screen keeps, each with the bound it gives, and how many it considered."""
    plan = search.make_plan(index, s_row, None, Weights.default(), DEFAULT_MIN_SKILL_CREDIT, prune=True)
    assert plan.screen is not None
    rows, bound, counts = kernels.screen(
        plan.blocks,
        *index.vblocks.ranges_of(plan.blocks),
        *plan.screen,
        plan.search_part(index, plan.start(index)),
        floor=floor,
        heap=np.zeros(0) if heap is None else heap,
    )
    return dict(zip(index.vid.idents(rows), bound.tolist(), strict=True)), int(counts[0])


def screened(index: MatchIndex, s_row: int, floor: float) -> tuple[set[str], int]:
    kept, considered = screened_bounds(index, s_row, floor)
    return set(kept), considered


def everyone_ranked(city: tuple[MatchIndex, DemoCity], a: int) -> tuple[MatchIndex, int, ranking.Ranking]:
    """The first shift of activity ``a`` and every eligible volunteer for it, ranked exactly."""
    index, demo = city
    aid = demo.activities.ids[a]
    s_row = index.shifts_of(index.activity_row(aid))[0]
    exact = ranking.recommend_volunteers(
        index, aid, shift_id=index.shifts.ids[s_row], now=NOW, k=ranking.MAX_K, prune=False
    )
    return index, s_row, exact


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 299), st.floats(0.0, 1.0))
def test_screen_never_drops_a_row_that_can_reach_the_floor(
    city: tuple[MatchIndex, DemoCity], a: int, where: float
) -> None:
    index, s_row, exact = everyone_ranked(city, a)
    everyone, _ = screened(index, s_row, -np.inf)
    assert {m.id for m in exact.matches} <= everyone
    if not exact.matches:
        return
    floor = exact.matches[int(where * (len(exact.matches) - 1))].score
    kept, considered = screened(index, s_row, floor)
    assert {m.id for m in exact.matches if m.score >= floor} <= kept
    assert len(kept) <= considered


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 299))
def test_screen_bound_is_never_below_the_exact_total(city: tuple[MatchIndex, DemoCity], a: int) -> None:
    index, s_row, exact = everyone_ranked(city, a)
    bounds, _ = screened_bounds(index, s_row, -np.inf)
    for m in exact.matches:
        assert bounds[m.id] >= m.score, m.id


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 299), st.sampled_from([1, 5, 50]))
def test_screen_floor_from_lower_bounds_never_passes_the_true_kth_total(
    city: tuple[MatchIndex, DemoCity], a: int, k: int
) -> None:
    """k rows certain to qualify and certain to reach some total prove that the k-th best total
    is at least that much; the heap must never claim more, and must keep the true top k."""
    index, s_row, exact = everyone_ranked(city, a)
    heap = np.full(k, -np.inf)
    kept, _ = screened_bounds(index, s_row, -np.inf, heap)
    if len(exact.matches) < k:
        assert heap[0] == -np.inf
        return
    assert heap[0] <= exact.matches[k - 1].score
    assert {m.id for m in exact.matches[:k]} <= set(kept)


def test_screen_lower_bounds_come_close_to_the_kth_total(city: tuple[MatchIndex, DemoCity]) -> None:
    index, demo = city
    aid = demo.activities.ids[0]
    s_row = index.shifts_of(index.activity_row(aid))[0]
    exact = ranking.recommend_volunteers(
        index, aid, shift_id=index.shifts.ids[s_row], now=NOW, k=10, prune=False
    )
    heap = np.full(10, -np.inf)
    screened_bounds(index, s_row, -np.inf, heap)
    assert exact.matches[-1].score - 0.05 < heap[0] <= exact.matches[-1].score


def test_screen_prunes_with_a_high_floor(city: tuple[MatchIndex, DemoCity]) -> None:
    index, demo = city
    aid = demo.activities.ids[0]
    s_row = index.shifts_of(index.activity_row(aid))[0]
    best = ranking.recommend_volunteers(
        index, aid, shift_id=index.shifts.ids[s_row], now=NOW, k=1, prune=False
    )
    assert best.matches
    everyone, _ = screened(index, s_row, -np.inf)
    kept, _ = screened(index, s_row, best.matches[0].score)
    assert best.matches[0].id in kept
    assert len(kept) < len(everyone) / 2


@given(st.lists(st.integers(0, 40), max_size=200))
def test_stable_order_is_a_stable_argsort(values: list[int]) -> None:
    a = np.array(values, dtype=np.int32)
    assert kernels.stable_order(a).tolist() == np.argsort(a, kind="stable").tolist()


@given(st.lists(st.lists(st.integers(0, 200), max_size=5), max_size=30), st.randoms(use_true_random=False))
def test_ragged_helpers_match_their_plain_definitions(lists: list[list[int]], rnd: random.Random) -> None:
    indptr = np.cumsum([0] + [len(x) for x in lists]).astype(np.int64)
    values = np.array([v for x in lists for v in x], dtype=np.int32)
    perm = np.array(rnd.sample(range(len(lists)), len(lists)), dtype=np.intp)
    out_ptr, out = kernels.permute_ragged(indptr, values, perm)
    assert [out[out_ptr[i] : out_ptr[i + 1]].tolist() for i in range(len(lists))] == [lists[p] for p in perm]
    signatures = kernels.ragged_signatures(indptr, values)
    assert signatures.tolist() == [sum({1 << (v % 64) for v in x}) for x in lists]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 6)), max_size=30))
def test_expand_is_the_nested_loop(ranges: list[tuple[int, int]]) -> None:
    starts = np.array([s for s, _ in ranges], dtype=np.int64)
    lengths = np.array([n for _, n in ranges], dtype=np.int32)
    owner, positions = kernels.expand(starts, lengths)
    loop = [(i, s + t) for i, (s, n) in enumerate(ranges) for t in range(n)]
    assert owner.dtype == np.int32 and positions.dtype == np.int64
    assert list(zip(owner.tolist(), positions.tolist(), strict=True)) == loop
