"""Hard eligibility rules. Each returns a boolean mask (True = allowed); a pair that fails any rule
never reaches ranking. They are never expressed as a score of 0.

The rules, with the names used when the ranking reports why candidates were excluded:
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

B = NDArray[np.bool_]

RULES: dict[str, tuple[str, str]] = {
    "travel": ("超出其出行距离", "beyond their travel limit"),
    "radius": ("超出搜索半径", "outside the search radius"),
    "no_home": ("未登记住址，且活动不在线上", "no home location and the activity is not online"),
    "not_online": ("不接受线上活动", "does not do online activities"),
    "availability": ("该时段没空", "not available at any time of the shift"),
    "skills": ("缺少必需技能", "missing a required skill"),
    "certification": ("缺少有效证书", "missing a certificate valid on the shift date"),
    "age": ("未达最低年龄", "under the minimum age"),
    "booked": ("已报名时间冲突的班次", "already booked on an overlapping shift"),
    "blackout": ("当天不可服务", "unavailable that day (blackout date)"),
    "full": ("班次已满", "the shift is full"),
    "past": ("班次已开始", "the shift has already started"),
}

DEFAULT_MIN_SKILL_CREDIT = 0.5
"""A required skill counts as held when the volunteer's best credit for it is at least this: the
skill itself (1.0), a narrower one (0.8) or a broader one (0.5), but not a mere sibling (0.3)."""


def within_travel(distance_km: NDArray[np.float32], max_travel_km: NDArray[np.float32]) -> B:
    """The activity is no farther than the volunteer said they would travel."""
    return distance_km <= max_travel_km


def within_radius(distance_km: NDArray[np.float32], radius_km: float) -> B:
    """The organiser's search radius."""
    return distance_km <= np.float32(radius_km)


def available(coverage: NDArray[np.float32]) -> B:
    """Some part of the shift falls inside the volunteer's weekly windows."""
    return coverage > 0


def has_required_skills(min_credit: NDArray[np.float32], threshold: float = DEFAULT_MIN_SKILL_CREDIT) -> B:
    """``min_credit``: per pair, the lowest credit over the activity's required skills."""
    return min_credit >= np.float32(threshold) - np.float32(1e-6)


def old_enough(birth_day: NDArray[np.int32] | int, cutoff_day: NDArray[np.int64] | int) -> B:
    """Born on or before ``cutoff_day`` (the shift date minus the minimum age in years, from
    :func:`age_cutoff_days`); an unknown birth date (stored as a far-future day) fails. Either
    side may be an array (many volunteers for one shift, or one volunteer for many shifts)."""
    return np.asarray(np.asarray(birth_day) <= np.asarray(cutoff_day))


def not_in(rows: NDArray[np.int32], excluded: NDArray[np.bool_]) -> B:
    """Rows not flagged in a per-row exclusion mask (bookings, blackouts, missing certificates)."""
    return ~excluded[rows]


def certified(expiry_day: NDArray[np.int64] | NDArray[np.int32], last_day: NDArray[np.int32] | int) -> B:
    """A certificate valid through the shift's last day (day numbers in the activity's zone)."""
    return np.asarray(expiry_day >= last_day)


def overlaps(start_s: NDArray[np.int64], end_s: NDArray[np.int64], other_start_s: int, other_end_s: int) -> B:
    """Shifts ``[start_s, end_s)`` that overlap ``[other_start_s, other_end_s)`` (a place the
    volunteer already holds): touching ends do not overlap."""
    return (start_s < other_end_s) & (end_s > other_start_s)


def age_cutoff_days(shift_days: NDArray[np.int32], min_ages: NDArray[np.int64]) -> NDArray[np.int64]:
    """Per shift, the last birth day number that makes someone ``min_age`` on day ``shift_day``
    (day numbers since 1970). Someone born on 29 February turns a year older on 1 March in
    common years, so a 29 February shift date in a common target year cuts off on 28 February."""
    d = np.asarray(shift_days).astype("datetime64[D]")
    month_start = d.astype("datetime64[M]")
    months = month_start.astype(np.int64)  # months since January 1970
    mday = (d - month_start).astype(np.int64)  # 0-based day of the month
    year = months // 12 + 1970 - np.asarray(min_ages, dtype=np.int64)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month = months % 12
    mday = np.where((month == 1) & (mday == 28) & ~leap, 27, mday)
    target = ((year - 1970) * 12 + month).astype("datetime64[M]").astype("datetime64[D]") + mday
    out: NDArray[np.int64] = target.astype(np.int64)
    return out


def age_cutoff_day(shift_day: int, min_age: int) -> int:
    """:func:`age_cutoff_days` for one shift."""
    return int(age_cutoff_days(np.array([shift_day], dtype=np.int32), np.array([min_age], dtype=np.int64))[0])
