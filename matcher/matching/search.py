"""The volunteer search for one shift: its plan (the query, the blocks that may hold an
eligible volunteer best bound first, the compiled screen's arguments), the batches of rows the
screen keeps, the exact rules and factors on them, and the top k.

Blocks are visited in order of the best total any of their volunteers could reach; the search
stops when that bound falls below the current k-th score, so the result is exactly the one
scoring every volunteer would give (``prune=False`` does that; the tests compare the two)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matcher.matching import constraints, kernels
from matcher.matching.factors import PairFeatures, past_service, skills
from matcher.matching.index import MatchIndex, ShiftView
from matcher.matching.scoring import Weights, combine, score_parts
from matcher.model.calendar import (
    WORDS,
)
from matcher.model.geo import distances_km

_NO_FLAGS = np.zeros(0, dtype=bool)
FIRST_BATCH_ROWS = 4096


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


def score_batch(
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


def make_plan(
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


def shift_plan(
    index: MatchIndex, s_row: int, radius_km: float | None, weights: Weights, min_credit: float, prune: bool
) -> _ShiftPlan:
    """The shift's plan as the index's current state gives it (kept until a write other than
    a booking)."""
    return index.lasting.get(
        ("shift", s_row, radius_km, weights.key(), min_credit, prune),
        partial(make_plan, index, s_row, radius_km, weights, min_credit, prune),
        _ShiftPlan.nbytes,
    )


def rank_shift(
    index: MatchIndex,
    s_row: int,
    *,
    k: int,
    radius_km: float | None,
    weights: Weights,
    min_credit: float,
    prune: bool,
) -> tuple[NDArray[np.int32], NDArray[np.float64], PairFeatures | None, _ShiftQuery]:
    plan = shift_plan(index, s_row, radius_km, weights, min_credit, prune)
    q = plan.start(index)
    view = q.view
    top = _TopK(k)

    if view.online:
        homeless = index.homeless.data[: index.homeless.n]
        if homeless.size:
            rows, feats = score_batch(index, q, homeless[index.volunteers.alive.data[homeless]])
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
            rows, feats = score_batch(index, q, rows)
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
            rows, feats = score_batch(index, q, rows)
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
