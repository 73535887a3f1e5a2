"""Demand against supply: the needs communities post, where and when needs outrun the
volunteers who could meet them, suggested projects, the hours served by category (for the
forecast), and the open postings partner sites may show."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from api.live import Live
from matcher.analytics.gaps import Scope
from matcher.analytics.gaps import district_centres as centres_of
from matcher.analytics.gaps import gaps as gap_table
from matcher.analytics.gaps import suggestions as suggest
from matcher.model.calendar import epoch_seconds
from matcher.model.domain import Activity, Need, Shift
from matcher.store.base import Store


def add_need(live: Live, need: Need) -> Need:
    return live.store.needs.add(need)


def replace_need(live: Live, need: Need) -> Need:
    return live.store.needs.replace(need)


def need(live: Live, need_id: str) -> Need:
    return live.store.needs.get(need_id)


def needs(live: Live, status: str | None) -> list[Need]:
    return live.store.needs.list(status)


def gaps(live: Live, by: list[str], first: date, last: date, scope: Scope | None = None) -> pd.DataFrame:
    """The demand-and-supply table (:func:`matcher.analytics.gaps.gaps`) with the open needs."""
    open_needs = live.store.needs.list("open")
    with live.reading() as index:
        return gap_table(index, open_needs, by=by, first=first, last=last, scope=scope)


def subtree_scope(live: Live, organisation_id: str) -> Scope:
    """An organisation's subtree as a gap table's scope: the postings of every organisation in
    it, and the volunteers living in the districts they serve (their areas and districts; all
    volunteers when none is recorded)."""
    members = live.organisations.subtree(organisation_id)
    found = live.store.organisations.listed(
        sorted(members), status=None, kind=None, limit=len(members), offset=0
    )
    districts = {d for o in found for d in (*o.area, *((o.district,) if o.district else ()))}
    return Scope(organisations=members, districts=frozenset(districts) or None)


def suggestions(live: Live, first: date, last: date, limit: int) -> dict[str, list[dict[str, object]]]:
    """Projects to design where the shortages are largest."""
    open_needs = live.store.needs.list("open")
    with live.reading() as index:
        return suggest(index, open_needs, first=first, last=last, limit=limit)


def district_centres(live: Live) -> dict[str, tuple[float, float]]:
    with live.reading() as index:
        return centres_of(index)


def districts(live: Live) -> list[str]:
    """The districts volunteers and activities name, as the index knows them."""
    with live.reading() as index:
        return sorted(index.districts.names)


def categories(live: Live) -> list[str]:
    with live.reading() as index:
        return sorted(index.categories.names)


def served_hours(live: Live, since: date, scope: Scope | None = None) -> list[tuple[str, str, float]]:
    """(day, category, hours) of approved service since ``since`` (of the scope's
    organisations' activities, when given)."""
    orgs = None if scope is None or scope.organisations is None else sorted(scope.organisations)
    return live.store.ops.served_hours(since, orgs)


def open_postings(
    live: Live, now: datetime, until: datetime
) -> list[tuple[Activity, list[tuple[Shift, int]]]]:
    """Activities with shifts starting in (now, until] that still have places, with the
    places left on each: what partner sites may show (no personal data in it)."""
    out = []
    found = live.store.list_activities(
        category=None, starts_from=epoch_seconds(now) + 1, starts_to=epoch_seconds(until) + 1
    )
    with live.reading() as index:
        for a in found:
            shifts = []
            for s in a.shifts:
                if not now < s.starts_at <= until:
                    continue
                left = index.places_left(s.id)
                if left > 0:
                    shifts.append((s, left))
            if shifts:
                out.append((a, shifts))
    return out


def store_observations(store: Store, source: str, rows: pd.DataFrame) -> None:
    """A published dataset's demand-and-supply observations, replacing ``source``'s last import."""
    store.observations.replace(source, rows)
