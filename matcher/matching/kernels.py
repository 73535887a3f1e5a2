"""Compiled loops (numba) for the volunteer search and the index build.

The search: :func:`block_bounds` bounds, per spatial block near an activity, the best total any
member could reach (the order blocks are visited in); :func:`screen` goes through the rows of the
visited blocks once, drops those that certainly fail a rule or whose own bound is below the
floor, and keeps a heap of totals that rows certain to qualify certainly reach, whose k-th is a
floor too. The exact, vectorised rules and factors (:mod:`matcher.matching.constraints`,
:mod:`matcher.matching.factors`) then judge the few dozen rows left instead of tens of thousands.

The kernels only ever *drop* a row when that is certain, with margins where float arithmetic
differs from the exact path; everything they keep is judged again by the exact code. So they
decide nothing on their own: they are correct as long as they are conservative, which the tests
check (the pruned search, which uses them, must equal scoring everyone, which does not; upper
bounds never fall below an exact total; the heap's floor never passes the true k-th total).

Why compiled: in numpy each check is a pass over the rows with its own temporaries, and at
10^6 volunteers a query touches 10^4-10^5 rows in several batches; fused into one loop the
screen costs ~40 ns a row (see ``../shared/notes/PERFORMANCE.md``: numpy with pruning alone did
not reach the latency target). The build helpers (:func:`stable_order`, :func:`permute_ragged`,
:func:`ragged_signatures`, :func:`gather_transposed`) are one pass each where numpy needed a sort
or several temporaries.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numba
import numpy as np
from numpy.typing import NDArray

from matcher.matching.factors.distance import MIN_LIMIT_KM
from matcher.model.geo import EARTH_RADIUS_KM

DISTANCE_MARGIN_KM = 0.01
"""Rows are dropped for distance only when farther than their limit by this much: float32 unit
vectors put a distance off by well under a metre, so the exact check makes the real decision."""

BOUND_SLACK = 1e-6
"""Added to every bound: the exact path adds float32 parts, the kernels float64 ones."""

COUNTS = (
    "considered",
    "availability",
    "skills",
    "not_online",
    "travel",
    "radius",
    "certification",
    "age",
    "booked",
)
"""What :func:`screen` counts, in order: rows still in their block, then rows dropped per rule."""


@numba.njit(cache=True, nogil=True)
def _popcount(x: np.uint64) -> np.uint64:  # pragma: no cover - compiled
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


@numba.njit(cache=True, nogil=True)
def _skills_blend(  # pragma: no cover - compiled
    req_sum: float, n_req: int, pref_sum: float, n_pref: int, preferred_share: float
) -> float:
    """The skills part from summed credits, as :func:`matcher.matching.factors.skills.blend` gives it."""
    req_part = req_sum / n_req if n_req > 0 else 1.0
    if n_pref == 0:
        return min(max(req_part, 0.0), 1.0)
    part = (1.0 - preferred_share) * req_part + preferred_share * (pref_sum / n_pref)
    return min(max(part, 0.0), 1.0)


@numba.njit(cache=True, nogil=True)
def _offer_lower_bound(heap: Any, value: float) -> None:  # pragma: no cover - compiled
    """Keep in ``heap`` (a binary min-heap of fixed size) the largest values offered."""
    if value <= heap[0]:
        return
    heap[0] = value
    i = 0
    n = heap.shape[0]
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        if child + 1 < n and heap[child + 1] < heap[child]:
            child += 1
        if heap[child] >= heap[i]:
            break
        heap[i], heap[child] = heap[child], heap[i]
        i = child


@numba.njit(cache=True, nogil=True)
def _hours_of(posting_rows: Any, posting_hours: Any, r: int) -> float:  # pragma: no cover - compiled
    """Hours of row ``r`` in a posting list sorted by row (0 when absent)."""
    i = np.searchsorted(posting_rows, r)
    if i < posting_rows.shape[0] and posting_rows[i] == r:
        return float(posting_hours[i])
    return 0.0


class ScreenColumns(NamedTuple):
    """The volunteers' columns the screen reads, straight from the index: ``avail`` is
    (WORDS, N) availability words, ``v_xyz`` (N, 3) float32 unit vectors, every other one (N,)
    per row; a row's skill codes are ``sk_codes[sk_offset[r]:][:sk_length[r]]``; an unknown
    birth date is a day far in the future."""

    v_block: NDArray[np.int32]
    avail: NDArray[np.uint64]
    v_tz: NDArray[np.int16]
    v_sig: NDArray[np.uint64]
    sk_offset: NDArray[np.int64]
    sk_length: NDArray[np.int32]
    sk_codes: NDArray[np.int32]
    v_online: NDArray[np.bool_]
    v_xyz: NDArray[np.float32]
    v_travel: NDArray[np.float32]
    v_static: NDArray[np.float32]
    v_birth: NDArray[np.int32]


class ScreenShift(NamedTuple):
    """What the screen needs to know of one shift, fixed until the index changes.

    - ``zone``, ``mask_words``, ``mask_minutes``, ``total_minutes``: the shift as seen from time
      zone ``zone`` (a :class:`matcher.model.calendar.ShiftMask`); rows in other zones skip it.
    - ``req_sigs``: one skill signature per required skill; ``req_tables``, ``pref_tables``:
      (required or preferred skills, skill codes) credit tables
      (:meth:`matcher.matching.index.MatchIndex.credit_table`). A row whose best credit towards a
      required skill is below ``credit_floor`` lacks it, one at ``credit_sure`` or above
      certainly holds it; ``preferred_share`` as in :func:`matcher.matching.factors.skills.blend`.
    - ``online``: an online activity; ``origin``: its (3,) unit vector; ``radius_km``: the
      organiser's radius.
    - ``cat_rows``, ``cat_hours``, ``org_rows``, ``org_hours``: hours served in the activity's
      category and for its organisation, by row (sorted), and the constants of
      :mod:`matcher.matching.factors.past_service` that turn them into the past-service part.
    - ``cert_ok``: (N,) holds every required certificate (empty: none required);
      ``age_cutoff``: the latest birth day old enough; ``weights``: the normalised weights of
      skills, distance, availability and past service.
    """

    zone: int
    mask_words: NDArray[np.uint64]
    mask_minutes: NDArray[np.float64]
    total_minutes: float
    req_sigs: NDArray[np.uint64]
    req_tables: NDArray[np.float32]
    pref_tables: NDArray[np.float32]
    credit_floor: float
    credit_sure: float
    preferred_share: float
    online: bool
    origin: NDArray[np.float64]
    radius_km: float
    cat_rows: NDArray[np.int32]
    cat_hours: NDArray[np.float32]
    org_rows: NDArray[np.int32]
    org_hours: NDArray[np.float32]
    w_category: float
    category_hours_scale: float
    w_organisation: float
    organisation_hours_scale: float
    cert_ok: NDArray[np.bool_]
    age_cutoff: int
    weights: NDArray[np.float64]


class ScreenSearch(NamedTuple):
    """One search's own part: per block, bounds on what category and organisation experience
    add to the static past-service part (``past_extra``) and on the skills part (``skill_ub``)
    (see :func:`block_bounds`); and who is ``excluded`` (booked on an overlapping shift or on a
    blackout date; empty: nobody)."""

    past_extra: NDArray[np.float32]
    skill_ub: NDArray[np.float64]
    excluded: NDArray[np.bool_]


@numba.njit(cache=True, nogil=True)
def _screen(  # pragma: no cover - compiled; the wrapper below documents the arguments
    blocks: Any,
    starts: Any,
    counts_per_block: Any,
    extra_rows: Any,
    extra_listed: Any,
    v_block: Any,
    avail: Any,
    v_tz: Any,
    v_sig: Any,
    sk_offset: Any,
    sk_length: Any,
    sk_codes: Any,
    v_online: Any,
    v_xyz: Any,
    v_travel: Any,
    v_static: Any,
    v_birth: Any,
    zone: Any,
    mask_words: Any,
    mask_minutes: Any,
    total_minutes: Any,
    req_sigs: Any,
    req_tables: Any,
    pref_tables: Any,
    credit_floor: Any,
    credit_sure: Any,
    preferred_share: Any,
    online: Any,
    origin: Any,
    radius_km: Any,
    cat_rows: Any,
    cat_hours: Any,
    org_rows: Any,
    org_hours: Any,
    w_category: Any,
    category_hours_scale: Any,
    w_organisation: Any,
    organisation_hours_scale: Any,
    cert_ok: Any,
    age_cutoff: Any,
    weights: Any,
    past_extra: Any,
    skill_ub: Any,
    excluded: Any,
    floor: Any,
    heap: Any,
) -> Any:
    # The candidate rows: each block's range, then the rows added to blocks later.
    total = extra_rows.shape[0]
    for i in range(blocks.shape[0]):
        total += counts_per_block[i]
    rows = np.empty(total, dtype=np.int32)
    listed = np.empty(total, dtype=np.int32)
    n = 0
    for i in range(blocks.shape[0]):
        for r in range(starts[i], starts[i] + counts_per_block[i]):
            rows[n] = r
            listed[n] = blocks[i]
            n += 1
    for i in range(extra_rows.shape[0]):
        rows[n] = extra_rows[i]
        listed[n] = extra_listed[i]
        n += 1

    counts = np.zeros(len(COUNTS), dtype=np.int64)
    bound = np.empty(n, dtype=np.float64)
    if heap.shape[0] > 0:
        floor = max(floor, heap[0])
    k = 0
    for i in range(n):
        r = rows[i]
        b = listed[i]
        if v_block[r] != b:
            continue
        counts[0] += 1
        sure = True  # every rule certainly passed: the row's lower bound may raise the floor
        coverage = 1.0  # rows in another time zone are not screened for availability
        if v_tz[r] == zone:
            minutes = 0.0
            for j in range(mask_minutes.shape[0]):
                for w in range(mask_words.shape[1]):
                    m = mask_words[j, w]
                    if m != 0:
                        minutes += float(_popcount(avail[w, r] & m)) * mask_minutes[j]
            if minutes <= 0.0:
                counts[1] += 1
                continue
            coverage = min(minutes / total_minutes, 1.0)
        else:
            sure = False
        # Bounds from the parts known so far (the others at their best) end the work on most
        # rows early once the floor is known; only the full bound below is returned.
        static = float(v_static[r])
        past = min(static + float(past_extra[b]), 1.0)
        partial = weights[2] * coverage + weights[3] * past + BOUND_SLACK
        skills_best = weights[0] * skill_ub[b]
        if skills_best + weights[1] + partial < floor:
            continue
        if req_sigs.shape[0] > 0:
            signature = v_sig[r]
            held = True
            for t in range(req_sigs.shape[0]):
                if (signature & req_sigs[t]) == 0:
                    held = False
            if not held:
                counts[2] += 1
                continue
        distance_part = 1.0
        distance_low = 1.0
        if online:
            if not v_online[r]:
                counts[3] += 1
                continue
            partial += weights[1]
        else:
            dx = float(v_xyz[r, 0]) - origin[0]
            dy = float(v_xyz[r, 1]) - origin[1]
            dz = float(v_xyz[r, 2]) - origin[2]
            chord = math.sqrt(dx * dx + dy * dy + dz * dz)
            # The chord times the radius is a lower bound on the distance along the sphere
            # (within 2 cm of it up to 30 km): no arcsine for most rows.
            d = EARTH_RADIUS_KM * chord
            limit = float(v_travel[r])
            if d > limit + DISTANCE_MARGIN_KM:
                counts[4] += 1
                continue
            if d > radius_km + DISTANCE_MARGIN_KM:
                counts[5] += 1
                continue
            # The distance factor's curve (matcher.matching.factors.distance.decay) at a distance
            # no greater than the exact one: an upper bound on the row's distance part.
            scale = max(limit, MIN_LIMIT_KM)
            ratio = 2.0 * max(d - DISTANCE_MARGIN_KM, 0.0) / scale
            distance_part = 1.0 / (1.0 + ratio * ratio)
            partial += weights[1] * distance_part
            if skills_best + partial < floor:
                continue
            far = 2.0 * EARTH_RADIUS_KM * math.asin(min(chord * 0.5, 1.0)) + DISTANCE_MARGIN_KM
            if far > limit or far > radius_km:
                sure = False
            ratio = 2.0 * far / scale
            distance_low = 1.0 / (1.0 + ratio * ratio)
        skills_part = 1.0  # no required or preferred skill: every row scores 1
        if req_tables.shape[0] > 0 or pref_tables.shape[0] > 0:
            # The row's own skills part, as matcher.matching.factors.skills scores it: the best credit
            # among its skills towards each required and preferred skill.
            o = sk_offset[r]
            held_n = sk_length[r]
            req_sum = 0.0
            lacking = False
            for t in range(req_tables.shape[0]):
                credit = 0.0
                for e in range(o, o + held_n):
                    credit = max(credit, float(req_tables[t, sk_codes[e]]))
                if credit < credit_floor:
                    lacking = True
                    break
                if credit < credit_sure:
                    sure = False
                req_sum += credit
            if lacking:
                counts[2] += 1
                continue
            pref_sum = 0.0
            for t in range(pref_tables.shape[0]):
                credit = 0.0
                for e in range(o, o + held_n):
                    credit = max(credit, float(pref_tables[t, sk_codes[e]]))
                pref_sum += credit
            skills_part = _skills_blend(
                req_sum, req_tables.shape[0], pref_sum, pref_tables.shape[0], preferred_share
            )
        best = weights[0] * skills_part + partial
        if best < floor:
            continue
        # Past service exactly (matcher.matching.factors.past_service) now that few rows are left: the
        # row's own category and organisation hours instead of the block's best.
        cat_h = _hours_of(cat_rows, cat_hours, r)
        org_h = _hours_of(org_rows, org_hours, r)
        past = static
        if cat_h > 0.0:
            past += w_category * (1.0 - math.exp(-cat_h / category_hours_scale))
        if org_h > 0.0:
            past += w_organisation * (1.0 - math.exp(-org_h / organisation_hours_scale))
        past = min(max(past, 0.0), 1.0)
        best = (
            weights[0] * skills_part
            + weights[1] * distance_part
            + weights[2] * coverage
            + weights[3] * past
            + BOUND_SLACK
        )
        if best < floor:
            continue
        # The rules the exact path checks on integers and flags, checked the same way.
        if cert_ok.shape[0] > 0 and not cert_ok[r]:
            counts[6] += 1
            continue
        if v_birth[r] > age_cutoff:
            counts[7] += 1
            continue
        if excluded.shape[0] > 0 and excluded[r]:
            counts[8] += 1
            continue
        if sure and heap.shape[0] > 0:
            # A total this row certainly reaches (distance at the far end of the float error,
            # the rest within rounding); k such rows set a floor.
            low = (
                weights[0] * skills_part
                + weights[1] * distance_low
                + weights[2] * coverage
                + weights[3] * past
                - 2.0 * BOUND_SLACK
            )
            _offer_lower_bound(heap, low)
            floor = max(floor, heap[0])
        rows[k] = r  # k <= i: compacting in place never overwrites a row still to be read
        bound[k] = best
        k += 1
    return rows[:k], bound[:k], counts


@numba.njit(cache=True, nogil=True)
def _permute_ragged(indptr: Any, values: Any, perm: Any) -> Any:  # pragma: no cover - compiled
    n = perm.shape[0]
    out_ptr = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        p = perm[i]
        out_ptr[i + 1] = out_ptr[i] + indptr[p + 1] - indptr[p]
    out = np.empty(out_ptr[n], dtype=values.dtype)
    for i in range(n):
        p = perm[i]
        start = out_ptr[i]
        for j in range(indptr[p], indptr[p + 1]):
            out[start] = values[j]
            start += 1
    return out_ptr, out


def permute_ragged(
    indptr: NDArray[np.int64], values: NDArray[np.int32], perm: NDArray[np.intp]
) -> tuple[NDArray[np.int64], NDArray[np.int32]]:
    """Lists ``values[indptr[i]:indptr[i + 1]]`` reordered so that list ``i`` of the result is
    list ``perm[i]`` of the input (one pass; the index build reorders every volunteer's
    skills, certificates and blackout dates this way)."""
    out_ptr, out = _permute_ragged(
        indptr.astype(np.int64, copy=False), values, perm.astype(np.int64, copy=False)
    )
    return out_ptr, out


@numba.njit(cache=True, nogil=True)
def _counting_order(values: Any, n_values: int) -> Any:  # pragma: no cover - compiled
    starts = np.zeros(n_values + 1, dtype=np.int64)
    for i in range(values.shape[0]):
        starts[values[i] + 1] += 1
    for v in range(n_values):
        starts[v + 1] += starts[v]
    out = np.empty(values.shape[0], dtype=np.int64)
    for i in range(values.shape[0]):
        v = values[i]
        out[starts[v]] = i
        starts[v] += 1
    return out


@numba.njit(cache=True, nogil=True)
def _expand(starts: Any, lengths: Any) -> Any:  # pragma: no cover - compiled
    total = 0
    for i in range(lengths.shape[0]):
        total += lengths[i]
    owner = np.empty(total, dtype=np.int32)
    positions = np.empty(total, dtype=np.int64)
    j = 0
    for i in range(lengths.shape[0]):
        start = starts[i]
        for t in range(lengths[i]):
            owner[j] = i
            positions[j] = start + t
            j += 1
    return owner, positions


def expand(
    starts: NDArray[np.integer[Any]], lengths: NDArray[np.integer[Any]]
) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
    """For ranges ``[starts[i], starts[i] + lengths[i])``: the owner ``i`` of each element and
    its absolute position, flattened (a nested loop, in one pass: numpy needed seven calls,
    a quarter of a volunteer's recommendations)."""
    owner: NDArray[np.int32]
    positions: NDArray[np.int64]
    owner, positions = _expand(starts.astype(np.int64, copy=False), lengths.astype(np.int64, copy=False))
    return owner, positions


def stable_order(values: NDArray[np.integer[Any]]) -> NDArray[np.int64]:
    """``np.argsort(values, kind="stable")`` for non-negative integers, by counting: O(n + max)
    instead of a comparison sort (rows, codes and keys of the index are such integers)."""
    if values.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    low, high = int(values.min()), int(values.max())
    if low < 0:
        raise ValueError("stable_order takes non-negative integers")
    order: NDArray[np.int64] = _counting_order(values, high + 1)
    return order


@numba.njit(cache=True, nogil=True)
def _ragged_signatures(indptr: Any, values: Any) -> Any:  # pragma: no cover - compiled
    n = indptr.shape[0] - 1
    out = np.zeros(n, dtype=np.uint64)
    for i in range(n):
        sig = np.uint64(0)
        for j in range(indptr[i], indptr[i + 1]):
            sig |= np.uint64(1) << np.uint64(values[j] % 64)
        out[i] = sig
    return out


def ragged_signatures(indptr: NDArray[np.int64], values: NDArray[np.int32]) -> NDArray[np.uint64]:
    """Per list, the OR of ``1 << (value % 64)`` over its values (see
    :meth:`matcher.matching.index.MatchIndex.skill_signature`)."""
    out: NDArray[np.uint64] = _ragged_signatures(indptr, values)
    return out


@numba.njit(cache=True, nogil=True)
def _gather_columns(matrix: Any, perm: Any) -> Any:  # pragma: no cover - compiled
    out = np.empty((matrix.shape[1], perm.shape[0]), dtype=matrix.dtype)
    for i in range(perm.shape[0]):
        p = perm[i]
        for w in range(matrix.shape[1]):
            out[w, i] = matrix[p, w]
    return out


def gather_transposed(matrix: NDArray[np.uint64], perm: NDArray[np.intp]) -> NDArray[np.uint64]:
    """``matrix[perm].T`` as a contiguous (columns, rows) array, in one pass."""
    out: NDArray[np.uint64] = _gather_columns(np.ascontiguousarray(matrix), perm.astype(np.int64, copy=False))
    return out


BLOCK_STATUS = ("kept", "availability", "skills", "reach")
"""Why :func:`block_bounds` set a block aside, by status code (0: kept)."""


@numba.njit(cache=True, nogil=True)
def _block_bounds(  # pragma: no cover - compiled; the wrapper below documents the arguments
    cells: Any,
    cell_km: Any,
    cell_start: Any,
    cell_blocks: Any,
    block_radius_km: Any,
    cell_max_travel: Any,
    max_block_radius_km: float,
    online: bool,
    reach_km: float,
    block_max_travel: Any,
    block_zone: Any,
    block_avail: Any,
    zone: int,
    mask_words: Any,
    mask_minutes: Any,
    total_minutes: float,
    req_credits: Any,
    pref_credits: Any,
    credit_floor: float,
    preferred_share: float,
    block_max_static: Any,
    cat_hours: Any,
    w_category: float,
    category_hours_scale: float,
    w_organisation: float,
    weights: Any,
) -> Any:
    n = 0
    for c in range(cells.shape[0]):
        n += cell_start[cells[c] + 1] - cell_start[cells[c]]
    visited = np.empty(n, dtype=np.int32)
    kept = np.empty(n, dtype=np.int32)
    bound = np.empty(n, dtype=np.float64)
    past_extra = np.empty(n, dtype=np.float32)
    skill_ub = np.empty(n, dtype=np.float64)
    status = np.zeros(n, dtype=np.int8)
    i = -1
    k = 0
    for c in range(cells.shape[0]):
        # A cell none of whose members could travel from is skipped whole.
        if not online and cell_km[c] - max_block_radius_km > min(float(cell_max_travel[cells[c]]), reach_km):
            continue
        for j in range(cell_start[cells[c]], cell_start[cells[c] + 1]):
            i += 1
            b = cell_blocks[j]
            visited[i] = b
            # No member is nearer than the cell centre's distance less the block's radius.
            lower_km = max(cell_km[c] - block_radius_km[b], 0.0)
            distance_part = 1.0
            if not online:
                travel = float(block_max_travel[b])
                if lower_km > min(travel, reach_km):
                    status[i] = 3
                    continue
                ratio = 2.0 * lower_km / max(travel, MIN_LIMIT_KM)
                distance_part = 1.0 / (1.0 + ratio * ratio)
            coverage = 1.0  # members in several or other time zones: no bound from the windows
            if block_zone[b] == zone + 1:
                minutes = 0.0
                for j in range(mask_minutes.shape[0]):
                    for w in range(mask_words.shape[1]):
                        m = mask_words[j, w]
                        if m != 0:
                            minutes += float(_popcount(block_avail[b, w] & m)) * mask_minutes[j]
                if minutes <= 0.0:
                    status[i] = 1
                    continue
                coverage = min(minutes / total_minutes, 1.0)
            skills_part = 1.0
            if req_credits.shape[0] > 0 or pref_credits.shape[0] > 0:
                req_sum = 0.0
                lacking = False
                for t in range(req_credits.shape[0]):
                    credit = float(req_credits[t, b])
                    if credit < credit_floor:
                        lacking = True
                        break
                    req_sum += credit
                if lacking:
                    status[i] = 2
                    continue
                pref_sum = 0.0
                for t in range(pref_credits.shape[0]):
                    pref_sum += float(pref_credits[t, b])
                skills_part = _skills_blend(
                    req_sum, req_credits.shape[0], pref_sum, pref_credits.shape[0], preferred_share
                )
            extra = (
                w_category * (1.0 - math.exp(-float(cat_hours[b]) / category_hours_scale)) + w_organisation
            )
            past_extra[k] = extra
            skill_ub[k] = skills_part
            past = min(float(block_max_static[b]) + extra, 1.0)
            kept[k] = b
            bound[k] = (
                weights[0] * skills_part
                + weights[1] * distance_part
                + weights[2] * coverage
                + weights[3] * past
                + BOUND_SLACK
            )
            k += 1
    return visited[: i + 1], kept[:k], bound[:k], past_extra[:k], skill_ub[:k], status[: i + 1]


def block_bounds(
    cells: NDArray[np.int64],
    cell_km: NDArray[np.float64],
    cell_start: NDArray[np.int64],
    cell_blocks: NDArray[np.int32],
    *,
    block_radius_km: NDArray[np.float64],
    cell_max_travel: NDArray[np.float32],
    max_block_radius_km: float,
    online: bool,
    reach_km: float,
    block_max_travel: NDArray[np.float32],
    block_zone: NDArray[np.int16],
    block_avail: NDArray[np.uint64],
    zone: int,
    mask_words: NDArray[np.uint64],
    mask_minutes: NDArray[np.float64],
    total_minutes: float,
    req_credits: NDArray[np.float32],
    pref_credits: NDArray[np.float32],
    credit_floor: float,
    preferred_share: float,
    block_max_static: NDArray[np.float32],
    cat_hours: NDArray[np.float32],
    w_category: float,
    category_hours_scale: float,
    w_organisation: float,
    weights: NDArray[np.float64],
) -> tuple[
    NDArray[np.int32],
    NDArray[np.int32],
    NDArray[np.float64],
    NDArray[np.float32],
    NDArray[np.float64],
    NDArray[np.int8],
]:
    """Per block of some cells, the best total any member could reach; blocks where nobody can
    qualify are set aside. Returns the blocks visited, the kept blocks with their bounds and two
    parts of them (below), and a status per visited block (the index into :data:`BLOCK_STATUS`).

    The cells are :meth:`matcher.matching.index.SpatialBlocks.near_cells` (``cell_km``: the distance of
    each cell's centre; ``cell_start``, ``cell_blocks``: the blocks of every cell); cells whose
    nearest possible point (less ``max_block_radius_km``) is beyond ``cell_max_travel``, the
    largest travel limit of their members, are skipped whole and not listed. The bound
    takes distance from the block's nearest possible point (the centre's distance less the
    block's radius ``block_radius_km``) and its largest
    travel limit, availability from the members' pooled windows (blocks of the shift's own time
    zone ``zone``; others are bounded by 1), skills from the best credit any member earns
    towards each required (``req_credits``, (required, blocks + 1)) and preferred skill, and past
    service from the best static part plus what category and organisation experience can add,
    as :mod:`matcher.matching.factors.past_service` scores them. That last addition and the skills bound
    are returned per kept block (``past_extra``, ``skill_ub``): :func:`screen` bounds rows with them.
    """
    return _block_bounds(  # type: ignore[no-any-return]
        cells,
        cell_km,
        cell_start,
        cell_blocks,
        block_radius_km,
        cell_max_travel,
        max_block_radius_km,
        online,
        reach_km,
        block_max_travel,
        block_zone,
        block_avail,
        zone,
        mask_words,
        mask_minutes,
        total_minutes,
        req_credits,
        pref_credits,
        credit_floor,
        preferred_share,
        block_max_static,
        cat_hours,
        w_category,
        category_hours_scale,
        w_organisation,
        weights,
    )


def screen(
    blocks: NDArray[np.int32],
    starts: NDArray[np.int64],
    counts: NDArray[np.int64],
    extra_rows: NDArray[np.int32],
    extra_listed: NDArray[np.int32],
    columns: ScreenColumns,
    shift: ScreenShift,
    search: ScreenSearch,
    *,
    floor: float,
    heap: NDArray[np.float64],
) -> tuple[NDArray[np.int32], NDArray[np.float64], NDArray[np.int64]]:
    """The rows of some blocks worth judging exactly, a bound on each one's total, and counts in
    the order of :data:`COUNTS`.

    Rows are dropped when a rule certainly fails or when their bound is below the floor: the
    larger of ``floor`` and the smallest value in ``heap``, a min-heap of size k that keeps the
    largest totals that rows which certainly pass every rule are certain to reach (a lower bound
    per row, so the k-th of them is never above the true k-th best total). The heap carries
    over between calls of one search; an empty one disables it.

    Parameters
    ----------
    blocks, starts, counts : (b,) blocks and the contiguous range of rows each was built with
    extra_rows, extra_listed : (e,) rows added to those blocks later, and their block
    columns, shift, search : the volunteers' columns, the shift's constants, this search's part
    floor : the k-th best total so far (``-inf``: keep every eligible row)
    heap : (k,) min-heap of certain totals, updated in place (initially ``-inf``)
    """
    rows, bound, tally = _screen(
        blocks, starts, counts, extra_rows, extra_listed, *columns, *shift, *search, floor, heap
    )
    return rows, bound, tally
