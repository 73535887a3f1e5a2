"""Demand against supply in real, published data, where only signals of both were recorded.

- NYC Service (NYC Open Data): each posting's volunteers requested (demand) against its page
  views (the attention it got, the nearest thing to supply a listing site records), by
  category, borough and month. ``views_per_request`` low = demand outruns attention.
- TimeBanks.org: per community and category, members' requests (demand) against offers and
  declared talents (supply). ``requests_per_offer`` high = needs outrun what is offered.

Pure functions over the frames of :mod:`matcher.store.datasets`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from matcher.model.errors import ValidationError

NYC_KEYS = ("category", "borough", "month")
TIMEBANK_KEYS = ("category", "timebank")


def _keys(by: Sequence[str], allowed: Sequence[str]) -> list[str]:
    keys = list(by)
    bad = [k for k in keys if k not in allowed]
    if bad or not keys:
        raise ValidationError("by", f"group by one or more of {', '.join(allowed)}")
    return keys


def nyc_table(frame: pd.DataFrame, by: Sequence[str] = ("category",)) -> pd.DataFrame:
    """Volunteers requested and page views per group, views per requested volunteer, least
    viewed first."""
    keys = _keys(by, NYC_KEYS)
    t = frame.groupby(keys, as_index=False).agg(
        postings=("opportunity", "count"), requested=("requested", "sum"), views=("views", "sum")
    )
    t["views_per_request"] = (t["views"] / t["requested"].where(t["requested"] > 0)).round(3)
    return t.sort_values(["views_per_request", *keys], kind="stable").reset_index(drop=True)


def timebank_table(
    frame: pd.DataFrame, by: Sequence[str] = ("category",), min_offers: int = 20
) -> pd.DataFrame:
    """Requests, offers and declared talents per group (groups with at least ``min_offers``
    offers), requests per offer and per talent, most wanted first."""
    keys = _keys(by, TIMEBANK_KEYS)
    t = frame.assign(key=frame["category"].str.casefold()).groupby(
        [*(("key",) if "category" in keys else ()), *(k for k in keys if k != "category")], as_index=False
    ).agg(category=("category", "first"), requests=("requests", "sum"), offers=("offers", "sum"),
          talents=("talents", "sum"))  # fmt: skip
    t = t[t["offers"] >= min_offers].drop(columns=[c for c in ("key",) if c in t.columns])
    t["requests_per_offer"] = (t["requests"] / t["offers"]).round(3)
    t["requests_per_talent"] = (t["requests"] / t["talents"].where(t["talents"] > 0)).round(4)
    columns = [*keys, "requests", "offers", "talents", "requests_per_offer", "requests_per_talent"]
    return t[columns].sort_values(["requests_per_offer", *keys], ascending=[False, *[True] * len(keys)],
                                  kind="stable").reset_index(drop=True)  # fmt: skip


def nyc_observations(frame: pd.DataFrame) -> pd.DataFrame:
    """NYC postings as stored observations (borough, category, month; requested, views)."""
    return pd.DataFrame({"area": frame["borough"], "category": frame["category"], "period": frame["month"],
                         "demand": frame["requested"], "supply": frame["views"], "extra": None,
                         "ref": frame["opportunity"]})  # fmt: skip


def nyc_from_observations(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"opportunity": rows["ref"], "category": rows["category"], "borough": rows["area"],
                         "month": rows["period"], "requested": rows["demand"].astype(int),
                         "views": rows["supply"].astype(int)})  # fmt: skip


def timebank_observations(frame: pd.DataFrame) -> pd.DataFrame:
    """TimeBanks counts as stored observations (timebank, category; requests, offers, talents)."""
    return pd.DataFrame({"area": frame["timebank"], "category": frame["category"], "period": "latest",
                         "demand": frame["requests"], "supply": frame["offers"], "extra": frame["talents"],
                         "ref": frame["timebank"] + "/" + frame["category"]})  # fmt: skip


def timebank_from_observations(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"timebank": rows["area"], "category": rows["category"],
                         "offers": rows["supply"].astype(int), "requests": rows["demand"].astype(int),
                         "talents": rows["extra"].fillna(0).astype(int)})  # fmt: skip
