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

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matcher.matching import constraints, kernels
from matcher.matching.columns import NO_DAY
from matcher.matching.factors import REGISTRY, ExplainContext, PairFeatures, past_service, skills
from matcher.matching.index import MatchIndex, ShiftView
from matcher.matching.scoring import Weights, combine, score_parts
from matcher.model.calendar import (
    WORDS,
    describe_local,
    describe_local_zh,
    epoch_seconds,
    unpack_slots,
)
from matcher.model.domain import Match, Reason, category_label
from matcher.model.errors import ValidationError
from matcher.model.geo import distances_km

MAX_K = 10_000
_NO_FLAGS = np.zeros(0, dtype=bool)
FIRST_BATCH_ROWS = 4096


@dataclass(frozen=True, slots=True)
class Ranking:
    """Ranked matches plus what was looked at: ``excluded`` counts, per hard rule, the candidates
    that the search examined and dropped (a diagnosis of an empty or short list)."""

    matches: tuple[Match, ...]
    considered: int = 0
    excluded: Mapping[str, int] = field(default_factory=dict)
    note: Reason | None = None


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise ValidationError("k", f"must be a whole number from 1 to {MAX_K}")


def _check_radius(radius_km: float | None) -> None:
    if radius_km is not None and not (np.isfinite(radius_km) and 0 <= radius_km <= 20_000):
        raise ValidationError("radius_km", "must be a finite distance from 0 to 20000 km")


# --------------------------------------------------------------------------------------------
# Volunteers for a shift


@dataclass
class _ShiftQuery:
    view: ShiftView
    radius_km: float
    weights: Weights
    min_credit: float
    req: list[NDArray[np.float32]]  # per required skill: credit table over skill codes
    req_signatures: list[np.uint64]  # per required skill: signature bits of the skills that qualify
    pref_signature: np.uint64  # signature bits of every skill earning credit towards a preferred one
    pref: list[NDArray[np.float32]]
    excluded: NDArray[np.bool_] | None
    cert_ok: NDArray[np.bool_] | None
    age_cutoff: int | None
    counts: dict[str, int]


def _prepare(
    index: MatchIndex, s_row: int, radius_km: float, weights: Weights, min_credit: float
) -> _ShiftQuery:
    view = index.shift_view(s_row)
    n = index.n_volunteer_rows
    excluded: NDArray[np.bool_] | None = None
    blackout_check = index.blackout_rows(view.first_day - 1, view.last_day + 1)
    if blackout_check.size:
        excluded = np.zeros(n, dtype=bool)
        _flag_blackouts(index, view, blackout_check, excluded)
    cert_ok: NDArray[np.bool_] | None = None
    for code in view.required_certs:
        # A flag per row, not a sort of the holders (a common certificate has 10^5 of them);
        # a row listed twice (two certificates that both qualify) sets its flag twice.
        holds = np.zeros(n, dtype=bool)
        holds[index.cert_holders(code, view.last_day)] = True
        cert_ok = holds if cert_ok is None else cert_ok & holds
    req = [index.credit_table(c) for c in view.required]
    pref = [index.credit_table(c) for c in view.preferred]
    cutoff = None
    if view.min_age:
        cutoff = constraints.age_cutoff_day(view.first_day, view.min_age)
    return _ShiftQuery(
        view=view,
        radius_km=radius_km,
        weights=weights,
        min_credit=min_credit,
        req=req,
        req_signatures=[
            index.skill_signature(np.flatnonzero(t >= np.float32(min_credit) - 1e-6)) for t in req
        ],
        pref=pref,
        pref_signature=index.skill_signature(np.flatnonzero(np.sum(pref, axis=0))) if pref else np.uint64(0),
        excluded=excluded,
        cert_ok=cert_ok,
        age_cutoff=cutoff,
        counts={},
    )


def _flag_blackouts(
    index: MatchIndex, view: ShiftView, rows: NDArray[np.int32], out: NDArray[np.bool_]
) -> None:
    """Blackout dates are the volunteer's local dates: flag, per time zone, the volunteers of that
    zone with a blackout date on a local day the shift touches there."""
    for tz_code in np.unique(index.volunteers.tz.data[rows]).tolist():
        _, first, last = index.slot_tables(int(tz_code))
        hit = index.blackout_rows(int(first[view.row]), int(last[view.row]))
        out[hit[index.volunteers.tz.data[hit] == tz_code]] = True


def _count(q: _ShiftQuery, rule: str, dropped: int) -> None:
    if dropped:
        q.counts[rule] = q.counts.get(rule, 0) + dropped


Columns = dict[str, NDArray[Any]]


def _keep(q: _ShiftQuery, rule: str | None, c: Columns, ok: NDArray[np.bool_]) -> Columns:
    """The candidates (aligned columns) that pass ``ok``; the others are counted against ``rule``
    (``None``: dropped by a bound, not by a rule)."""
    if rule is not None:
        _count(q, rule, int((~ok).sum()))
    if ok.all():
        return c
    return {name: values[ok] for name, values in c.items()}


