"""What each caller is shown: results shaped for organisers (no home, no contact, distance
bands) and for volunteers (their own data, exact distances)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api.live import Live
from api.usecases import hours, recommend, records
from matcher.interchange.records import activity_to_json, record_to_json, volunteer_to_json
from matcher.matching.factors.distance import distance_reason, shown_km
from matcher.matching.ranking import Ranking
from matcher.model.domain import GeoPoint, Match
from matcher.model.geo import distance_band, haversine_km


def _match(m: Match) -> dict[str, Any]:
    return {
        "id": m.id,
        "score": m.score,
        "parts": dict(m.parts),
        "reasons": [r.to_json() for r in m.reasons],
        "shift_id": m.shift_id,
    }


def _ranking(ranking: Ranking, matches: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "matches": matches,
        "considered": ranking.considered,
        "excluded": dict(ranking.excluded),
        "note": None if ranking.note is None else ranking.note.to_json(),
    }


def served(
    service: Live,
    out: dict[str, Any],
    direction: str,
    subject: str,
    account_id: str,
    ranking: Ranking,
    at: datetime,
) -> dict[str, Any]:
    """An answer about to be sent, logged as served at ``at`` (with its id and the model that
    ranked it)."""
    return out | {
        "served_id": recommend.log_answer(service, direction, subject, account_id, ranking, at),
        "model_version": service.model_version,
    }


CARDS_PER_QUERY = 500


def volunteer_cards(service: Live, idents: list[str]) -> dict[str, tuple[str, str | None]]:
    """Name and district of each volunteer (a few hundred per database query, and kept by the
    service between questions)."""
    cards: dict[str, tuple[str, str | None]] = {}
    for i in range(0, len(idents), CARDS_PER_QUERY):
        cards |= service.cards.get(idents[i : i + CARDS_PER_QUERY])
    return cards


def card(
    cards: dict[str, tuple[str, str | None]], volunteer_id: str, distance_km: float | None
) -> dict[str, Any]:
    """What an organiser sees of a volunteer: name, district and a distance band, never where
    they live or how to reach them."""
    name, district = cards.get(volunteer_id, ("", None))
    band = None if distance_km is None else distance_band(distance_km)
    return {"name": name, "district": district, "distance_band": band}


def volunteer_ranking(ranking: Ranking, cards: dict[str, tuple[str, str | None]]) -> dict[str, Any]:
    """For organisers: each volunteer's :func:`card` (reasons are already phrased in bands)."""
    return _ranking(ranking, [_match(m) | card(cards, m.id, m.distance_km) for m in ranking.matches])


def activity_ranking(
    ranking: Ranking, activities: dict[str, Any], home: GeoPoint | None = None
) -> dict[str, Any]:
    """For the volunteer themself: each activity's title and their true distance to it, from
    their precise ``home`` when given (matching used the home's cell, see ``matcher.model.geo``); the
    distance reason is rewritten from the same number, so the two never disagree.
    ``activities`` are the ranked activities by id, as ``Live.activities`` keeps them."""
    out = []
    for m in ranking.matches:
        a = activities.get(m.id)
        distance = m.distance_km
        shown = _match(m)
        if home is not None and a is not None and a.location is not None and distance is not None:
            distance = haversine_km(home, a.location)
            own = distance_reason(distance).to_json()
            shown["reasons"] = [own if r["factor"] == own["factor"] else r for r in shown["reasons"]]
        shown |= {"title": "" if a is None else a.title,
                  "distance_km": None if distance is None else shown_km(distance)}  # fmt: skip
        out.append(shown)
    return _ranking(ranking, out)


def volunteer_export(service: Live, volunteer_id: str) -> dict[str, Any]:
    v = records.volunteer(service, volunteer_id)
    return {
        "volunteer": volunteer_to_json(v),
        "service_records": [record_to_json(r) for r in hours.service_records_of(service, volunteer_id)],
    }


def activity(a: Any, distance_km: float | None = None) -> dict[str, Any]:
    out = activity_to_json(a)
    if distance_km is not None:
        out["distance_km"] = round(distance_km, 2)
    return out
