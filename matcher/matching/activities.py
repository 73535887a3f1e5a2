"""Activities for a volunteer: the candidates within their travel limit (and online ones if
they do online work), every hard rule checked per shift with the rules of
:mod:`matcher.matching.constraints`, the factors scored, each activity with the shift that suits
the volunteer best."""

from __future__ import annotations

from datetime import datetime
from functools import partial

import numpy as np
from numpy.typing import NDArray

from matcher.matching import constraints, kernels
from matcher.matching.answers import Ranking, check_k, explain_many, shortfall_note
from matcher.matching.columns import NO_DAY
from matcher.matching.factors import PairFeatures
from matcher.matching.index import MatchIndex
from matcher.matching.scoring import Weights, combine, score_parts
from matcher.model.calendar import (
    WORDS,
    epoch_seconds,
    unpack_slots,
)
from matcher.model.geo import distances_km


def _credit_lookup(index: MatchIndex, v_row: int) -> NDArray[np.float32]:
    """Per skill code: the volunteer's best credit towards it as a requirement."""
    out = np.zeros(len(index.skills), dtype=np.float32)
    for held in index.volunteer_skill_ids(v_row):
        for req, credit in index.taxonomy.covered_by(held).items():
            code = index.skills.get(req)
            if code is not None and credit > out[code]:
                out[code] = credit
    return out


def _cert_lookup(index: MatchIndex, v_row: int) -> NDArray[np.int64]:
    """Per skill code: the latest expiry day of a certificate that covers it (-1: none); a
    certificate for a narrower skill (paramedic) covers the broader requirement (first aid)."""
    out = np.full(len(index.skills), -1, dtype=np.int64)
    for held, expiry in index.volunteer_certs(v_row).items():
        stack = [held]
        while stack:
            name = stack.pop()
            code = index.skills.get(name)
            if code is not None:
                out[code] = max(out[code], expiry)
            stack.extend(index.taxonomy.parents(name))
    return out


def _per_owner_min(owner: NDArray[np.int32], values: NDArray[np.float32], n: int) -> NDArray[np.float32]:
    out = np.ones(n, dtype=np.float32)
    if owner.shape[0]:
        np.minimum.at(out, owner, values)
    return out


def _per_owner_mean(
    owner: NDArray[np.int32], values: NDArray[np.float32], n: int, empty: float
) -> NDArray[np.float32]:
    counts = np.bincount(owner, minlength=n)
    sums = np.bincount(owner, weights=values, minlength=n)
    return np.where(counts > 0, sums / np.maximum(counts, 1), empty).astype(np.float32)


_NO_ROWS = np.zeros(0, dtype=np.int32)
_NO_KM = np.zeros(0, dtype=np.float32)


def _activities_near(
    index: MatchIndex, origin: NDArray[np.float64], travel_km: float
) -> tuple[NDArray[np.int32], NDArray[np.float32], int]:
    """The live activities with a place within ``travel_km`` of ``origin``, their distances,
    and how many of those listed near it are farther (the "travel" rule's count)."""
    blocks, _ = index.ablocks.near(origin, travel_km)
    rows, listed = index.ablocks.rows_of(blocks)
    rows = rows[index.activities.block.data[rows] == listed]
    rows = rows[index.activities.alive.data[rows] & ~index.activities.online.data[rows]]
    dist = distances_km(index.activities.xyz.data[rows], origin)
    keep = dist <= np.float32(travel_km)
    return rows[keep], dist[keep], int((~keep).sum())


def recommend_activities(
    index: MatchIndex,
    volunteer_id: str,
    *,
    now: datetime,
    k: int = 10,
    weights: Weights | None = None,
    min_skill_credit: float = constraints.DEFAULT_MIN_SKILL_CREDIT,
) -> Ranking:
    """Top-k activities for a volunteer, each with the open shift that suits them best.

    Candidates are the activities within the volunteer's travel limit, plus online ones if they
    do online work; every hard rule is checked per shift, and ``excluded`` counts the pairs each
    rule dropped.
    """
    check_k(k)
    weights = weights or Weights.default()
    v_row = index.volunteer_row(volunteer_id)
    counts: dict[str, int] = {}
    a_rows, dist = _candidate_activities(index, v_row, counts)
    owner, s_rows = _open_shifts(index, v_row, a_rows, epoch_seconds(now), counts)
    keep, coverage = _available(index, v_row, s_rows, counts)
    owner, s_rows, coverage = owner[keep], s_rows[keep], coverage[keep]
    keep, skill_parts = _qualified(index, v_row, a_rows, owner, s_rows, min_skill_credit, counts)
    owner, s_rows, coverage = owner[keep], s_rows[keep], coverage[keep]

    feats = _features(index, v_row, a_rows, dist, owner, coverage, skill_parts)
    scored = score_parts(feats)
    scores = combine(scored, weights)
    counts = {r: c for r, c in counts.items() if c}
    birth_unknown = int(index.volunteers.birth.data[v_row]) == NO_DAY
    considered = int(a_rows.shape[0])
    if s_rows.shape[0] == 0:
        note = shortfall_note(counts, 0, k, direction="activities", birth_unknown=birth_unknown)
        return Ranking((), considered=considered, excluded=counts, note=note)

    chosen, pick = _best_shift_each(index, a_rows, owner, s_rows, scores, k)
    matches = explain_many(
        index,
        [index.activities.ids[int(a_rows[o])] for o in chosen],
        np.full(pick.shape[0], v_row, dtype=np.int32),
        s_rows[pick],
        scores[pick],
        feats.take(pick),
        "exact",
        "activities",
        {name: part[pick] for name, part in scored.items()},
    )
    note = shortfall_note(counts, len(matches), k, direction="activities", birth_unknown=birth_unknown)
    return Ranking(matches, considered=considered, excluded=counts, note=note)