def _score_batch(
    index: MatchIndex, q: _ShiftQuery, rows: NDArray[np.int32]
) -> tuple[NDArray[np.int32], PairFeatures]:
    """Apply every hard rule to ``rows``, then compute the features of the survivors; the
    cheapest, most selective checks come first."""
    view = q.view
    c: Columns = {"rows": rows}
    # Availability reads one or two words per row and removes most rows.
    c["coverage"] = _coverage(index, view, rows)
    c = _keep(q, "availability", c, constraints.available(c["coverage"]))
    if q.req_signatures:
        signature = index.volunteers.skill_sig.data[c["rows"]]
        ok = np.ones(signature.shape[0], dtype=bool)
        for wanted in q.req_signatures:
            ok &= (signature & wanted) != 0
        c = _keep(q, "skills", c, ok)
    if view.online:
        c = _keep(q, "not_online", c, index.volunteers.online.data[c["rows"]])
        n = c["rows"].shape[0]
        c["dist"] = np.zeros(n, dtype=np.float32)
        c["travel"] = index.volunteers.travel.data[c["rows"]]
    else:
        # Rows reach here from spatial blocks, which hold only volunteers with a home.
        assert view.origin is not None
        c["dist"] = distances_km(index.volunteers.xyz.data[c["rows"]], view.origin)
        c["travel"] = index.volunteers.travel.data[c["rows"]]
        c = _keep(q, "travel", c, constraints.within_travel(c["dist"], c["travel"]))
        c = _keep(q, "radius", c, constraints.within_radius(c["dist"], q.radius_km))
    n = c["rows"].shape[0]
    if q.req:
        credits = index.best_credits(c["rows"], q.req)
        c["skill_req"] = credits.mean(axis=0).astype(np.float32)
        c = _keep(q, "skills", c, constraints.has_required_skills(credits.min(axis=0), q.min_credit))
    else:
        c["skill_req"] = np.ones(n, dtype=np.float32)
    c["skill_pref"] = _preferred_credits(index, q, c["rows"])
    if q.cert_ok is not None:
        c = _keep(q, "certification", c, q.cert_ok[c["rows"]])
    if q.age_cutoff is not None:
        c = _keep(q, "age", c, constraints.old_enough(index.volunteers.birth.data[c["rows"]], q.age_cutoff))
    if q.excluded is not None:
        c = _keep(q, "booked", c, constraints.not_in(c["rows"], q.excluded))
    rows = c["rows"]
    n = rows.shape[0]
    features = PairFeatures(
        distance_km=c["dist"],
        max_travel_km=c["travel"],
        online=np.full(n, view.online),
        coverage=c["coverage"],
        skill_required=c["skill_req"],
        skill_preferred=c["skill_pref"],
        has_preferred=np.full(n, bool(q.pref)),
        reliability=index.reliability(rows),
        recency=index.recency(rows),
        category_hours=index.cat_exp.hours_at(view.category, rows),
        organisation_hours=index.org_exp.hours_at(view.organisation, rows),
    )
    return rows, features


def _preferred_credits(index: MatchIndex, q: _ShiftQuery, rows: NDArray[np.int32]) -> NDArray[np.float32]:
    """Mean credit over the preferred skills, read only for rows whose skill signature shows
    they may hold one (the others earn 0)."""
    out = np.zeros(rows.shape[0], dtype=np.float32)
    if q.pref:
        maybe = (index.volunteers.skill_sig.data[rows] & q.pref_signature) != 0
        out[maybe] = index.best_credits(rows[maybe], q.pref).mean(axis=0)
    return out


@dataclass
class _TopK:
    """The best rows so far; keeps everyone tied with the k-th so ties resolve by id at the end."""

    k: int
    rows: NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, np.int32))
    scores: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    features: list[PairFeatures] = field(default_factory=list)
    _feat: PairFeatures | None = None

    def offer(self, rows: NDArray[np.int32], scores: NDArray[np.float64], feats: PairFeatures) -> None:
        if rows.shape[0] == 0:
            return
        if rows.shape[0] > self.k:  # pre-cut the batch before concatenating
            kth = np.partition(scores, rows.shape[0] - self.k)[rows.shape[0] - self.k]
            sel = np.flatnonzero(scores >= kth)
            rows, scores, feats = rows[sel], scores[sel], feats.take(sel)
        all_rows = np.concatenate([self.rows, rows])
        all_scores = np.concatenate([self.scores, scores])
        all_feats = feats if self._feat is None else PairFeatures.concat([self._feat, feats])
        if all_rows.shape[0] > self.k:
            kth = np.partition(all_scores, all_rows.shape[0] - self.k)[all_rows.shape[0] - self.k]
            sel = np.flatnonzero(all_scores >= kth)
            all_rows, all_scores, all_feats = all_rows[sel], all_scores[sel], all_feats.take(sel)
        self.rows, self.scores, self._feat = all_rows, all_scores, all_feats

    def kth(self) -> float:
        if self.rows.shape[0] < self.k:
            return -np.inf
        return float(np.partition(self.scores, self.rows.shape[0] - self.k)[self.rows.shape[0] - self.k])

    def final(self, index: MatchIndex) -> tuple[NDArray[np.int32], NDArray[np.float64], PairFeatures | None]:
        if self._feat is None:
            return self.rows, self.scores, None
        keys = index.vid.sort_keys(self.rows)
        order = np.lexsort((keys, -self.scores))[: self.k]
        return self.rows[order], self.scores[order], self._feat.take(order)


