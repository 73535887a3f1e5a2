"""Time zones, DST and weekly slots, checked against a minute-by-minute reference computed here
independently with zoneinfo."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.model.calendar import (
    availability_bits,
    epoch_seconds,
    local_day_numbers,
    shift_mask,
    slot_table,
    unpack_slots,
    walk_slots,
)
from matcher.model.domain import WeeklyWindow
from matcher.model.errors import ValidationError

ZONES = ["Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"]


def reference_covered_minutes(windows: list[WeeklyWindow], tz: str, start: datetime, end: datetime) -> float:
    """Minutes of [start, end) whose local wall-clock time lies in a window, minute by minute.
    Windows are first rounded inward to half hours, as the index does."""
    slots = unpack_slots(availability_bits(windows))
    zi = ZoneInfo(tz)
    t, minutes = start, 0.0
    while t < end:
        local = t.astimezone(zi)
        slot = (local.weekday() * 1440 + local.hour * 60 + local.minute) // 30
        minutes += 1.0 if slots[slot] else 0.0
        t += timedelta(minutes=1)
    return minutes


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(ZONES),
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)),
    st.integers(1, 36 * 60),
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 47), st.integers(1, 20)), max_size=5),
)
def test_shift_coverage_matches_minute_reference(
    tz: str, start_naive: datetime, minutes: int, raw: list[tuple[int, int, int]]
) -> None:
    start = start_naive.replace(second=0, microsecond=0, tzinfo=UTC)
    end = start + timedelta(minutes=minutes)
    windows = [WeeklyWindow(d, s * 30, s * 30 + n * 30) for d, s, n in raw]
    mask = shift_mask(start, end, tz)
    avail = availability_bits(windows).reshape(-1, 1)
    covered = float(mask.covered_minutes(avail, np.array([0]))[0])
    assert covered == pytest.approx(reference_covered_minutes(windows, tz, start, end), abs=0.01)
    assert mask.total_minutes == pytest.approx(minutes)


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(ZONES),
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)),
    st.integers(1, 3000),
)
def test_vectorised_slot_table_equals_walk(tz: str, start_naive: datetime, minutes: int) -> None:
    start = epoch_seconds(start_naive.replace(microsecond=0, tzinfo=UTC))
    table = slot_table(np.array([start]), np.array([start + minutes * 60]), tz)
    walked = walk_slots(start, start + minutes * 60, tz)
    got: dict[int, float] = {}
    for s, m in zip(table.slots.tolist(), table.minutes.tolist(), strict=True):
        got[s] = got.get(s, 0.0) + m
    assert set(got) == {s for s, m in walked.items() if m > 0} | {s for s, m in got.items() if m == 0}
    for slot, m in walked.items():
        assert got.get(slot, 0.0) == pytest.approx(m, abs=1e-3)


def test_dst_night_shift_lengths_in_new_york() -> None:
    ny = ZoneInfo("America/New_York")
    # 01:00-03:00 local on the spring-forward night lasts one hour, on the fall-back night three.
    spring = shift_mask(
        datetime(2026, 3, 8, 1, tzinfo=ny), datetime(2026, 3, 8, 3, tzinfo=ny), "America/New_York"
    )
    autumn_start = datetime(2026, 11, 1, 1, tzinfo=ny)  # first 01:00 (EDT)
    autumn = shift_mask(autumn_start, datetime(2026, 11, 1, 3, tzinfo=ny), "America/New_York")
    assert spring.total_minutes == 60
    assert autumn.total_minutes == 180


def test_shanghai_saturday_shift_seen_from_london_moves_with_bst() -> None:
    windows = [WeeklyWindow.parse("sat", "00:00", "06:00")]
    avail = availability_bits(windows).reshape(-1, 1)
    cst = ZoneInfo("Asia/Shanghai")
    # Saturday 08:00-12:00 in Shanghai is Saturday 01:00-05:00 in London in summer (BST, UTC+1)
    # and 00:00-04:00 in winter (GMT): covered both times by a Saturday 00:00-06:00 window.
    summer = shift_mask(
        datetime(2026, 7, 4, 8, tzinfo=cst), datetime(2026, 7, 4, 12, tzinfo=cst), "Europe/London"
    )
    winter = shift_mask(
        datetime(2026, 12, 5, 8, tzinfo=cst), datetime(2026, 12, 5, 12, tzinfo=cst), "Europe/London"
    )
    assert summer.share(avail, np.array([0]))[0] == pytest.approx(1.0)
    assert winter.share(avail, np.array([0]))[0] == pytest.approx(1.0)
    # A Saturday 04:30-06:00 window covers 30 of the summer shift's minutes and none in winter.
    late = availability_bits([WeeklyWindow.parse("sat", "04:30", "06:00")]).reshape(-1, 1)
    assert summer.share(late, np.array([0]))[0] == pytest.approx(0.125)
    assert winter.share(late, np.array([0]))[0] == 0


def test_overnight_window_wraps_past_midnight_and_week_end() -> None:
    w = WeeklyWindow.parse("sun", "22:00", "02:00")
    slots = unpack_slots(availability_bits([w]))
    assert slots[6 * 48 + 44] and slots[6 * 48 + 47] and slots[0] and slots[3] and not slots[4]


def test_window_rounding_never_overstates() -> None:
    slots = unpack_slots(availability_bits([WeeklyWindow.parse("mon", "08:10", "09:50")]))
    assert np.flatnonzero(slots).tolist() == [17, 18]  # 08:30-09:30 only


@pytest.mark.parametrize(
    ("day", "start", "end"),
    [("sat", "25:00", "26:00"), ("xyz", "08:00", "09:00"), ("sat", "08:00", "08:00"), ("sat", "8h", "9h")],
)
def test_bad_windows_are_refused(day: str, start: str, end: str) -> None:
    with pytest.raises(ValidationError):
        WeeklyWindow.parse(day, start, end)


def test_local_days_of_a_shift_ending_at_midnight() -> None:
    cst = ZoneInfo("Asia/Shanghai")
    s = epoch_seconds(datetime(2026, 12, 5, 20, tzinfo=cst))
    e = epoch_seconds(datetime(2026, 12, 6, 0, tzinfo=cst))
    first, last = local_day_numbers(np.array([s]), np.array([e]), "Asia/Shanghai")
    assert first[0] == last[0]
