"""What a ranking answers with: :class:`Ranking` (matches with their parts and reasons, what
was looked at, and a note when the list is short), the checks on what callers ask for, and the
explanations: each pair's reasons and the short list's advice, in Chinese and English."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matcher.matching import constraints
from matcher.matching.columns import NO_DAY
from matcher.matching.factors import REGISTRY, ExplainContext, PairFeatures
from matcher.matching.index import MatchIndex
from matcher.matching.scoring import score_parts
from matcher.model.calendar import (
    describe_local,
    describe_local_zh,
)
from matcher.model.domain import Match, Reason, category_label
from matcher.model.errors import ValidationError

MAX_K = 10_000


@dataclass(frozen=True, slots=True)
class Ranking:
    """Ranked matches plus what was looked at: ``excluded`` counts, per hard rule, the candidates
    that the search examined and dropped (a diagnosis of an empty or short list)."""

    matches: tuple[Match, ...]
    considered: int = 0
    excluded: Mapping[str, int] = field(default_factory=dict)
    note: Reason | None = None


def check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise ValidationError("k", f"must be a whole number from 1 to {MAX_K}")


def check_radius(radius_km: float | None) -> None:
    if radius_km is not None and not (np.isfinite(radius_km) and 0 <= radius_km <= 20_000):
        raise ValidationError("radius_km", "must be a finite distance from 0 to 20000 km")


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


def rule_reason(rule: str) -> Reason:
    zh, en = constraints.RULES[rule]
    return Reason(rule, zh, en)


def explain_many(
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