@dataclass(frozen=True, slots=True)
class _ShiftPlan:
    """A shift's search prepared against the index's current state: the query, the blocks that
    may hold an eligible volunteer with their bounds, and the screen's arguments. Organisers ask
    about the same shifts again and again; the plan is kept in ``MatchIndex.memo`` until the next
    write, so a repeated question only screens rows and scores the few that may make the list."""

    query: _ShiftQuery
    blocks: NDArray[np.int32]  # that may hold an eligible volunteer, best bound first
    bound: NDArray[np.float64]  # per block: the best total a member could reach
    past_extra: NDArray[np.float32]  # per block: bound on the category and organisation part
    skill_ub: NDArray[np.float64]  # per block: bound on the skills part
    block_counts: dict[str, int]
    screen: tuple[kernels.ScreenColumns, kernels.ScreenShift] | None  # None: not pruned
    blacked_out: NDArray[np.int32]  # rows with a blackout date on the shift's days

    def nbytes(self) -> int:
        q = self.query
        own: list[NDArray[Any]] = [self.blocks, self.bound, self.past_extra, self.skill_ub, *q.req, *q.pref]
        own += [a for a in (q.cert_ok, self.blacked_out) if a is not None]
        if self.screen is not None:
            own += [self.screen[1].req_tables, self.screen[1].pref_tables]
        return int(sum(a.nbytes for a in own)) + 4096

    def search_part(self, index: MatchIndex, q: _ShiftQuery) -> kernels.ScreenSearch:
        """The search's own arguments of :func:`matcher.matching.kernels.screen` for ``q`` (from
        :meth:`start`): the screen reads the blocks' parts by block number (a plan keeps them
        only for its own blocks)."""
        past_extra = np.empty(len(index.vblocks) + 1, dtype=np.float32)
        skill_ub = np.empty(len(index.vblocks) + 1)
        past_extra[self.blocks] = self.past_extra
        skill_ub[self.blocks] = self.skill_ub
        excluded = q.excluded if q.excluded is not None else _NO_FLAGS
        return kernels.ScreenSearch(past_extra=past_extra, skill_ub=skill_ub, excluded=excluded)

    def start(self, index: MatchIndex) -> _ShiftQuery:
        """The query for one search: the plan's, with its own counts of excluded candidates,
        excluding who has a blackout date on the shift's days and who holds a place on this
        shift or on one that overlaps it now. (The plan keeps rows, not a flag per volunteer:
        a plan of a few kilobytes lets the memo hold the plans of every shift asked about.)"""
        view = self.query.view
        booked = index.booked_rows(view.starts_s, view.ends_s, same_shift=view.row)
        excluded = None
        if booked.size or self.blacked_out.size:
            excluded = np.zeros(index.n_volunteer_rows, dtype=bool)
            excluded[self.blacked_out] = True
            excluded[booked] = True
        return replace(self.query, excluded=excluded, counts=dict(self.block_counts))


def _plan(
    index: MatchIndex, s_row: int, radius_km: float | None, weights: Weights, min_credit: float, prune: bool
) -> _ShiftPlan:
    nb = len(index.vblocks)
    max_travel = float(index.block_max_travel.data[:nb].max()) if nb else 0.0
    reach = max_travel if radius_km is None else min(radius_km, max_travel)
    q = _prepare(index, s_row, np.inf if radius_km is None else radius_km, weights, min_credit)
    blocks, bound, past_extra, skill_ub = _ordered_blocks(index, q, reach)
    blacked_out = np.zeros(0, np.int32) if q.excluded is None else np.flatnonzero(q.excluded).astype(np.int32)
    return _ShiftPlan(
        replace(q, excluded=None), blocks, bound, past_extra, skill_ub, q.counts,
        _screen_parts(index, q) if prune else None, blacked_out,
    )  # fmt: skip


def _shift_plan(
    index: MatchIndex, s_row: int, radius_km: float | None, weights: Weights, min_credit: float, prune: bool
) -> _ShiftPlan:
    """The shift's plan as the index's current state gives it (kept until a write other than
    a booking)."""
    return index.lasting.get(
        ("shift", s_row, radius_km, weights.key(), min_credit, prune),
        partial(_plan, index, s_row, radius_km, weights, min_credit, prune),
        _ShiftPlan.nbytes,
    )


