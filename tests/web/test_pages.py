"""The console's parts that need no browser: every word in both languages, the availability
grid's round trip, and the sign-in, CSRF and role rules over the app in process."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from api.web import i18n
from api.web.profile import BLOCKS, DAYS, grid, windows

CELLS = [f"{d}:{a}" for d in DAYS for a, _ in BLOCKS]


def test_every_message_has_both_languages() -> None:
    for key, (zh, en) in i18n.MESSAGES.items():
        assert zh.strip() and en.strip(), key
        assert zh != en or key in ("app",), key


def test_the_language_is_the_choice_then_the_browser_then_chinese() -> None:
    assert i18n.pick_language("en", "zh-CN") == "en"
    assert i18n.pick_language(None, "en-GB,en;q=0.9,zh;q=0.5") == "en"
    assert i18n.pick_language("fr", "de-DE, zh-TW;q=0.4") == "zh"
    assert i18n.pick_language(None, None) == "zh"


@given(st.sets(st.sampled_from(CELLS)))
def test_the_availability_grid_round_trips(cells: set[str]) -> None:
    ws = windows(cells)
    assert grid(ws) == cells
    for w in ws:  # merged: no two windows of a day touch
        assert w["start"] < w["end"]
    by_day = [(w["day"], w["start"], w["end"]) for w in ws]
    for (d1, _, e1), (d2, s2, _) in itertools.pairwise(by_day):
        assert d1 != d2 or e1 < s2


def test_windows_finer_than_the_grid_show_the_blocks_they_cover_whole() -> None:
    assert grid([{"day": "sat", "start": "08:00", "end": "12:00"}]) == {"sat:8", "sat:10"}
    assert grid([{"day": "sat", "start": "09:00", "end": "11:00"}]) == set()
    assert grid([{"day": "sun", "start": "20:00", "end": "00:00"}]) == {"sun:20"}


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_text_colours_meet_wcag_aa_contrast() -> None:
    """Every text colour of the style sheet against the backgrounds it is used on: at least
    4.5:1 (WCAG 2 AA for normal text)."""
    import re
    from pathlib import Path

    import api.web

    css = (Path(api.web.__file__).parent / "static" / "app.css").read_text()
    var = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", css))
    pairs = [("ink", "bg"), ("muted", "bg"), ("muted", "soft"), ("ink", "soft"), ("accent-ink", "accent"),
             ("accent", "bg"), ("bad", "#fde8e8"), ("ok", "#e6f4ea")]  # fmt: skip
    for text, background in pairs:
        fg, bg = var[text], var.get(background, background)
        assert contrast(fg, bg) >= 4.5, (text, background, round(contrast(fg, bg), 2))


def test_saving_the_grid_keeps_the_hours_of_days_left_alone() -> None:
    import json

    from starlette.datastructures import FormData

    from api.web.profile import _availability

    before = [
        {"day": "mon", "start": "09:00", "end": "17:00"},
        {"day": "sat", "start": "07:00", "end": "19:00"},
    ]
    shown = sorted(grid(before))
    unchanged = FormData([("avail_before", json.dumps(before)), *[("avail", c) for c in shown]])
    assert _availability(unchanged) == before
    # Tuesday 08-10 ticked, Saturday 18-20 not touched (it was not a whole block): only Tuesday changes.
    more = FormData([("avail_before", json.dumps(before)), *[("avail", c) for c in [*shown, "tue:8"]]])
    assert _availability(more) == [before[0], {"day": "tue", "start": "08:00", "end": "10:00"}, before[1]]
    # Saturday 08-10 unticked: Saturday is rebuilt from its blocks, Monday stays exact.
    less = FormData([("avail_before", json.dumps(before)), *[("avail", c) for c in shown if c != "sat:8"]])
    assert _availability(less) == [before[0], {"day": "sat", "start": "10:00", "end": "18:00"}]
