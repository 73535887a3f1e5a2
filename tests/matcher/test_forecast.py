"""Weekly history, weekday profiles and the forecast on series whose answer is known."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from matcher.analytics import forecast

AS_OF = date(2026, 12, 2)  # a Wednesday: the week of 30 November is not whole yet


def served(weeks: int, hours: callable, category: str = "elderly care") -> pd.DataFrame:  # type: ignore[valid-type]
    """One record each Saturday for ``weeks`` weeks before AS_OF's week, ``hours(i)`` hours."""
    first_saturday = AS_OF - timedelta(days=AS_OF.weekday()) - timedelta(weeks=weeks) + timedelta(days=5)
    return pd.DataFrame(
        [
            {"date": first_saturday + timedelta(weeks=i), "category": category, "hours": float(hours(i))}
            for i in range(weeks)
        ]
    )


def test_a_straight_line_is_continued_exactly() -> None:
    history = served(30, lambda i: 100 + 2 * i)  # 100, 102, ..., 158
    weeks = forecast.weekly(history, AS_OF)
    assert len(weeks) == 30 and weeks["hours"].iloc[-1] == 158.0
    ahead = forecast.forecast(weeks, AS_OF, ahead=3)
    assert ahead["hours"].tolist() == pytest.approx([160.0, 162.0, 164.0])
    assert ahead["trend_per_week"].tolist() == [2.0] * 3
    assert (ahead["low"] == ahead["hours"]).all()  # no noise, no interval


def test_weeks_without_service_count_as_zero_and_the_current_week_is_left_out() -> None:
    history = pd.concat([served(4, lambda i: 10 if i != 1 else 0), pd.DataFrame(
        [{"date": AS_OF, "category": "elderly care", "hours": 99.0}])])  # fmt: skip
    weeks = forecast.weekly(history[history["hours"] > 0], AS_OF)
    assert weeks["hours"].tolist() == [10.0, 0.0, 10.0, 10.0]


def test_weekday_profile_shares() -> None:
    history = pd.DataFrame({"date": [date(2026, 11, 28), date(2026, 11, 28), date(2026, 11, 25)],
                            "category": ["a", "a", "a"], "hours": [3.0, 1.0, 4.0]})  # fmt: skip
    profile = forecast.weekday_profile(history)
    assert (
        profile.loc["a", "Sat"] == 0.5 and profile.loc["a", "Wed"] == 0.5 and profile.loc["a", "Mon"] == 0.0
    )


def test_seasons_scale_the_forecast() -> None:
    # Two years: December weeks twice the rest. Forecasting from late November into December.
    def hours(i: int) -> float:
        week = AS_OF - timedelta(days=AS_OF.weekday()) - timedelta(weeks=104 - i)
        return 20.0 if week.month == 12 else 10.0

    weeks = forecast.weekly(served(104, hours), AS_OF)
    ahead = forecast.forecast(weeks, AS_OF, ahead=3)  # weeks of 30 November, 7 and 14 December
    months = [w.month for w in ahead["week"]]
    assert months == [11, 12, 12]
    assert ahead["hours"].iloc[0] == pytest.approx(10.0, abs=0.5)
    assert (ahead["hours"].iloc[1:] > 1.5 * ahead["hours"].iloc[0]).all()


def test_no_whole_week_of_history_gives_empty_tables() -> None:
    only_this_week = pd.DataFrame([{"date": AS_OF, "category": "a", "hours": 3.0}])
    assert forecast.weekly(only_this_week, AS_OF).empty
    assert forecast.weekly(only_this_week.iloc[:0], AS_OF).empty
