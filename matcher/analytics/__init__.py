"""Demand against supply, for analysts and planners.

- :mod:`~matcher.analytics.gaps`: where and when needs outrun the volunteers who could meet
  them, and suggested projects for the largest shortages.
- :mod:`~matcher.analytics.forecast`: weekly service hours by category, their profile and a
  short forecast.
- :mod:`~matcher.analytics.observed`: demand and supply in published data (NYC Service,
  TimeBanks).
"""

from matcher.analytics import forecast, gaps, observed

# The modules themselves: their main functions share their names (gaps.gaps, forecast.forecast).
__all__ = ["forecast", "gaps", "observed"]
