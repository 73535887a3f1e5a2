"""Recommendations both ways, ranked by the active model, and the postings people browse.

Organisers see volunteers' distances as bands (``banded``); a volunteer sees their own true
distances. Every answer served can be logged for learning (:func:`log_answer`)."""

from __future__ import annotations

from datetime import datetime

from api.live import Live
from matcher.matching.ranking import Ranking, recommend_activities, recommend_volunteers
from matcher.model.calendar import epoch_seconds
from matcher.model.domain import Activity, GeoPoint
from matcher.model.geo import haversine_km


def volunteers_for(
    live: Live,
    activity_id: str,
    *,
    now: datetime,
    shift_id: str | None,
    k: int,
    radius_km: float | None,
    banded: bool,
) -> Ranking:
    """The best ``k`` volunteers for a shift of the activity (or any open shift)."""
    with live.reading() as index:
        ranking = recommend_volunteers(
            index,
            activity_id,
            now=now,
            shift_id=shift_id,
            k=live.pool(k),
            radius_km=radius_km,
            weights=live.weights(),
            distance_mode="band" if banded else "exact",
        )
        return live.ranked(ranking, k)


def activities_for(live: Live, volunteer_id: str, *, now: datetime, k: int) -> Ranking:
    """The best ``k`` activities for a volunteer, each with the shift that suits them best."""
    with live.reading() as index:
        ranking = recommend_activities(index, volunteer_id, now=now, k=live.pool(k), weights=live.weights())
        return live.ranked(ranking, k)


def log_answer(
    live: Live, direction: str, subject: str, account_id: str | None, ranking: Ranking, at: datetime
) -> str:
    """Remember an answer served (for learning); returns its id in the feedback log."""
    return live.feedback.log_answer(direction, subject, account_id, ranking, at, live.model_version)


def activities_near(
    live: Live,
    *,
    near: GeoPoint | None,
    radius_km: float | None,
    category: str | None,
    starts_from: datetime | None,
    starts_to: datetime | None,
) -> list[tuple[Activity, float | None]]:
    """Activities matching the filters, nearest first when ``near`` is given (online ones
    last), else by id; with their distance in km."""
    found = live.store.list_activities(
        category=category,
        starts_from=None if starts_from is None else epoch_seconds(starts_from),
        starts_to=None if starts_to is None else epoch_seconds(starts_to),
        near=near,
        radius_km=radius_km,
    )
    if near is None:
        return [(a, None) for a in found]
    out = []
    for a in found:
        d = None if a.location is None else haversine_km(near, a.location)
        if d is None or radius_km is None or d <= radius_km:
            out.append((a, d))
    out.sort(key=lambda t: (t[1] is None, t[1] or 0.0, t[0].id))
    return out


def upcoming_of(live: Live, organisation_id: str | None, now: datetime, limit: int) -> list[Activity]:
    """An organisation's activities (every one, given None) with a shift still to start, by id."""
    found = live.store.list_activities(category=None, starts_from=epoch_seconds(now), starts_to=None)
    return [a for a in found if organisation_id is None or a.organisation_id == organisation_id][:limit]
