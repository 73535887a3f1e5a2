"""The documented interchange format (``volmatch load`` / ``volmatch export``), both ways.

Parsing is strict where leniency hides mistakes (a number must be a number, not a boolean or
a string; datetimes must carry an offset; NaN is refused) and lenient where it helps (extra fields
are allowed and ignored; skills may be ids, labels or synonyms in any language, or new free text).
Every error names the record and the field::

    volunteers[3] (id 'v4'): home.lat: latitude 91.0 is outside [-90, 90]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from matcher.model.domain import (
    Activity,
    Booking,
    Certification,
    GeoPoint,
    Need,
    ServiceRecord,
    Shift,
    SkillClaim,
    Volunteer,
    WeeklyWindow,
    World,
    check_birth_date,
)
from matcher.model.errors import ValidationError
from matcher.model.skills import Taxonomy

T = TypeVar("T")
MAX_RECORDS = 5_000_000


def _obj(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(field, "must be an object")
    return value


def _list(value: object, field: str) -> Sequence[Any]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise ValidationError(field, "must be a list")
    return value


def _num(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(field, "must be a number")
    if not math.isfinite(value):
        raise ValidationError(field, "must be a finite number (not NaN or infinity)")
    return float(value)


def _int(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ValidationError(field, "must be a whole number")
    return value


def _bool(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(field, "must be true or false")
    return value


def _str(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(field, "must be a string")
    return value


def _date(value: object, field: str) -> date:
    if not isinstance(value, str):
        raise ValidationError(field, "must be a date string YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(field, f"{value!r} is not a date YYYY-MM-DD") from None


def _datetime(value: object, field: str) -> datetime:
    if not isinstance(value, str):
        raise ValidationError(field, "must be an ISO 8601 datetime string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(field, f"{value!r} is not an ISO 8601 datetime") from None
    if parsed.tzinfo is None:
        raise ValidationError(field, f"{value!r} has no UTC offset; write it like 2026-12-05T08:00:00+08:00")
    return parsed


def _point(value: object, field: str) -> GeoPoint | None:
    if value is None:
        return None
    obj = _obj(value, field)
    try:
        source = obj.get("source")
        return GeoPoint(
            _num(obj.get("lat"), "lat"),
            _num(obj.get("lon"), "lon"),
            None if source is None else _str(source, "source"),
        )
    except ValidationError as e:
        raise e.prefixed(field) from None


def _field(obj: Mapping[str, Any], name: str, parse: Callable[[object, str], T]) -> T:
    return parse(obj.get(name), name)


def _skills(tax: Taxonomy, values: object, field: str) -> tuple[str, ...]:
    out: list[str] = []
    for i, item in enumerate(_list(values, field)):
        try:
            out.append(tax.normalise(_str(item, "")))
        except ValidationError as e:
            raise ValidationError(f"{field}[{i}]", e.message) from None
    return tuple(dict.fromkeys(out))


def parse_volunteer(data: object, tax: Taxonomy) -> Volunteer:
    obj = _obj(data, "")
    claims: list[SkillClaim] = []
    for i, item in enumerate(_list(obj.get("skills"), "skills")):
        where = f"skills[{i}]"
        if isinstance(item, Mapping):
            level = item.get("level")
            claims.append(
                SkillClaim(
                    tax.normalise(_str(item.get("skill"), f"{where}.skill")),
                    None if level is None else _int(level, f"{where}.level"),
                )
            )
        else:
            try:
                claims.append(SkillClaim(tax.normalise(_str(item, where))))
            except ValidationError as e:
                raise ValidationError(where, e.message) from None
    windows: list[WeeklyWindow] = []
    for i, item in enumerate(_list(obj.get("availability"), "availability")):
        w = _obj(item, f"availability[{i}]")
        try:
            windows.append(WeeklyWindow.parse(w.get("day"), w.get("start"), w.get("end")))  # type: ignore[arg-type]
        except ValidationError as e:
            raise e.prefixed(f"availability[{i}]") from None
    certs: list[Certification] = []
    for i, item in enumerate(_list(obj.get("certifications"), "certifications")):
        c = _obj(item, f"certifications[{i}]")
        expires = c.get("expires")
        certs.append(
            Certification(
                tax.normalise(_str(c.get("skill"), f"certifications[{i}].skill")),
                None if expires is None else _date(expires, f"certifications[{i}].expires"),
            )
        )
    birth = obj.get("birth_date")
    return Volunteer(
        id=_str(obj.get("id"), "id"),
        name=_str(obj.get("name", ""), "name"),
        home=_point(obj.get("home"), "home"),
        max_travel_km=_num(obj.get("max_travel_km", 10), "max_travel_km"),
        skills=tuple(claims),
        languages=tuple(
            _str(x, f"languages[{i}]") for i, x in enumerate(_list(obj.get("languages"), "languages"))
        ),
        birth_date=None if birth is None else check_birth_date(_date(birth, "birth_date"), date.today()),
        timezone=_str(obj.get("timezone", "Asia/Shanghai"), "timezone"),
        availability=tuple(windows),
        blackout_dates=tuple(
            _date(x, f"blackout_dates[{i}]")
            for i, x in enumerate(_list(obj.get("blackout_dates"), "blackout_dates"))
        ),
        certifications=tuple(certs),
        online_ok=_bool(obj.get("online_ok", False), "online_ok"),
        district=None if obj.get("district") is None else _str(obj.get("district"), "district"),
        phone=None if obj.get("phone") is None else _str(obj.get("phone"), "phone"),
        email=None if obj.get("email") is None else _str(obj.get("email"), "email"),
    )


def parse_shift(data: object) -> Shift:
    obj = _obj(data, "")
    return Shift(
        id=_str(obj.get("id"), "id"),
        starts_at=_datetime(obj.get("start"), "start"),
        ends_at=_datetime(obj.get("end"), "end"),
        capacity=_int(obj.get("capacity"), "capacity"),
    )


def parse_activity(data: object, tax: Taxonomy) -> Activity:
    obj = _obj(data, "")
    shifts = []
    for i, item in enumerate(_list(obj.get("shifts"), "shifts")):
        try:
            shifts.append(parse_shift(item))
        except ValidationError as e:
            raise e.prefixed(f"shifts[{i}]") from None
    min_age = obj.get("min_age")
    return Activity(
        id=_str(obj.get("id"), "id"),
        organisation_id=_str(obj.get("organisation_id"), "organisation_id"),
        title=_str(obj.get("title"), "title"),
        description=_str(obj.get("description", ""), "description"),
        category=_str(obj.get("category"), "category"),
        location=_point(obj.get("location"), "location"),
        online=_bool(obj.get("online", False), "online"),
        required_skills=_skills(tax, obj.get("required_skills"), "required_skills"),
        preferred_skills=_skills(tax, obj.get("preferred_skills"), "preferred_skills"),
        min_age=None if min_age is None else _int(min_age, "min_age"),
        required_certifications=_skills(tax, obj.get("required_certifications"), "required_certifications"),
        timezone=_str(obj.get("timezone", "Asia/Shanghai"), "timezone"),
        shifts=tuple(shifts),
        district=None if obj.get("district") is None else _str(obj.get("district"), "district"),
    )


def parse_need(data: object, tax: Taxonomy | None) -> Need:
    """A need as the API and the store write it (``start``/``end`` aware ISO 8601 instants).
    Skills are normalised by ``tax``; ``None`` takes them as written (the store's own records)."""
    obj = _obj(data, "")
    skills = obj.get("skills", [])
    until = obj.get("weekly_until")
    return Need(
        id=_str(obj.get("id"), "id"),
        organisation_id=_str(obj.get("organisation_id"), "organisation_id"),
        category=_str(obj.get("category"), "category"),
        starts_at=_datetime(obj.get("start"), "start"),
        ends_at=_datetime(obj.get("end"), "end"),
        skills=(
            _skills(tax, skills, "skills")
            if tax is not None
            else tuple(_str(x, f"skills[{i}]") for i, x in enumerate(_list(skills, "skills")))
        ),
        location=_point(obj.get("location"), "location"),
        district=None if obj.get("district") is None else _str(obj.get("district"), "district"),
        weekly_until=None if until is None else _date(until, "weekly_until"),
        volunteers_needed=_int(obj.get("volunteers_needed", 1), "volunteers_needed"),
        people_affected=_int(obj.get("people_affected", 0), "people_affected"),
        urgency=_str(obj.get("urgency", "normal"), "urgency"),
        description=_str(obj.get("description", ""), "description"),
        status=_str(obj.get("status", "open"), "status"),
        activity_ids=tuple(
            _str(x, f"activity_ids[{i}]")
            for i, x in enumerate(_list(obj.get("activity_ids", []), "activity_ids"))
        ),
    )


def need_to_json(n: Need) -> dict[str, Any]:
    return {
        "id": n.id,
        "organisation_id": n.organisation_id,
        "category": n.category,
        "start": n.starts_at.isoformat(),
        "end": n.ends_at.isoformat(),
        "weekly_until": None if n.weekly_until is None else n.weekly_until.isoformat(),
        "skills": list(n.skills),
        "location": _point_json(n.location),
        "district": n.district,
        "volunteers_needed": n.volunteers_needed,
        "people_affected": n.people_affected,
        "urgency": n.urgency,
        "description": n.description,
        "status": n.status,
        "activity_ids": list(n.activity_ids),
    }


def parse_service_record(data: object) -> ServiceRecord:
    obj = _obj(data, "")
    shift = obj.get("shift_id")
    rating = obj.get("rating")
    return ServiceRecord(
        volunteer_id=_str(obj.get("volunteer_id"), "volunteer_id"),
        activity_id=_str(obj.get("activity_id"), "activity_id"),
        shift_id=None if shift is None else _str(shift, "shift_id"),
        date=_date(obj.get("date"), "date"),
        hours=_num(obj.get("hours"), "hours"),
        attended=_bool(obj.get("attended", True), "attended"),
        rating=None if rating is None else _int(rating, "rating"),
    )


def parse_booking(data: object) -> Booking:
    obj = _obj(data, "")
    return Booking(_str(obj.get("volunteer_id"), "volunteer_id"), _str(obj.get("shift_id"), "shift_id"))


def _records(
    data: Mapping[str, Any], key: str, parse: Callable[[object], T], on_item: Callable[[], None] | None
) -> list[T]:
    items = _list(data.get(key), key)
    if len(items) > MAX_RECORDS:
        raise ValidationError(key, f"at most {MAX_RECORDS} records per load")
    out: list[T] = []
    for i, item in enumerate(items):
        try:
            out.append(parse(item))
        except ValidationError as e:
            ident = item.get("id") if isinstance(item, Mapping) else None
            label = f"{key}[{i}]" + (f" (id {ident!r})" if isinstance(ident, str) else "")
            raise ValidationError(f"{label}: {e.field}" if e.field else label, e.message) from None
        if on_item is not None:
            on_item()
    return out


def parse_world(data: object, tax: Taxonomy, on_item: Callable[[], None] | None = None) -> World:
    """A whole interchange document, checked for internal consistency: unique ids, service
    records and bookings that name known volunteers, activities and shifts."""
    obj = _obj(data, "document")
    vols = _records(obj, "volunteers", lambda x: parse_volunteer(x, tax), on_item)
    acts = _records(obj, "activities", lambda x: parse_activity(x, tax), on_item)
    recs = _records(obj, "service_records", parse_service_record, on_item)
    books = _records(obj, "bookings", parse_booking, on_item)
    _unique("volunteers", [v.id for v in vols])
    _unique("activities", [a.id for a in acts])
    shift_ids = [s.id for a in acts for s in a.shifts]
    _unique("shifts", shift_ids)
    return World(tuple(vols), tuple(acts), tuple(recs), tuple(books))


def _unique(kind: str, ids: Sequence[str]) -> None:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if ident in seen:
            raise ValidationError(f"{kind}[{i}].id", f"id {ident!r} appears more than once")
        seen.add(ident)


def check_references(
    world: World, known_volunteers: set[str], known_activities: set[str], known_shifts: set[str]
) -> None:
    """Service records and bookings must name volunteers, activities and shifts that exist
    (in this document or already in the store)."""
    for i, r in enumerate(world.service_records):
        if r.volunteer_id not in known_volunteers:
            raise ValidationError(
                f"service_records[{i}].volunteer_id", f"unknown volunteer {r.volunteer_id!r}"
            )
        if r.activity_id not in known_activities:
            raise ValidationError(f"service_records[{i}].activity_id", f"unknown activity {r.activity_id!r}")
    for i, b in enumerate(world.bookings):
        if b.volunteer_id not in known_volunteers:
            raise ValidationError(f"bookings[{i}].volunteer_id", f"unknown volunteer {b.volunteer_id!r}")
        if b.shift_id not in known_shifts:
            raise ValidationError(f"bookings[{i}].shift_id", f"unknown shift {b.shift_id!r}")


# ------------------------------------------------------------------------------------ export


def _point_json(p: GeoPoint | None) -> dict[str, Any] | None:
    if p is None:
        return None
    out: dict[str, Any] = {"lat": p.lat, "lon": p.lon}
    if p.source is not None:
        out["source"] = p.source
    return out


def volunteer_to_json(v: Volunteer) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": v.id,
        "name": v.name,
        "home": _point_json(v.home),
        "max_travel_km": v.max_travel_km,
        "skills": [c.skill if c.level is None else {"skill": c.skill, "level": c.level} for c in v.skills],
        "languages": list(v.languages),
        "birth_date": None if v.birth_date is None else v.birth_date.isoformat(),
        "timezone": v.timezone,
        "availability": [w.to_json() for w in v.availability],
        "blackout_dates": [d.isoformat() for d in v.blackout_dates],
        "certifications": [
            {"skill": c.skill, "expires": None if c.expires is None else c.expires.isoformat()}
            for c in v.certifications
        ],
        "online_ok": v.online_ok,
    }
    for name in ("district", "phone", "email"):
        if getattr(v, name) is not None:
            out[name] = getattr(v, name)
    return out