def _rank_shift(
    index: MatchIndex,
    s_row: int,
    *,
    k: int,
    radius_km: float | None,
    weights: Weights,
    min_credit: float,
    prune: bool,
) -> tuple[NDArray[np.int32], NDArray[np.float64], PairFeatures | None, _ShiftQuery]:
    plan = _shift_plan(index, s_row, radius_km, weights, min_credit, prune)
    q = plan.start(index)
    view = q.view
    top = _TopK(k)

    if view.online:
        homeless = index.homeless.data[: index.homeless.n]
        if homeless.size:
            rows, feats = _score_batch(index, q, homeless[index.volunteers.alive.data[homeless]])
            top.offer(rows, combine(score_parts(feats), weights), feats)
    blocks, bound = plan.blocks, plan.bound
    sizes = np.cumsum(index.vblocks.members(blocks))
    search = plan.search_part(index, q) if prune else None
    # Lower bounds of rows certain to qualify: the k-th largest is a floor (kernels.screen).
    heap = np.full(k, -np.inf)
    considered = 0
    i = 0
    batch_rows = max(FIRST_BATCH_ROWS, 8 * k)
    while i < blocks.shape[0]:
        if not prune:
            rows, listed = index.vblocks.rows_of(blocks)
            rows = rows[index.volunteers.block.data[rows] == listed]
            considered += rows.shape[0]
            rows, feats = _score_batch(index, q, rows)
            top.offer(rows, combine(score_parts(feats), weights), feats)
            break
        floor = max(top.kth(), float(heap[0]))
        if bound[i] < floor:
            break
        done = int(sizes[i - 1]) if i else 0
        j = int(np.searchsorted(sizes, done + batch_rows, side="left")) + 1
        # Bounds fall along ``blocks``: blocks past the first one below the floor cannot
        # contribute, so the batch ends there at the latest.
        useful = int(np.searchsorted(-bound, -floor, side="right"))
        j = min(max(j, i + 1), useful, blocks.shape[0])
        # The compiled screen drops what cannot make the list; the exact rules judge the rest.
        assert plan.screen is not None and search is not None
        rows, row_bound, screened = kernels.screen(
            blocks[i:j], *index.vblocks.ranges_of(blocks[i:j]), *plan.screen, search, floor=floor, heap=heap
        )
        considered += int(screened[0])
        for rule, dropped in zip(kernels.COUNTS[1:], screened[1:].tolist(), strict=True):
            _count(q, rule, dropped)
        rows = rows[row_bound >= max(top.kth(), float(heap[0]))]
        if rows.shape[0]:
            rows, feats = _score_batch(index, q, rows)
            top.offer(rows, combine(score_parts(feats), weights), feats)
        i = j
        batch_rows *= 2
    q.counts["_considered"] = considered
    rows, scores, best = top.final(index)
    return rows, scores, best, q


def _ordered_blocks(
    index: MatchIndex, q: _ShiftQuery, reach_km: float
) -> tuple[NDArray[np.int32], NDArray[np.float64], NDArray[np.float32], NDArray[np.float64]]:
    """The blocks that may hold an eligible volunteer, best bound first, with the bound: the
    highest total any member could reach (see :func:`matcher.matching.kernels.block_bounds`), and two
    parts of it that the rows' own bounds reuse (past service beyond the static part, skills)."""
    view = q.view
    nb = len(index.vblocks)
    cell_start, cell_blocks = index.vblocks.cells()
    if view.online:
        cells, cell_km = np.arange(cell_start.shape[0] - 1, dtype=np.int64), np.zeros(cell_start.shape[0] - 1)
    else:
        assert view.origin is not None
        origin = view.origin
        # Shared by the shifts of an activity (same place, same reach).
        cells, cell_km = index.lasting.get(
            ("near", origin.tobytes(), reach_km),
            lambda: index.vblocks.near_cells(origin, reach_km),
            lambda found: found[0].nbytes + found[1].nbytes,
        )
    n_cat = index.block_cat_hours.data.shape[1]
    zone, mask_words, mask_minutes, total_minutes = _zone_mask(index, view)
    blocks, kept, bound, past_extra, skill_ub, status = kernels.block_bounds(
        cells,
        cell_km,
        cell_start,
        cell_blocks,
        block_radius_km=index.vblocks.radius_km.data,
        cell_max_travel=index.cell_max_travel(),
        max_block_radius_km=index.vblocks.max_radius_km,
        online=view.online,
        reach_km=reach_km,
        block_max_travel=index.block_max_travel.data,
        block_zone=index.block_zone.data,
        block_avail=index.block_avail.data,
        zone=zone,
        mask_words=mask_words,
        mask_minutes=mask_minutes,
        total_minutes=total_minutes,
        req_credits=_stacked([index.block_credits(c) for c in view.required], nb + 1),
        pref_credits=_stacked([index.block_credits(c) for c in view.preferred], nb + 1),
        credit_floor=_credit_floor(q.min_credit),
        preferred_share=skills.PREFERRED_SHARE,
        block_max_static=index.block_max_static.data,
        cat_hours=index.block_cat_hours.data[:, view.category]
        if view.category < n_cat
        else np.zeros(nb + 1, np.float32),
        w_category=past_service.W_CATEGORY,
        category_hours_scale=past_service.CATEGORY_HOURS_SCALE,
        w_organisation=past_service.W_ORGANISATION,
        weights=_weight_vector(q.weights),
    )
    for code, rule in enumerate(kernels.BLOCK_STATUS[1:3], start=1):
        _count(q, rule, int(index.vblocks.members(blocks[status == code]).sum()))
    order = np.argsort(-bound)  # any order of equal bounds visits the same rows
    return kept[order], bound[order], past_extra[order], skill_ub[order]


