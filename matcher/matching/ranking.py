"""Top-k both ways, explained.

- :func:`recommend_volunteers`: the best volunteers for a shift (or for any open shift of an
  activity), for organisers;
- :func:`recommend_activities`: the best activities for a volunteer, each with its best shift.

Pipeline for a shift: gather candidates block by block from the spatial index, drop pairs that
fail a hard rule (:mod:`matcher.matching.constraints`), score the rest with every factor
(:mod:`matcher.matching.factors`), combine (:mod:`matcher.matching.scoring`), keep the top k. Blocks are visited in
order of the best total any of their volunteers could reach (distance bounded by the block's
nearest edge and the largest travel limit in it, past service by the block's best static part,
other factors by 1); the search stops when that bound falls below the current k-th score, so the
result is exactly the one scoring every volunteer would give (``prune=False`` does that, and the
tests compare the two).

Ties break by score, then id, ascending: deterministic whatever the order rows were added in.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import partial

import numpy as np
from numpy.typing import NDArray

from matcher.matching import constraints
from matcher.matching.activities import recommend_activities
from matcher.matching.answers import (
    MAX_K,
    Ranking,
    check_k,
    check_radius,
    explain_many,
    rule_reason,
    shortfall_note,
)
from matcher.matching.factors import PairFeatures
from matcher.matching.index import MatchIndex
from matcher.matching.scoring import Weights
from matcher.matching.search import rank_shift, score_batch, shift_plan
from matcher.model.calendar import (
    epoch_seconds,
)
from matcher.model.domain import Reason
from matcher.model.errors import ValidationError


def recommend_volunteers(
    index: MatchIndex,
    activity_id: str,
    *,
    now: datetime,
    shift_id: str | None = None,
    k: int = 10,
    radius_km: float | None = None,
    weights: Weights | None = None,
    distance_mode: str = "exact",
    min_skill_credit: float = constraints.DEFAULT_MIN_SKILL_CREDIT,
    prune: bool = True,
) -> Ranking:
    """Top-k volunteers for a shift of an activity, or (no ``shift_id``) for whichever open shift
    of the activity suits each volunteer best.

    ``now`` decides which shifts are still open; ``radius_km`` is the organiser's search radius
    on top of each volunteer's own travel limit; ``distance_mode="band"`` phrases distances as
    bands ("2–5 km") for viewers who must not learn precise distances.
    """
    check_k(k)
    check_radius(radius_km)
    weights = weights or Weights.default()
    a_row = index.activity_row(activity_id)
    now_s = epoch_seconds(now)
    if shift_id is not None:
        s_row = index.shift_row(shift_id)
        if int(index.shifts.act.data[s_row]) != a_row:
            raise ValidationError(
                "shift_id", f"shift {shift_id!r} does not belong to activity {activity_id!r}"
            )
        if index.shifts.start.data[s_row] <= now_s:
            return Ranking((), note=rule_reason("past"))
        if index.shifts.taken.data[s_row] >= index.shifts.cap.data[s_row]:
            return Ranking((), note=rule_reason("full"))
        shift_rows = [s_row]
    else:
        shift_rows = index.open_shift_rows(a_row, now_s)
        if not shift_rows:
            return Ranking(
                (), note=Reason("shifts", "没有可报名的班次", "no open shift (all started or full)")
            )

    # The same question about the same index state has the same answer (kept until a write).
    return index.memo.get(
        (
            "volunteers",
            tuple(shift_rows),
            k,
            radius_km,
            weights.key(),
            distance_mode,
            min_skill_credit,
            prune,
        ),
        partial(
            _rank_shifts, index, shift_rows, k, radius_km, weights, distance_mode, min_skill_credit, prune
        ),
        lambda r: 1024 * (1 + len(r.matches)),
    )


def _rank_shifts(
    index: MatchIndex,
    shift_rows: list[int],
    k: int,
    radius_km: float | None,
    weights: Weights,
    distance_mode: str,
    min_skill_credit: float,
    prune: bool,
) -> Ranking:
    """Each volunteer's best of ``shift_rows``, the k best of them, explained."""
    found: list[tuple[NDArray[np.int32], NDArray[np.float64], PairFeatures, int]] = []
    counts: dict[str, int] = {}
    considered = 0
    for s_row in shift_rows:
        rows, scores, feats, q = rank_shift(
            index,
            s_row,
            k=k,
            radius_km=radius_km,
            weights=weights,
            min_credit=min_skill_credit,
            prune=prune,
        )
        considered += q.counts.pop("_considered", 0)
        for rule, c in q.counts.items():
            counts[rule] = counts.get(rule, 0) + c
        if feats is not None:
            found.append((rows, scores, feats, s_row))
    if not found:
        note = shortfall_note(counts, 0, k, direction="volunteers")
        return Ranking((), considered=considered, excluded=counts, note=note)
    rows = np.concatenate([f[0] for f in found])
    scores = np.concatenate([f[1] for f in found])
    feats = PairFeatures.concat([f[2] for f in found])
    s_rows = np.concatenate([np.full(f[0].shape[0], f[3], dtype=np.int32) for f in found])
    # Each volunteer once, with their best shift (highest score, then earliest start, then id);
    # then the k best volunteers by score, ties by id.
    order = np.lexsort((index.shift_sort_keys(s_rows), index.shifts.start.data[s_rows], -scores, rows))
    first = order[np.concatenate([[True], rows[order][1:] != rows[order][:-1]])]
    ranked = first[np.lexsort((index.vid.sort_keys(rows[first]), -scores[first]))][:k]
    matches = explain_many(
        index,
        index.vid.idents(rows[ranked]),
        rows[ranked],
        s_rows[ranked],
        scores[ranked],
        feats.take(ranked),
        distance_mode,
        "volunteers",
    )
    note = shortfall_note(counts, len(matches), k, direction="volunteers")
    return Ranking(matches, considered=considered, excluded=counts, note=note)


def why_not(
    index: MatchIndex,
    volunteer_id: str,
    shift_id: str,
    *,
    weights: Weights | None = None,
    min_skill_credit: float = constraints.DEFAULT_MIN_SKILL_CREDIT,
) -> Reason | None:
    """The hard rule that keeps a volunteer off a shift (``None``: they may take it), judged
    exactly as the ranking judges them; a place already held on this very shift is no obstacle.
    Capacity and start are the sign-up's to judge (a full shift has a waitlist)."""
    weights = weights or Weights.default()
    v_row = index.volunteer_row(volunteer_id)
    s_row = index.shift_row(shift_id)
    plan = shift_plan(index, s_row, None, weights, min_skill_credit, prune=True)
    q = replace(plan.start(index), counts={})
    kept, _ = score_batch(index, q, np.array([v_row], dtype=np.int32))
    if kept.shape[0]:
        return None
    rule = next(iter(q.counts))
    if rule == "booked" and s_row in index.volunteer_bookings(v_row):
        return None
    return rule_reason(rule)


__all__ = ["MAX_K", "Ranking", "recommend_activities", "recommend_volunteers", "shortfall_note", "why_not"]