def _candidate_activities(
    index: MatchIndex, v_row: int, counts: dict[str, int]
) -> tuple[NDArray[np.int32], NDArray[np.float32]]:
    """The live activities within the volunteer's travel limit and, if they do online work, the
    online ones; with their distances in km (0 online)."""
    travel = float(index.volunteers.travel.data[v_row])
    origin = index.volunteers.xyz.data[v_row].astype(np.float64)
    acts = [_NO_ROWS]
    dists = [_NO_KM]
    if index.volunteers.home.data[v_row]:
        # Homes are matching cells' centres, so the neighbours of a cell share this.
        near, near_km, beyond = index.lasting.get(
            ("activities near", origin.tobytes(), travel),
            partial(_activities_near, index, origin, travel),
            lambda found: found[0].nbytes + found[1].nbytes + 64,
        )
        acts.append(near)
        dists.append(near_km)
        counts["travel"] = beyond
    if index.volunteers.online.data[v_row] and index.online_activities:
        web = np.fromiter(sorted(index.online_activities), dtype=np.int32)
        web = web[index.activities.alive.data[web]]
        acts.append(web)
        dists.append(np.zeros(web.shape[0], dtype=np.float32))
    return np.concatenate(acts), np.concatenate(dists)


def _open_shifts(
    index: MatchIndex, v_row: int, a_rows: NDArray[np.int32], now_s: int, counts: dict[str, int]
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """The candidate activities' shifts (each with its activity's position in ``a_rows``) that
    are open, not started, and not on or overlapping a place the volunteer holds."""
    owner, s_rows64 = kernels.expand(
        index.activities.shift0.data[a_rows], index.activities.nshift.data[a_rows]
    )
    s_rows = s_rows64.astype(np.int32)
    shifts = index.shifts
    keep = (
        shifts.alive.data[s_rows]
        & (shifts.start.data[s_rows] > now_s)
        & (shifts.taken.data[s_rows] < shifts.cap.data[s_rows])
    )
    counts["full"] = int((~keep).sum())
    booked = index.volunteer_bookings(v_row)
    if booked:
        b = np.fromiter(booked, dtype=np.int32)
        taken = np.isin(s_rows, b)
        for sb, eb in zip(shifts.start.data[b].tolist(), shifts.end.data[b].tolist(), strict=True):
            taken |= constraints.overlaps(shifts.start.data[s_rows], shifts.end.data[s_rows], sb, eb)
        counts["booked"] = int((keep & taken).sum())
        keep &= ~taken
    return owner[keep], s_rows[keep]


def _available(
    index: MatchIndex, v_row: int, s_rows: NDArray[np.int32], counts: dict[str, int]
) -> tuple[NDArray[np.bool_], NDArray[np.float32]]:
    """Which shifts fall partly inside the volunteer's weekly windows (in their own time zone)
    and on none of their blackout days, and the share of each shift inside the windows."""
    table, first, last = index.slot_tables(int(index.volunteers.tz.data[v_row]))
    bits = unpack_slots(index.volunteers.avail[:, v_row].reshape(WORDS)).astype(np.float32)
    entry_owner, pos = kernels.expand(table.indptr[s_rows], table.indptr[s_rows + 1] - table.indptr[s_rows])
    covered = np.bincount(
        entry_owner, weights=bits[table.slots[pos]] * table.minutes[pos], minlength=s_rows.shape[0]
    )
    coverage = np.minimum(covered / table.total_minutes[s_rows], 1.0).astype(np.float32)
    keep = constraints.available(coverage)
    counts["availability"] = int((~keep).sum())
    for day in index.volunteers.blackout.row(v_row).tolist():
        hit = (first[s_rows] <= day) & (day <= last[s_rows])
        counts["blackout"] = counts.get("blackout", 0) + int((keep & hit).sum())
        keep &= ~hit
    return keep, coverage


_SkillParts = tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.bool_]]
"""Per candidate activity: mean credit on its required skills, on its preferred ones, and
whether it names preferred skills at all."""


