"""Rows both stores write and read: the domain types as plain tuples (list-valued fields as JSON
text), so the SQLite and PostGIS stores agree on every field's meaning."""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import orjson

from matcher.model.calendar import epoch_seconds
from matcher.model.domain import (
    Activity,
    Certification,
    GeoPoint,
    ServiceRecord,
    Shift,
    SkillClaim,
    Volunteer,
    WeeklyWindow,
)

# An account as both stores read it (the columns in :class:`matcher.store.base.Account`'s order).
ACCOUNT_SELECT = "SELECT id, name, role, organisation_id, volunteer_id, password_hash FROM accounts"


def _load(value: Any) -> Any:
    """JSON text (SQLite) or already decoded (PostgreSQL json and jsonb)."""
    return json.loads(value) if isinstance(value, str) else value


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


# Most volunteers speak one of a few language lists and have no blackout dates or certificates:
# those fields are encoded once per distinct value (tuples of strings and dates hash cheaply;
# tuples of dataclasses do not, so skills and windows are encoded every time).


@lru_cache(maxsize=1 << 16)
def _day_text(day: date) -> str:
    return day.isoformat()


@lru_cache(maxsize=1 << 12)
def _languages_json(languages: tuple[str, ...]) -> str:
    return dumps(list(languages))


@lru_cache(maxsize=1 << 12)
def _dates_json(days: tuple[date, ...]) -> str:
    return dumps([d.isoformat() for d in days])


def _certifications_json(certs: tuple[Certification, ...]) -> str:
    if not certs:
        return "[]"
    return dumps([[c.skill, None if c.expires is None else c.expires.isoformat()] for c in certs])


def volunteer_row(v: Volunteer) -> tuple[Any, ...]:
    return (
        v.id,
        v.name,
        None if v.home is None else v.home.lat,
        None if v.home is None else v.home.lon,
        v.max_travel_km,
        day_text(v.birth_date),
        v.timezone,
        int(v.online_ok),
        v.district,
        v.phone,
        v.email,
        *volunteer_lists(v),
        None if v.home is None else v.home.source,
    )


def volunteer_lists(v: Volunteer) -> tuple[str, str, str, str, str]:
    """A volunteer's list fields as JSON text: skills, languages, weekly windows, blackout
    dates, certifications."""
    return (
        dumps([[c.skill, c.level] for c in v.skills]),
        _languages_json(v.languages),
        dumps([[w.day, w.start_minute, w.end_minute] for w in v.availability]),
        _dates_json(v.blackout_dates),
        _certifications_json(v.certifications),
    )


def day_text(day: date | None) -> str | None:
    return None if day is None else _day_text(day)


def volunteer_from(r: tuple[Any, ...]) -> Volunteer:
    return Volunteer(
        id=r[0],
        name=r[1],
        home=None if r[2] is None else GeoPoint(r[2], r[3], r[16] if len(r) > 16 else None),
        max_travel_km=r[4],
        birth_date=None if r[5] is None else date.fromisoformat(r[5]),
        timezone=r[6],
        online_ok=bool(r[7]),
        district=r[8],
        phone=r[9],
        email=r[10],
        skills=tuple(SkillClaim(s, lvl) for s, lvl in _load(r[11])),
        languages=tuple(_load(r[12])),
        availability=tuple(WeeklyWindow(d, a, b) for d, a, b in _load(r[13])),
        blackout_dates=tuple(date.fromisoformat(d) for d in _load(r[14])),
        certifications=tuple(
            Certification(s, None if e is None else date.fromisoformat(e)) for s, e in _load(r[15])
        ),
    )


def activity_row(a: Activity) -> tuple[Any, ...]:
    loc = a.location
    return (
        a.id,
        a.organisation_id,
        a.title,
        a.description,
        a.category,
        None if loc is None else loc.lat,
        None if loc is None else loc.lon,
        int(a.online),
        a.timezone,
        a.min_age,
        a.district,
        dumps(list(a.required_skills)),
        dumps(list(a.preferred_skills)),
        dumps(list(a.required_certifications)),
        None if loc is None else loc.source,
    )


def shift_rows(a: Activity) -> list[tuple[Any, ...]]:
    """(id, activity_id, starts_at ISO with its offset, ends_at, starts_utc s, ends_utc s, capacity)."""
    return [
        (
            s.id,
            a.id,
            s.starts_at.isoformat(),
            s.ends_at.isoformat(),
            epoch_seconds(s.starts_at),
            epoch_seconds(s.ends_at),
            s.capacity,
        )
        for s in a.shifts
    ]


def activity_from(r: tuple[Any, ...], shifts: list[Shift]) -> Activity:
    return Activity(
        id=r[0],
        organisation_id=r[1],
        title=r[2],
        description=r[3],
        category=r[4],
        location=None if r[5] is None else GeoPoint(r[5], r[6], r[14] if len(r) > 14 else None),
        online=bool(r[7]),
        timezone=r[8],
        min_age=r[9],
        district=r[10],
        required_skills=tuple(_load(r[11])),
        preferred_skills=tuple(_load(r[12])),
        required_certifications=tuple(_load(r[13])),
        shifts=tuple(shifts),
    )


def shift_from(r: Any) -> Shift:
    return Shift(r[0], datetime.fromisoformat(r[1]), datetime.fromisoformat(r[2]), r[3])


def record_from(r: tuple[Any, ...]) -> ServiceRecord:
    return ServiceRecord(
        volunteer_id=r[0],
        activity_id=r[1],
        shift_id=r[2],
        date=date.fromisoformat(r[3]),
        hours=r[4],
        attended=bool(r[5]),
        rating=r[6],
    )


def record_row(r: ServiceRecord) -> tuple[Any, ...]:
    return (r.volunteer_id, r.activity_id, r.shift_id, r.date.isoformat(), r.hours, int(r.attended), r.rating)


def activity_filters(
    category: str | None, starts_from: int | None, starts_to: int | None, mark: str
) -> tuple[list[str], list[Any]]:
    """WHERE clauses (over ``activities a``) and their arguments for the category and the
    window a shift must start in, with ``mark`` the driver's placeholder ("?" or "%s")."""
    where: list[str] = []
    args: list[Any] = []
    if category is not None:
        where.append(f"a.category = {mark}")
        args.append(category)
    if starts_from is not None or starts_to is not None:
        where.append(
            "EXISTS (SELECT 1 FROM shifts s WHERE s.activity_id = a.id "
            f"AND s.starts_utc >= {mark} AND s.starts_utc < {mark})"
        )
        args += [
            starts_from if starts_from is not None else -(2**62),
            starts_to if starts_to is not None else 2**62,
        ]
    return where, args
