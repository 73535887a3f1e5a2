"""The rules of telling people, as properties over any moment, zone and quiet hours: a message
released from quiet hours goes out at the first moment outside them, never earlier and never
inside them; a reminder comes before its shift and outside quiet hours; phone numbers are read
as people write them, and refused when they are not numbers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.model.calendar import zone
from matcher.model.errors import ValidationError
from matcher.operations.notices import (
    REMINDER_MARGIN_S,
    NoticePreferences,
    check_reminder_minutes,
    normalise_phone,
    reminder_due_s,
)

ZONES = ["Asia/Shanghai", "Europe/London", "America/New_York", "Australia/Lord_Howe", "UTC"]
moments = st.integers(1_767_225_600, 1_830_297_600)  # 2026 to 2028, across changes of clocks
clock = st.tuples(st.integers(0, 23), st.sampled_from([0, 15, 30, 45])).map(
    lambda hm: f"{hm[0]:02d}:{hm[1]:02d}"
)


def quiet_hours(start: str, end: str) -> NoticePreferences:
    return NoticePreferences(quiet_start=start, quiet_end=end)


@settings(max_examples=300, deadline=None)
@given(moments, st.sampled_from(ZONES), clock, clock)
def test_a_released_message_goes_at_the_first_moment_outside_quiet_hours(
    at_s: int, tz: str, start: str, end: str
) -> None:
    if start == end:
        return
    prefs = quiet_hours(start, end)
    out = prefs.release_s(at_s, tz)
    assert out >= at_s
    assert not prefs.quiet(out, tz) or _skipped_by_clock_change(out, tz)
    if out > at_s:  # held back: every minute until then was quiet
        assert prefs.quiet(at_s, tz) and out - at_s <= 24 * 3600 + 3600
        assert all(prefs.quiet(s, tz) for s in range(at_s, out, 600))


def _skipped_by_clock_change(at_s: int, tz: str) -> bool:
    """The wall-clock end of quiet hours fell in an hour the clocks skipped that day."""
    local = datetime.fromtimestamp(at_s, zone(tz))
    return local.utcoffset() != datetime.fromtimestamp(at_s - 3600, zone(tz)).utcoffset()


@settings(max_examples=300, deadline=None)
@given(moments, st.sampled_from(ZONES), st.sampled_from([10, 60, 120, 1440, 2880]), clock, clock)
def test_a_reminder_comes_before_its_shift_and_outside_quiet_hours(
    starts_s: int, tz: str, minutes: int, start: str, end: str
) -> None:
    if start == end:
        return
    prefs = quiet_hours(start, end)
    due = reminder_due_s(starts_s, minutes, tz, prefs)
    assert due < starts_s
    moved = due != starts_s - minutes * 60
    if moved:  # out of quiet hours, either later (still ahead of the shift) or just before they began
        assert not prefs.quiet(due, tz) or _skipped_by_clock_change(due, tz)
        assert due <= starts_s - REMINDER_MARGIN_S or due < starts_s - minutes * 60


def test_quiet_hours_in_beijing_default_to_22_to_7() -> None:
    prefs = NoticePreferences()
    at_night = datetime(2026, 12, 1, 23, 30, tzinfo=zone("Asia/Shanghai"))
    morning = datetime(2026, 12, 2, 7, 0, tzinfo=zone("Asia/Shanghai"))
    assert prefs.quiet(int(at_night.timestamp()), "Asia/Shanghai")
    assert prefs.release_s(int(at_night.timestamp()), "Asia/Shanghai") == int(morning.timestamp())
    noon = at_night.replace(hour=12)
    assert prefs.release_s(int(noon.timestamp()), "Asia/Shanghai") == int(noon.timestamp())
    # A reminder 2 h before an 08:00 shift would be 06:00: at 07:00 instead, an hour ahead.
    starts = datetime(2026, 12, 5, 8, tzinfo=zone("Asia/Shanghai"))
    assert reminder_due_s(int(starts.timestamp()), 120, "Asia/Shanghai", prefs) == int(
        (starts - timedelta(hours=1)).timestamp()
    )
    # 2 h before a 07:15 shift: 07:00 leaves too little, so the evening before, as quiet hours begin.
    early = datetime(2026, 12, 5, 7, 15, tzinfo=zone("Asia/Shanghai"))
    evening = datetime(2026, 12, 4, 21, 59, tzinfo=zone("Asia/Shanghai"))
    assert reminder_due_s(int(early.timestamp()), 120, "Asia/Shanghai", prefs) == int(evening.timestamp())


@pytest.mark.parametrize(
    ("given_as", "number"),
    [
        ("13800138000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("１３８００１３８０００", "+8613800138000"),  # full-width digits, as phones type them
        ("0044 7700 900123", "+447700900123"),
        ("+1 (212) 555-0100", "+12125550100"),
    ],
)
def test_phone_numbers_are_read_as_people_write_them(given_as: str, number: str) -> None:
    assert normalise_phone(given_as) == number


@pytest.mark.parametrize(
    "bad", ["", "12345", "+86 123 4567 8901", "call me", "+0 123 456 789", "1380013800０0x"]
)
def test_what_is_not_a_phone_number_is_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(ValidationError) as e:
        normalise_phone(bad)
    assert e.value.field == "phone"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"channels": ["fax"]}, "channels"),
        ({"channels": ["sms"]}, "channels"),  # not offered
        ({"muted": ["phone_code"]}, "muted"),
        ({"quiet_start": "22:00", "quiet_end": "07:00", "overnight": False}, "quiet_hours.end"),
        ({"quiet_start": "08:00", "quiet_end": "09:00", "overnight": True}, "quiet_hours.overnight"),
        ({"quiet_start": "8:00"}, "quiet_hours.start"),
        ({"quiet_start": "07:00", "quiet_end": "07:00"}, "quiet_hours.end"),
        ({"max_per_week": 101}, "max_per_week"),
    ],
)
def test_choices_are_checked_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    given_as: dict[str, object] = {
        "channels": ["email"], "muted": [], "quiet_start": "22:00", "quiet_end": "07:00", "overnight": True,
        "max_per_week": 5, "language": "zh", "offered": ("email",),
    } | kwargs  # fmt: skip
    with pytest.raises(ValidationError) as e:
        NoticePreferences.checked(**given_as)  # type: ignore[arg-type]
    assert e.value.field == field


def test_reminder_times_are_checked() -> None:
    assert check_reminder_minutes([120, 1440, 120]) == (1440, 120)
    for bad in ([5], [20161], [10, 20, 30, 40, 50, 60]):
        with pytest.raises(ValidationError):
            check_reminder_minutes(bad)