def activity_to_json(a: Activity) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": a.id,
        "organisation_id": a.organisation_id,
        "title": a.title,
        "description": a.description,
        "category": a.category,
        "location": _point_json(a.location),
        "online": a.online,
        "required_skills": list(a.required_skills),
        "preferred_skills": list(a.preferred_skills),
        "required_certifications": list(a.required_certifications),
        "min_age": a.min_age,
        "timezone": a.timezone,
        "shifts": [
            {
                "id": s.id,
                "start": s.starts_at.isoformat(),
                "end": s.ends_at.isoformat(),
                "capacity": s.capacity,
            }
            for s in a.shifts
        ],
    }
    if a.district is not None:
        out["district"] = a.district
    return out


def record_to_json(r: ServiceRecord) -> dict[str, Any]:
    return {
        "volunteer_id": r.volunteer_id,
        "activity_id": r.activity_id,
        "shift_id": r.shift_id,
        "date": r.date.isoformat(),
        "hours": r.hours,
        "attended": r.attended,
        "rating": r.rating,
    }


def world_to_json(world: World) -> dict[str, Any]:
    return {
        "volunteers": [volunteer_to_json(v) for v in world.volunteers],
        "activities": [activity_to_json(a) for a in world.activities],
        "service_records": [record_to_json(r) for r in world.service_records],
        "bookings": [{"volunteer_id": b.volunteer_id, "shift_id": b.shift_id} for b in world.bookings],
    }
