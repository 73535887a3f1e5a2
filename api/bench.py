"""``volmatch bench``: build a large city in memory and time the index and both queries.

Figures (medians and 99th percentiles over ``queries`` random queries each, after ``WARM_UP``
queries per direction about other activities and volunteers):

- ``build_s_per_million``: index build time from columns (median of three builds), scaled to
  10^6 volunteers;
- ``bytes_per_volunteer``: bytes the index holds for volunteers (columns, lists, postings,
  blocks, id map), divided by their number;
- ``volunteer_query_*``: top-50 volunteers for a shift of an activity in the dense urban districts,
  25 km search radius, with every hard rule and factor;
- ``activity_query_*``: top-20 activities for a random volunteer;
- ``train_*_s``: fitting a linear and a boosted model (:mod:`matcher.learning.training`, labelling
  included) on ``TRAIN_EXAMPLES`` people shown, drawn from the demo city's hidden preferences
  (:mod:`matcher.demo.outcomes`);
- ``gaps_s``: the demand-and-supply table (district × category × weekday, four weeks);
- ``allocation_*``: a campaign of every open shift of a demo city (10^4 volunteers and ~10^3
  shifts; 10^5 and ~10^4), the best 3 ranked candidates per open place of each shift (travel,
  time and every rule applied), then one plan: its solve time (median of 3), fill rate, Gini of
  assignments, and greedy's fill rate; on the smaller city also the plan with the load spread
  and with a fifth of the places held for newcomers, and the campaign of the organisation with
  the most open shifts, plan beside greedy (fill rate and total score);
- ``learned_query_p50_ms`` / ``learned_vs_default_p50``: the volunteer query with the learned
  linear model's weights, timed alternately with the default weights on the same shifts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from matcher.analytics.gaps import gaps as gap_table
from matcher.demo import outcomes as demo_outcomes
from matcher.demo.city import DISTRICTS, generate_city
from matcher.learning import training as learning
from matcher.matching.index import MatchIndex
from matcher.matching.ranking import recommend_activities, recommend_volunteers
from matcher.matching.scoring import Weights
from matcher.model.skills import Taxonomy
from matcher.operations import allocation
from matcher.operations.allocation import Limits, Pair, Plan, Slot

BUILDS = 3  # the build is timed this many times; the median is reported
WARM_UP = 20  # queries each way before the timed ones
TRAIN_EXAMPLES = 100_000
DENSE = {i for i, d in enumerate(DISTRICTS) if d[1] in ("Shangcheng", "Gongshu", "Xihu", "Binjiang")}


def run(
    taxonomy: Taxonomy,
    *,
    volunteers: int,
    activities: int,
    queries: int,
    seed: int = 11,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    progress(f"generating {volunteers:,} volunteers and {activities:,} activities")
    city = generate_city(volunteers, activities, volunteers, seed=seed)
    builds = []
    for attempt in range(BUILDS):
        progress(f"building the index ({attempt + 1} of {BUILDS})")
        t0 = time.perf_counter()
        index = city.build_index(taxonomy)
        builds.append(time.perf_counter() - t0)
    build_s = float(np.median(builds))
    now = datetime.combine(city.as_of, datetime.min.time(), UTC)
    rng = np.random.default_rng(seed)
    dense = [
        i
        for i in range(activities)
        if int(city.activity_district[i]) in DENSE and not bool(city.activities.online[i])
    ]
    index.slot_tables(0)  # the per-zone slot table is built once per process, not per query

    def time_volunteer_query(a: int, weights: Weights | None = None) -> float:
        aid = city.activities.ids[a]
        shift = index.shifts.ids[index.shifts_of(index.activity_row(aid))[0]]
        index.memo.clear()  # searched afresh, not answered from a search kept for another
        t = time.perf_counter()
        recommend_volunteers(index, aid, shift_id=shift, now=now, k=50, radius_km=25.0, weights=weights)
        return (time.perf_counter() - t) * 1000

    def time_activity_query(v: int) -> float:
        t = time.perf_counter()
        recommend_activities(index, city.volunteers.ids[v], now=now, k=20)
        return (time.perf_counter() - t) * 1000

    # A few queries first, as a service that has been up a while has answered: the process's
    # memory is touched and its code compiled. The timed ones ask about other activities and
    # volunteers, so nothing they need is cached.
    progress(f"timing {queries} volunteer queries")
    order = rng.permutation(dense)
    for a in order[:WARM_UP].tolist():
        time_volunteer_query(a)
    timed = order[WARM_UP:] if order.shape[0] >= WARM_UP + queries else rng.choice(dense, queries)
    vq = np.array([time_volunteer_query(int(a)) for a in timed[:queries]])
    progress(f"timing {queries} activity queries")
    people = rng.permutation(volunteers)
    for v in people[:WARM_UP].tolist():
        time_activity_query(v)
    aq = np.array([time_activity_query(int(v)) for v in people[WARM_UP : WARM_UP + queries]])
    progress("the gap table: district x category x weekday over four weeks")
    t = time.perf_counter()
    gap_table(
        index,
        [],
        by=["district", "category", "weekday"],
        first=city.as_of,
        last=city.as_of + timedelta(days=28),
    )
    gaps_s = time.perf_counter() - t
    # The allocation sizes of the issue at full scale; a small pair for quick runs (the tests).
    sizes = ALLOCATION_SIZES if volunteers >= 1_000_000 else ((max(volunteers // 5, 1000), 100),)
    allocation_figures = allocation_bench(taxonomy, progress, sizes)
    trained, weights = _learning(index, now, progress)
    progress("timing the volunteer query with the learned weights")
    paired = np.array(
        [(time_volunteer_query(int(a)), time_volunteer_query(int(a), weights)) for a in timed[:queries]]
    )
    default_p50, learned_p50 = np.median(paired, axis=0).tolist()
    return {
        "volunteers": volunteers,
        "activities": activities,
        "shifts": len(city.shifts),
        "queries": queries,
        "build_s": round(build_s, 3),
        "build_s_per_million": round(build_s * 1e6 / volunteers, 3),
        "bytes_per_volunteer": round(index.nbytes_volunteers() / volunteers, 1),
        "volunteer_query_p50_ms": round(float(np.median(vq)), 2),
        "volunteer_query_p99_ms": round(float(np.percentile(vq, 99)), 2),
        "activity_query_p50_ms": round(float(np.median(aq)), 2),
        "activity_query_p99_ms": round(float(np.percentile(aq, 99)), 2),
        "gaps_s": round(gaps_s, 2),
        **allocation_figures,
        **trained,
        "learned_query_p50_ms": round(learned_p50, 2),
        "default_query_p50_ms_paired": round(default_p50, 2),
        "learned_vs_default_p50": round(learned_p50 / default_p50, 3),
    }


def _learning(
    index: MatchIndex, now: datetime, progress: Callable[[str], None]
) -> tuple[dict[str, Any], Weights]:
    """Fit both kinds of model on TRAIN_EXAMPLES simulated examples; their times, and the
    linear model's weights."""
    progress(f"serving shifts until {TRAIN_EXAMPLES:,} people were shown, drawing what followed")
    served, outcomes = demo_outcomes.simulate(index, now=now, queries=TRAIN_EXAMPLES // 25, k=50, seed=5)
    last = served["query"].iloc[min(TRAIN_EXAMPLES, len(served)) - 1]
    served = served[served["time"] <= served.loc[served["query"] == last, "time"].iloc[0]]
    figures: dict[str, Any] = {"train_examples": len(served)}
    weights = Weights.default()
    for kind in learning.KINDS:
        progress(f"fitting a {kind} model on {len(served):,} examples")
        t = time.perf_counter()
        model = learning.fit(learning.examples(served, outcomes), kind=kind, created=now, seed=0)
        figures[f"train_{kind}_s"] = round(time.perf_counter() - t, 2)
        figures[f"train_{kind}_test_ndcg_at_10"] = model.metrics["ndcg_at_10"]
        if model.weights is not None:
            weights = model.weights
    return figures, weights


ALLOCATION_SIZES = ((10_000, 1_000), (100_000, 10_000))
ALLOCATION_PER_PLACE = 3  # ranked candidates per open place


def allocation_bench(
    taxonomy: Taxonomy, progress: Callable[[str], None], sizes: tuple[tuple[int, int], ...] = ALLOCATION_SIZES
) -> dict[str, Any]:
    """Plan every open shift of demo cities of the given (volunteers, shifts) sizes."""
    out: dict[str, Any] = {}
    for volunteers, shifts in sizes:
        city = generate_city(volunteers, max(shifts * 2 // 7, 10), volunteers, seed=17)
        index = city.build_index(taxonomy)
        now = datetime.combine(city.as_of, datetime.min.time(), UTC)
        key = f"allocation_{volunteers // 1000}k"
        progress(f"allocation: ranking candidates for the shifts of {volunteers:,} volunteers' city")
        t = time.perf_counter()
        shift_ids = allocation.campaign_shifts(index, now=now, activity_ids=city.activities.ids)
        slots, pairs = allocation.campaign(index, shift_ids, now=now, per_place=ALLOCATION_PER_PLACE)
        candidates_s = time.perf_counter() - t
        progress(f"allocation: solving {len(slots):,} shifts, {len(pairs):,} pairs")
        limits = allocation.Limits(max_shifts=2)
        times = []
        for _ in range(ALLOCATION_REPEATS):
            t = time.perf_counter()
            plan = allocation.allocate(slots, pairs, limits, time_limit_s=600)
            times.append(time.perf_counter() - t)
        greedy = allocation.greedy(slots, pairs, limits)
        out |= {
            f"{key}_shifts": len(slots),
            f"{key}_places": sum(s.places for s in slots),
            f"{key}_pairs": len(pairs),
            f"{key}_candidates_s": round(candidates_s, 2),
            f"{key}_solve_s": round(float(np.median(times)), 2),
            **_plan_figures(key, plan, greedy),
        }
        if volunteers == sizes[0][0]:
            out |= _fairness_figures(key, slots, pairs, limits)
            out |= _largest_organisation(index, now, limits)
        out[f"{key}_emergency_p50_ms"] = _emergency_ms(index, now, shift_ids)
    return out


def _emergency_ms(index: MatchIndex, now: datetime, shift_ids: list[str]) -> float:
    """Median time to answer emergency mode for one shift (its best 10 available, with one
    volunteer in 20 asked too often lately), over up to 50 of the campaign's shifts."""
    rng = np.random.default_rng(5)
    rows = rng.choice(index.n_volunteer_rows, index.n_volunteer_rows // 20, replace=False)
    asked = {index.vid.ident(int(r)): 3 for r in rows}
    times = []
    for shift_id in shift_ids[:: max(len(shift_ids) // 50, 1)][:50]:
        t = time.perf_counter()
        allocation.emergency(index, shift_id, now=now, asked=asked, page=10)
        times.append(time.perf_counter() - t)
    return round(float(np.median(times)) * 1000, 2)


ALLOCATION_REPEATS = 3  # solves per size; the median is reported
SPREAD = 0.3  # the spread option measured beside the plain plan


def _plan_figures(key: str, plan: Plan, greedy: Plan) -> dict[str, Any]:
    return {
        f"{key}_optimal": plan.optimal,
        f"{key}_fill_rate": plan.fill_rate,
        f"{key}_gini": plan.assignment_gini,
        f"{key}_greedy_fill_rate": greedy.fill_rate,
        f"{key}_score_vs_greedy": round(plan.total_score / max(greedy.total_score, 1e-9), 4),
    }


def _fairness_figures(key: str, slots: list[Slot], pairs: list[Pair], limits: Limits) -> dict[str, Any]:
    """The same campaign with the load spread and a fifth of the places held for newcomers."""
    spread = allocation.allocate(slots, pairs, limits, allocation.Fairness(spread=SPREAD))
    new = allocation.allocate(slots, pairs, limits, allocation.Fairness(newcomer_share=0.2))
    plain = allocation.allocate(slots, pairs, limits)
    return {
        f"{key}_max_load": plain.max_load,
        f"{key}_spread_gini": spread.assignment_gini,
        f"{key}_spread_max_load": spread.max_load,
        f"{key}_spread_fill_rate": spread.fill_rate,
        f"{key}_newcomer_share": plain.newcomer_share,
        f"{key}_newcomer_share_held_20pct": new.newcomer_share,
    }


def _largest_organisation(index: MatchIndex, now: datetime, limits: Limits) -> dict[str, Any]:
    """The campaign of the organisation with the most open shifts: the plan beside greedy."""
    by_org: dict[str, list[str]] = {}
    for a in index.activities.ids:
        by_org.setdefault(
            index.organisations.name(int(index.activities.org.data[index.activity_row(a)])), []
        ).append(a)
    shift_ids = max(
        (allocation.campaign_shifts(index, now=now, activity_ids=ids) for ids in by_org.values()), key=len
    )
    slots, pairs = allocation.campaign(index, shift_ids, now=now)
    plan = allocation.allocate(slots, pairs, limits)
    greedy = allocation.greedy(slots, pairs, limits)
    return {
        "allocation_largest_org_shifts": len(slots),
        "allocation_largest_org_places": sum(s.places for s in slots),
        "allocation_largest_org_fill_rate": plan.fill_rate,
        "allocation_largest_org_greedy_fill_rate": greedy.fill_rate,
        "allocation_largest_org_score": plan.total_score,
        "allocation_largest_org_greedy_score": greedy.total_score,
    }