def _zone_mask(
    index: MatchIndex, view: ShiftView
) -> tuple[int, NDArray[np.uint64], NDArray[np.float64], float]:
    """The shift as the kernels see it from its own time zone: zone, mask words, minutes per
    mask, total minutes (zone -1: no volunteer lives there, so no row or block is checked
    against it)."""
    zone = index.zones.get(view.zone)
    if zone is None:
        return -1, np.zeros((0, WORDS), np.uint64), np.zeros(0, np.float64), 1.0
    mask = index.shift_mask(view.row, zone)
    return zone, mask.masks, np.asarray(mask.minute_values, dtype=np.float64), mask.total_minutes


def _credit_sure(min_credit: float) -> float:
    """The exact rule's threshold (:func:`constraints.has_required_skills`) on a credit."""
    return float(np.float32(min_credit) - np.float32(1e-6))


def _credit_floor(min_credit: float) -> float:
    """Below the exact rule's threshold by a margin: a credit under it certainly fails."""
    return _credit_sure(min_credit) - 1e-6


def _weight_vector(weights: Weights) -> NDArray[np.float64]:
    w = weights.normalised()
    return np.array([w["skills"], w["distance"], w["availability"], w["past_service"]])


def _screen_parts(index: MatchIndex, q: _ShiftQuery) -> tuple[kernels.ScreenColumns, kernels.ScreenShift]:
    """The index columns and the shift's constants :func:`matcher.matching.kernels.screen` reads."""
    view = q.view
    n = index.n_volunteer_rows
    n_codes = max(len(index.skills), 1)
    columns = kernels.ScreenColumns(
        v_block=index.volunteers.block.data,
        avail=index.volunteers.avail,
        v_tz=index.volunteers.tz.data,
        v_sig=index.volunteers.skill_sig.data[:n],
        sk_offset=index.volunteers.skills.offset.data,
        sk_length=index.volunteers.skills.length.data,
        sk_codes=index.volunteers.skills.flat.data,
        v_online=index.volunteers.online.data,
        v_xyz=index.volunteers.xyz.data,
        v_travel=index.volunteers.travel.data,
        v_static=index.volunteers.static.data,
        v_birth=index.volunteers.birth.data,
    )
    zone, mask_words, mask_minutes, total_minutes = _zone_mask(index, view)
    cat_rows, cat_hours = index.cat_exp.sorted_posting(view.category)
    org_rows, org_hours = index.org_exp.sorted_posting(view.organisation)
    shift = kernels.ScreenShift(
        zone=zone,
        mask_words=mask_words,
        mask_minutes=mask_minutes,
        total_minutes=total_minutes,
        req_sigs=np.array(q.req_signatures, dtype=np.uint64),
        req_tables=_stacked(q.req, n_codes),
        pref_tables=_stacked(q.pref, n_codes),
        credit_floor=_credit_floor(q.min_credit),
        credit_sure=_credit_sure(q.min_credit),
        preferred_share=skills.PREFERRED_SHARE,
        online=view.online,
        origin=view.origin if view.origin is not None else np.zeros(3),
        radius_km=float(min(q.radius_km, 1e9)),
        cat_rows=cat_rows,
        cat_hours=cat_hours,
        org_rows=org_rows,
        org_hours=org_hours,
        w_category=past_service.W_CATEGORY,
        category_hours_scale=past_service.CATEGORY_HOURS_SCALE,
        w_organisation=past_service.W_ORGANISATION,
        organisation_hours_scale=past_service.ORGANISATION_HOURS_SCALE,
        cert_ok=q.cert_ok if q.cert_ok is not None else _NO_FLAGS,
        age_cutoff=q.age_cutoff if q.age_cutoff is not None else np.iinfo(np.int64).max,
        weights=_weight_vector(q.weights),
    )
    return columns, shift


def _stacked(tables: list[NDArray[np.float32]], size: int) -> NDArray[np.float32]:
    return np.stack(tables) if tables else np.zeros((0, size), dtype=np.float32)


