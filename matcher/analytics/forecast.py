"""How demand moves: weekly service hours by category from history, their weekday and
seasonal profile, and a short forecast.

History is what was served (hours on record by date and category); a category's demand is
forecast for the coming weeks as its recent level plus its recent trend, scaled by the season
(the month's share in earlier years, where history covers it):

    forecast(week k) = (level + trend * k) * season(month of week k) / season(this month)

``level`` is the mean of the last :data:`LEVEL_WEEKS` whole weeks, ``trend`` the least-squares
slope over the last :data:`TREND_WEEKS`, and the interval is ±1.96 times the standard deviation
of those weeks around their line. Pure functions over pandas frames.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

LEVEL_WEEKS = 8
TREND_WEEKS = 26
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def weekly(history: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Whole weeks (Monday starts) before ``as_of``: ``week``, ``category``, ``hours``, every
    week of the span present (zero where nothing was served)."""
    if history.empty:
        return pd.DataFrame(columns=["week", "category", "hours"])
    days = pd.to_datetime(history["date"])
    week = (days - pd.to_timedelta(days.dt.day_of_week, unit="D")).dt.date
    this_week = as_of - timedelta(days=as_of.weekday())
    frame = pd.DataFrame({"week": week, "category": history["category"], "hours": history["hours"]})
    frame = frame[frame["week"] < this_week]
    if frame.empty:
        return pd.DataFrame(columns=["week", "category", "hours"])
    weeks = pd.date_range(min(frame["week"]), this_week - timedelta(days=7), freq="7D").date
    grid = pd.MultiIndex.from_product([weeks, sorted(frame["category"].unique())], names=["week", "category"])
    sums = frame.groupby(["week", "category"])["hours"].sum().reindex(grid, fill_value=0.0)
    return sums.reset_index()


def weekday_profile(history: pd.DataFrame) -> pd.DataFrame:
    """Each category's share of hours by weekday (rows add up to 1)."""
    days = pd.to_datetime(history["date"]).dt.day_of_week.map(dict(enumerate(WEEKDAYS)))
    table = history.assign(weekday=days).pivot_table(index="category", columns="weekday", values="hours",
                                                      aggfunc="sum", fill_value=0.0)  # fmt: skip
    table = table.reindex(columns=list(WEEKDAYS), fill_value=0.0)
    return table.div(table.sum(axis=1), axis=0).round(4)


def forecast(weeks: pd.DataFrame, as_of: date, ahead: int = 4) -> pd.DataFrame:
    """``ahead`` weeks per category from :func:`weekly`'s table: ``week``, ``category``,
    ``hours`` (forecast), ``low``, ``high``, ``trend_per_week``."""
    if ahead < 1 or ahead > 26:
        raise ValueError("forecast 1 to 26 weeks ahead")
    rows = []
    this_week = as_of - timedelta(days=as_of.weekday())
    for category, g in weeks.groupby("category", sort=True):
        g = g.sort_values("week")
        series = g["hours"].to_numpy(dtype=np.float64)
        recent = series[-TREND_WEEKS:]
        x = np.arange(len(recent), dtype=np.float64)
        slope, intercept = np.polyfit(x, recent, 1) if len(recent) >= 2 else (0.0, float(recent.mean()))
        spread = float(np.std(recent - (slope * x + intercept))) if len(recent) >= 3 else 0.0
        level = float(series[-LEVEL_WEEKS:].mean())
        months = pd.to_datetime(g["week"]).dt.month.to_numpy()
        by_month = pd.Series(series).groupby(months).mean()
        overall = float(series.mean()) or 1.0
        season = {int(str(m)): float(v) / overall for m, v in by_month.items()} if len(series) >= 52 else {}
        now_factor = season.get(this_week.month, 1.0) or 1.0
        for k in range(1, ahead + 1):
            week = this_week + timedelta(weeks=k - 1)
            factor = season.get(week.month, 1.0) / now_factor
            # The level is centred LEVEL_WEEKS/2 weeks back: carry the trend from there.
            value = max((level + slope * (k - 0.5 + LEVEL_WEEKS / 2)) * factor, 0.0)
            rows.append({"week": week, "category": category, "hours": round(value, 1),
                         "low": round(max(value - 1.96 * spread, 0.0), 1), "high": round(value + 1.96 * spread, 1),
                         "trend_per_week": round(float(slope), 2)})  # fmt: skip
    return pd.DataFrame(rows, columns=["week", "category", "hours", "low", "high", "trend_per_week"])
