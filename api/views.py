"""What each caller is shown: results shaped for organisers (no home, no contact, distance
bands) and for volunteers (their own data, exact distances)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api.service import Live
from matcher.domain import Match
from matcher.geo import distance_band
from matcher.interchange import activity_to_json, record_to_json, volunteer_to_json
from matcher.ranking import Ranking


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
        "served_id": service.log_answer(direction, subject, account_id, ranking, at),
        "model_version": service.model_version,
    }


def volunteer_ranking(service: Live, ranking: Ranking) -> dict[str, Any]:
    """For organisers: the volunteer's name and district and a distance band, never where they
    live or how to reach them (reasons are already phrased in bands)."""
    cards = service.store.volunteer_cards([m.id for m in ranking.matches])
    out = []
    for m in ranking.matches:
        name, district = cards.get(m.id, ("", None))
        out.append(
            _match(m)
            | {
                "name": name,
                "district": district,
                "distance_band": None if m.distance_km is None else distance_band(m.distance_km),
            }
        )
    return _ranking(ranking, out)


def activity_ranking(service: Live, ranking: Ranking) -> dict[str, Any]:
    out = []
    for m in ranking.matches:
        a = service.store.get_activity(m.id)
        out.append(
            _match(m)
            | {
                "title": "" if a is None else a.title,
                "distance_km": None if m.distance_km is None else round(m.distance_km, 2),
            }
        )
    return _ranking(ranking, out)


def volunteer_export(service: Live, volunteer_id: str) -> dict[str, Any]:
    v = service.volunteer(volunteer_id)
    return {
        "volunteer": volunteer_to_json(v),
        "service_records": [record_to_json(r) for r in service.store.service_records_of(volunteer_id)],
    }


def activity(a: Any, distance_km: float | None = None) -> dict[str, Any]:
    out = activity_to_json(a)
    if distance_km is not None:
        out["distance_km"] = round(distance_km, 2)
    return out