def _coverage(index: MatchIndex, view: ShiftView, rows: NDArray[np.int32]) -> NDArray[np.float32]:
    """Share of the shift inside each row's weekly windows, in the row's own time zone."""
    tz = index.volunteers.tz.data[rows]
    avail = index.volunteers.avail
    if rows.shape[0] == 0 or tz.min() == tz.max():
        code = int(tz[0]) if rows.shape[0] else 0
        return index.shift_mask(view.row, code).share(avail, rows)
    coverage = np.zeros(rows.shape[0], dtype=np.float32)
    for code in np.unique(tz).tolist():
        sel = tz == code
        coverage[sel] = index.shift_mask(view.row, int(code)).share(avail, rows[sel])
    return coverage


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
    _check_k(k)
    _check_radius(radius_km)
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
            return Ranking((), note=_rule_reason("past"))
        if index.shifts.taken.data[s_row] >= index.shifts.cap.data[s_row]:
            return Ranking((), note=_rule_reason("full"))
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
        rows, scores, feats, q = _rank_shift(
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
    matches = _explain_many(
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
    plan = _shift_plan(index, s_row, None, weights, min_skill_credit, prune=True)
    q = replace(plan.start(index), counts={})
    kept, _ = _score_batch(index, q, np.array([v_row], dtype=np.int32))
    if kept.shape[0]:
        return None
    rule = next(iter(q.counts))
    if rule == "booked" and s_row in index.volunteer_bookings(v_row):
        return None
    return _rule_reason(rule)


_ACTIVITY_ADVICE: dict[str, tuple[str, str]] = {
    "age_unknown": ("请填写出生日期：{n} 个班次有最低年龄要求", "add your birth date: {n} shifts ask for a minimum age"),
    "age": ("{n} 个班次的最低年龄你尚未达到", "{n} shifts ask for a minimum age you have not reached"),
    "availability": ("{n} 个班次不在你的空闲时间内：在资料中增加空闲时段",
                     "{n} shifts fall outside the times you are free: add times to your profile"),
    "skills": ("{n} 个班次需要你尚未填写的技能：在资料中添加技能",
               "{n} shifts need a skill you have not listed: add skills to your profile"),
    "certification": ("{n} 个班次需要有效证书：在资料中填写证书及有效期",
                      "{n} shifts need a valid certificate: add it, with its expiry, to your profile"),
    "travel": ("{n} 个活动超出你愿意前往的距离：可在资料中放宽",
               "{n} activities are beyond how far you will travel: you can raise it in your profile"),
    "booked": ("{n} 个班次与你已报名的班次时间冲突", "{n} shifts overlap places you already hold"),
    "blackout": ("{n} 个班次在你标记为不可服务的日子", "{n} shifts fall on days you marked unavailable"),
    "full": ("{n} 个班次已满或已开始", "{n} shifts are full or have started"),
}  # fmt: skip
_VOLUNTEER_ADVICE: dict[str, tuple[str, str]] = {
    "booked": ("{n} 位合适的志愿者已报名或已受邀", "{n} suitable volunteers are already signed up or invited"),
    "travel": ("{n} 位志愿者超出其出行距离：可考虑线上或调整地点",
               "{n} volunteers live beyond how far they will travel: consider online work or another place"),
    "radius": ("{n} 位志愿者在搜索半径之外：可扩大半径", "{n} volunteers are outside the search radius: widen it"),
    "availability": ("{n} 位志愿者该时段没空：可考虑调整时间",
                     "{n} volunteers are not free at that time: consider another time"),
    "skills": ("{n} 位志愿者缺少必需技能：可考虑放宽技能要求",
               "{n} volunteers lack a required skill: consider making it preferred instead"),
    "certification": ("{n} 位志愿者缺少有效证书", "{n} volunteers lack a valid certificate"),
    "age": ("{n} 位志愿者未达最低年龄或未填出生日期",
            "{n} volunteers are under the minimum age or gave no birth date"),
}  # fmt: skip


def shortfall_note(
    excluded: Mapping[str, int], found: int, k: int, *, direction: str, birth_unknown: bool = False
) -> Reason | None:
    """Why a list is empty or shorter than asked, in words the reader can act on: the hard rule
    that dropped the most candidates, with its count (``None`` when the list is full).

    ``direction`` is "activities" (a volunteer reading their own list: advice about their
    profile) or "volunteers" (an organiser reading suggestions). A volunteer with no birth date
    who met an age limit is told that first: it is the one thing they can fix at once.
    """
    if found >= k:
        return None
    advice = _ACTIVITY_ADVICE if direction == "activities" else _VOLUNTEER_ADVICE
    counts = {rule: n for rule, n in excluded.items() if n and rule in advice}
    if direction == "activities" and birth_unknown and counts.get("age"):
        rule, n = "age_unknown", counts["age"]
    elif counts:
        rule, n = max(counts.items(), key=lambda item: (item[1], item[0]))
    elif found == 0:
        if direction == "activities":
            return Reason("none", "附近暂无开放的活动：可扩大出行距离或接受线上活动",
                          "no open activities within reach: travel further or accept online work")  # fmt: skip
        return Reason("none", "暂无符合条件的志愿者", "no volunteer meets this shift's rules yet")
    else:
        return None
    zh, en = advice[rule]
    if found:
        unit = "个" if direction == "activities" else "位"
        return Reason(
            rule, f"只有 {found} {unit}匹配；" + zh.format(n=n), f"only {found} match; " + en.format(n=n)
        )
    return Reason(rule, zh.format(n=n), en.format(n=n))


def _rule_reason(rule: str) -> Reason:
    zh, en = constraints.RULES[rule]
    return Reason(rule, zh, en)


def _explain_many(
    index: MatchIndex,
    idents: list[str],
    v_rows: NDArray[np.int32],
    s_rows: NDArray[np.int32],
    scores: NDArray[np.float64],
    feats: PairFeatures,
    distance_mode: str,
    direction: str,
    scored: dict[str, NDArray[np.float32]] | None = None,
) -> tuple[Match, ...]:
    """Matches with their parts and reasons, for the few pairs that made the list: parts are
    scored once for all of them (``scored``: already, by the search). A pair's reasons depend
    on the two records only, so they are kept (``MatchIndex.lasting``) across sign-ups, as is
    what depends only on the shift and the time zone it is described in; ``direction``
    ("volunteers" or "activities") keeps each direction's own wording of the same pair."""
    scored = score_parts(feats) if scored is None else scored
    names = list(scored)
    rounded = np.round(np.stack([scored[n] for n in names]).astype(np.float64), 4).T.tolist()
    matches = []
    for i, (ident, v_row, s_row, score) in enumerate(
        zip(idents, v_rows.tolist(), s_rows.tolist(), scores.tolist(), strict=True)
    ):
        kept = index.lasting.get(
            ("reasons", direction, v_row, s_row, distance_mode),
            partial(_reasons, index, feats, i, v_row, s_row, distance_mode),
            lambda found: 512 * (1 + len(found)),
        )
        reasons = tuple(Reason(*r) for r in kept)
        d = None if bool(feats.online[i]) else float(feats.distance_km[i])
        matches.append(
            Match(
                ident,
                round(score, 6),
                dict(zip(names, rounded[i], strict=True)),
                reasons,
                shift_id=index.shifts.ids[s_row],
                distance_km=d,
            )
        )
    return tuple(matches)


def _reasons(
    index: MatchIndex, feats: PairFeatures, i: int, v_row: int, s_row: int, distance_mode: str
) -> tuple[tuple[str, str, str], ...]:
    """What each factor says about pair ``i`` of ``feats`` (volunteer ``v_row``, shift ``s_row``),
    as (factor, zh, en): tuples of text, which the garbage collector stops tracking, so that the
    reasons kept for many pairs add nothing to a collection's pause."""
    tz_code = int(index.volunteers.tz.data[v_row])
    last_day, shift_ctx = index.lasting.get(
        ("context", s_row, tz_code, distance_mode),
        partial(_shift_context, index, s_row, tz_code, distance_mode),
        lambda _: 2048,
    )
    certs = frozenset(
        name for name, exp in index.volunteer_certs(v_row).items() if exp == NO_DAY or exp >= last_day
    )
    ctx = ExplainContext(
        **shift_ctx, held_skills=frozenset(index.volunteer_skill_ids(v_row)), held_certifications=certs
    )
    said = (f.explain(feats, i, ctx) for f in REGISTRY)
    return tuple((r.factor, r.zh, r.en) for r in said if r is not None)


def _shift_context(
    index: MatchIndex, s_row: int, tz_code: int, distance_mode: str
) -> tuple[int, dict[str, Any]]:
    """What the reasons say about a shift, described in time zone ``tz_code``: the shift's last
    local day (certificates must be valid on it) and the fields of an :class:`ExplainContext`
    but the volunteer's own skills and certificates."""
    view = index.shift_view(s_row)
    tz = index.zones.name(tz_code)
    start = datetime.fromtimestamp(view.starts_s, UTC)
    end = datetime.fromtimestamp(view.ends_s, UTC)
    category = index.categories.name(view.category)
    return view.last_day, {
        "taxonomy": index.taxonomy,
        "required_skills": tuple(index.skills.name(c) for c in view.required),
        "preferred_skills": tuple(index.skills.name(c) for c in view.preferred),
        "required_certifications": tuple(index.skills.name(c) for c in view.required_certs),
        "shift_zh": describe_local_zh(start, end, tz),
        "shift_en": describe_local(start, end, tz),
        "category_zh": category_label(category, "zh"),
        "category_en": category_label(category, "en"),
        "distance_mode": distance_mode,
    }


# --------------------------------------------------------------------------------------------
# Activities for a volunteer


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
    do online work; every hard rule is checked per shift.
    """
    _check_k(k)
    weights = weights or Weights.default()
    v_row = index.volunteer_row(volunteer_id)
    now_s = epoch_seconds(now)
    counts: dict[str, int] = {}

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
    a_rows = np.concatenate(acts)
    dist = np.concatenate(dists)
    online = index.activities.online.data[a_rows]

    # Shifts of the candidate activities, open and not already taken by this volunteer.
    owner, s_rows64 = kernels.expand(
        index.activities.shift0.data[a_rows], index.activities.nshift.data[a_rows]
    )
    s_rows = s_rows64.astype(np.int32)
    keep = (
        index.shifts.alive.data[s_rows]
        & (index.shifts.start.data[s_rows] > now_s)
        & (index.shifts.taken.data[s_rows] < index.shifts.cap.data[s_rows])
    )
    counts["full"] = int((~keep).sum())
    booked = index.volunteer_bookings(v_row)
    if booked:
        b = np.fromiter(booked, dtype=np.int32)
        same = np.isin(s_rows, b)
        starts_b, ends_b = index.shifts.start.data[b], index.shifts.end.data[b]
        overlap = np.zeros(s_rows.shape[0], dtype=bool)
        for sb, eb in zip(starts_b.tolist(), ends_b.tolist(), strict=True):
            overlap |= constraints.overlaps(
                index.shifts.start.data[s_rows], index.shifts.end.data[s_rows], sb, eb
            )
        counts["booked"] = int((keep & (same | overlap)).sum())
        keep &= ~(same | overlap)
    owner, s_rows = owner[keep], s_rows[keep]

    # Availability in the volunteer's own time zone.
    tz_code = int(index.volunteers.tz.data[v_row])
    table, first, last = index.slot_tables(tz_code)
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
    owner, s_rows, coverage = owner[keep], s_rows[keep], coverage[keep]

    # Skills, certificates and age, per activity then per shift.
    n_act = a_rows.shape[0]
    credit = _credit_lookup(index, v_row)
    r_owner, r_pos = index.activities.required.gather(a_rows)
    r_codes = index.activities.required.flat.data[r_pos]
    r_credit = credit[r_codes]
    act_min = _per_owner_min(r_owner, r_credit, n_act)
    act_req = _per_owner_mean(r_owner, r_credit, n_act, 1.0)
    p_owner, p_pos = index.activities.preferred.gather(a_rows)
    act_pref = _per_owner_mean(p_owner, credit[index.activities.preferred.flat.data[p_pos]], n_act, 0.0)
    act_has_pref = np.bincount(p_owner, minlength=n_act) > 0
    keep = constraints.has_required_skills(act_min[owner], min_skill_credit)
    counts["skills"] = int((~keep).sum())

    c_owner, c_pos = index.activities.certs.gather(a_rows)
    if c_owner.shape[0]:
        cert_exp = _cert_lookup(index, v_row)[index.activities.certs.flat.data[c_pos]]
        # Per shift: every required certificate valid on the shift's last day (activity zone),
        # that is the earliest expiry among the activity's certificates.
        earliest = np.full(n_act, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(earliest, c_owner, cert_exp)
        ok = constraints.certified(earliest[owner], index.shifts.last_day.data[s_rows])
        counts["certification"] = int((keep & ~ok).sum())
        keep &= ok
    min_age = index.activities.min_age.data[a_rows][owner].astype(np.int64)
    aged = min_age > 0
    if aged.any():
        cutoff = constraints.age_cutoff_days(index.shifts.first_day.data[s_rows[aged]], min_age[aged])
        ok = np.ones(s_rows.shape[0], dtype=bool)
        ok[aged] = constraints.old_enough(int(index.volunteers.birth.data[v_row]), cutoff)
        counts["age"] = int((keep & ~ok).sum())
        keep &= ok
    owner, s_rows, coverage = owner[keep], s_rows[keep], coverage[keep]

    n = s_rows.shape[0]
    cat_hours = index.cat_exp.of_row(v_row)
    org_hours = index.org_exp.of_row(v_row)
    act_cat = index.activities.cat.data[a_rows]
    act_org = index.activities.org.data[a_rows]
    cat_lookup = np.zeros(max(len(index.categories), 1), dtype=np.float32)
    for key, h in cat_hours.items():
        cat_lookup[key] = h
    org_lookup = np.zeros(max(len(index.organisations), 1), dtype=np.float32)
    for key, h in org_hours.items():
        org_lookup[key] = h
    row_arr = np.full(n, v_row, dtype=np.int64)
    feats = PairFeatures(
        distance_km=dist[owner],
        max_travel_km=np.full(n, travel, dtype=np.float32),
        online=online[owner],
        coverage=coverage,
        skill_required=act_req[owner],
        skill_preferred=act_pref[owner],
        has_preferred=act_has_pref[owner],
        reliability=index.reliability(row_arr),
        recency=index.recency(row_arr),
        category_hours=cat_lookup[act_cat[owner]],
        organisation_hours=org_lookup[act_org[owner]],
    )
    scored = score_parts(feats)
    scores = combine(scored, weights)
    counts = {r: c for r, c in counts.items() if c}
    birth_unknown = int(index.volunteers.birth.data[v_row]) == NO_DAY
    if n == 0:
        note = shortfall_note(counts, 0, k, direction="activities", birth_unknown=birth_unknown)
        return Ranking((), considered=int(a_rows.shape[0]), excluded=counts, note=note)

    # Best shift per activity: highest score, then earliest start, then shift id.
    best_per_act = np.full(n_act, -np.inf)
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
    pick = np.array(picks, dtype=np.intp)
    matches = _explain_many(
        index,
        [index.activities.ids[int(a_rows[o])] for _, o in chosen],
        np.full(pick.shape[0], v_row, dtype=np.int32),
        s_rows[pick],
        scores[pick],
        feats.take(pick),
        "exact",
        "activities",
        {name: part[pick] for name, part in scored.items()},
    )
    note = shortfall_note(counts, len(matches), k, direction="activities", birth_unknown=birth_unknown)
    return Ranking(matches, considered=int(a_rows.shape[0]), excluded=counts, note=note)