def _qualified(
    index: MatchIndex,
    v_row: int,
    a_rows: NDArray[np.int32],
    owner: NDArray[np.int32],
    s_rows: NDArray[np.int32],
    min_skill_credit: float,
    counts: dict[str, int],
) -> tuple[NDArray[np.bool_], _SkillParts]:
    """Which shifts the volunteer qualifies for (required skills, certificates valid on the
    shift's last day, the minimum age on its first), and the skills parts per activity."""
    n_act = a_rows.shape[0]
    credit = _credit_lookup(index, v_row)
    acts = index.activities
    r_owner, r_pos = acts.required.gather(a_rows)
    r_credit = credit[acts.required.flat.data[r_pos]]
    act_min = _per_owner_min(r_owner, r_credit, n_act)
    act_req = _per_owner_mean(r_owner, r_credit, n_act, 1.0)
    p_owner, p_pos = acts.preferred.gather(a_rows)
    act_pref = _per_owner_mean(p_owner, credit[acts.preferred.flat.data[p_pos]], n_act, 0.0)
    act_has_pref = np.bincount(p_owner, minlength=n_act) > 0
    keep = constraints.has_required_skills(act_min[owner], min_skill_credit)
    counts["skills"] = int((~keep).sum())

    c_owner, c_pos = acts.certs.gather(a_rows)
    if c_owner.shape[0]:
        cert_exp = _cert_lookup(index, v_row)[acts.certs.flat.data[c_pos]]
        # Every required certificate valid on the shift's last day (activity zone): the
        # earliest expiry among the activity's certificates.
        earliest = np.full(n_act, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(earliest, c_owner, cert_exp)
        ok = constraints.certified(earliest[owner], index.shifts.last_day.data[s_rows])
        counts["certification"] = int((keep & ~ok).sum())
        keep &= ok
    min_age = acts.min_age.data[a_rows][owner].astype(np.int64)
    aged = min_age > 0
    if aged.any():
        cutoff = constraints.age_cutoff_days(index.shifts.first_day.data[s_rows[aged]], min_age[aged])
        ok = np.ones(s_rows.shape[0], dtype=bool)
        ok[aged] = constraints.old_enough(int(index.volunteers.birth.data[v_row]), cutoff)
        counts["age"] = int((keep & ~ok).sum())
        keep &= ok
    return keep, (act_req, act_pref, act_has_pref)


def _features(
    index: MatchIndex,
    v_row: int,
    a_rows: NDArray[np.int32],
    dist: NDArray[np.float32],
    owner: NDArray[np.int32],
    coverage: NDArray[np.float32],
    skill_parts: _SkillParts,
) -> PairFeatures:
    """The factors' inputs for each remaining (volunteer, shift) pair."""
    n = owner.shape[0]
    act_req, act_pref, act_has_pref = skill_parts
    cat_lookup = np.zeros(max(len(index.categories), 1), dtype=np.float32)
    for key, h in index.cat_exp.of_row(v_row).items():
        cat_lookup[key] = h
    org_lookup = np.zeros(max(len(index.organisations), 1), dtype=np.float32)
    for key, h in index.org_exp.of_row(v_row).items():
        org_lookup[key] = h
    row_arr = np.full(n, v_row, dtype=np.int64)
    return PairFeatures(
        distance_km=dist[owner],
        max_travel_km=np.full(n, float(index.volunteers.travel.data[v_row]), dtype=np.float32),
        online=index.activities.online.data[a_rows][owner],
        coverage=coverage,
        skill_required=act_req[owner],
        skill_preferred=act_pref[owner],
        has_preferred=act_has_pref[owner],
        reliability=index.reliability(row_arr),
        recency=index.recency(row_arr),
        category_hours=cat_lookup[index.activities.cat.data[a_rows][owner]],
        organisation_hours=org_lookup[index.activities.org.data[a_rows][owner]],
    )


def _best_shift_each(
    index: MatchIndex,
    a_rows: NDArray[np.int32],
    owner: NDArray[np.int32],
    s_rows: NDArray[np.int32],
    scores: NDArray[np.float64],
    k: int,
) -> tuple[list[int], NDArray[np.intp]]:
    """The k best activities (positions in ``a_rows``: highest score, then id) and, for each,
    the pair of its best shift (highest score, then earliest start, then shift id)."""
    best_per_act = np.full(a_rows.shape[0], -np.inf)
    np.maximum.at(best_per_act, owner, scores)
    candidates = np.flatnonzero(np.isfinite(best_per_act))
    cand_scores = best_per_act[candidates]
    if candidates.shape[0] > k:
        kth = np.partition(cand_scores, candidates.shape[0] - k)[candidates.shape[0] - k]
        sel = cand_scores >= kth
        candidates, cand_scores = candidates[sel], cand_scores[sel]
    chosen = sorted(
        zip(cand_scores.tolist(), candidates.tolist(), strict=True),
        key=lambda t: (-t[0], index.activities.ids[int(a_rows[t[1]])]),
    )[:k]
    picks = []
    for score, o in chosen:
        idx = np.flatnonzero((owner == o) & (scores == score))
        picks.append(
            min(
                idx.tolist(),
                key=lambda i: (int(index.shifts.start.data[s_rows[i]]), index.shifts.ids[int(s_rows[i])]),
            )
        )
    return [o for _, o in chosen], np.array(picks, dtype=np.intp)
