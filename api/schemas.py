"""Request and response bodies of the HTTP API, in the field names of the interchange format.

Pydantic checks the shape (unknown fields, types, NaN, ranges, offsets on datetimes) and gives
OpenAPI its schema; the domain types then check the meaning, through the same parser ``volmatch
load`` uses (:mod:`matcher.interchange.records`), so the API and the loader accept exactly the same
records and say the same things about bad ones.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

from matcher.model.domain import MAX_TRAVEL_KM, GeoPoint
from matcher.model.errors import ValidationError

Text = Annotated[str, Field(max_length=200)]
LongText = Annotated[str, Field(max_length=5000)]
Ident = Annotated[str, Field(min_length=1, max_length=64)]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_text(value: object) -> object:
    """Dates and times as ISO 8601 text only: pydantic's lax mode would read ``?to=0.5`` as
    half a second after 1970 (found by the fuzz tests)."""
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("give an ISO 8601 date or time, such as 2026-12-05 or 2026-12-05T08:00:00+08:00")
    return value


_PLAIN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CITY_ZONE = ZoneInfo("Asia/Shanghai")
"""The zone a plain date is read in: the city's (a volunteer's zone when the caller is one is
the same here; an instant with its own offset is taken as written)."""


def city_midnight(day: date) -> datetime:
    """What a plain date means where a time is asked: its midnight in the city's zone."""
    return datetime.combine(day, time(0), CITY_ZONE)


def _iso_instant(value: object) -> object:
    """An ISO 8601 time; a plain date means its midnight in the city's zone."""
    value = _iso_text(value)
    if isinstance(value, str) and _PLAIN_DATE.fullmatch(value):
        try:
            return city_midnight(date.fromisoformat(value))
        except ValueError:
            raise ValueError(f"{value} is not a date YYYY-MM-DD") from None
    return value


IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_instant)]
"""A time with its offset, written as ISO 8601 text; a plain date is its midnight in the city."""
IsoDate = Annotated[date, BeforeValidator(_iso_text)]
"""A calendar date, written as ISO 8601 text."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Exact(Strict):
    """A body whose values must have their documented JSON types (no ``false`` for 0, no
    ``"5"`` for 5)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


class Point(Strict):
    lat: float = Field(ge=-90, le=90, description="latitude in degrees")
    lon: float = Field(ge=-180, le=180, description="longitude in degrees; 180 is the same as -180")
    source: Text | None = Field(default=None, description="where the point came from, if not given")


class Window(Strict):
    day: Annotated[str, Field(examples=["sat"], max_length=10)]
    start: Annotated[str, Field(examples=["08:00"], max_length=5)]
    end: Annotated[str, Field(examples=["12:00"], max_length=5)]


class LevelledSkill(Strict):
    skill: Text
    level: int | None = Field(default=None, ge=1, le=5)


class Certificate(Strict):
    skill: Text
    expires: date | None = None


SkillList = Annotated[list[Text | LevelledSkill], Field(max_length=200)]


class VolunteerFields(Strict):
    name: Text | None = None
    home: Point | None = None
    address: Text | None = Field(
        default=None, description="instead of home: an address or district, geocoded (see /docs)"
    )
    max_travel_km: float | None = Field(default=None, ge=0, le=MAX_TRAVEL_KM)
    skills: SkillList | None = None
    languages: Annotated[list[Text], Field(max_length=50)] | None = None
    birth_date: date | None = None
    timezone: Text | None = None
    availability: Annotated[list[Window], Field(max_length=336)] | None = None
    blackout_dates: Annotated[list[date], Field(max_length=1000)] | None = None
    certifications: Annotated[list[Certificate], Field(max_length=100)] | None = None
    online_ok: bool | None = None
    district: Text | None = None
    phone: Text | None = None
    email: Text | None = None


class VolunteerIn(VolunteerFields):
    """A new volunteer. ``home`` and contact details are only ever shown to the volunteer and
    admins; organisers see the district and a distance band. The service assigns the id when
    none is given."""

    id: Ident | None = Field(default=None, description="leave out: the service assigns one")
    name: Text
    max_travel_km: float = Field(ge=0, le=MAX_TRAVEL_KM)


class VolunteerPatch(VolunteerFields):
    """Fields to change; the others keep their values (``null`` clears an optional field)."""


class ShiftIn(Strict):
    id: Ident | None = Field(default=None, description="leave out: the service assigns one")
    start: AwareDatetime
    end: AwareDatetime
    capacity: int = Field(ge=1, le=100_000)


class ActivityFields(Strict):
    title: Text | None = None
    description: LongText | None = None
    category: Text | None = None
    location: Point | None = None
    address: Text | None = Field(
        default=None, description="instead of location: an address or district, geocoded"
    )
    online: bool | None = None
    required_skills: SkillList | None = None
    preferred_skills: SkillList | None = None
    required_certifications: SkillList | None = None
    min_age: int | None = Field(default=None, ge=0, le=120)
    timezone: Text | None = None
    district: Text | None = None
    shifts: Annotated[list[ShiftIn], Field(max_length=1000)] | None = None


class ActivityIn(ActivityFields):
    """A new posting with its shifts. The service assigns the ids of the activity and of each
    shift when none are given; an organiser's organisation is theirs when not given."""

    id: Ident | None = Field(default=None, description="leave out: the service assigns one")
    organisation_id: Ident | None = None
    title: Text
    category: Text


def new_id(prefix: str) -> str:
    """A server-assigned id: the kind's letter and 12 random hex digits (``a_3f9c0d1e2b4a``)."""
    return f"{prefix}_{secrets.token_hex(6)}"


def assign_ids(doc: dict[str, Any], prefix: str) -> dict[str, Any]:
    """``doc`` with an id where it has none, and one on each of its shifts."""
    doc = {**doc, "id": doc.get("id") or new_id(prefix)}
    if "shifts" in doc:
        doc["shifts"] = [{**s, "id": s.get("id") or new_id("s")} for s in doc["shifts"]]
    return doc


class ActivityPatch(ActivityFields):
    """Fields to change; ``shifts``, when given, replaces the whole list."""


class ConsentIn(Strict):
    """Consent to the use of the volunteer's location for matching."""

    location: StrictBool
    note: Text = ""


def near_point(near: str | None) -> GeoPoint | None:
    """A ``near=lat,lon`` query as a point (None when not given); a bad one is a 422 naming it."""
    if near is None:
        return None
    parts = near.split(",")
    if len(parts) != 2:
        raise ValidationError("near", "give 'lat,lon' in degrees, for example near=30.25,120.14")
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError as e:
        raise ValidationError("near", "give 'lat,lon' as two numbers, for example near=30.25,120.14") from e
    try:
        return GeoPoint(lat, lon)  # refuses NaN and out-of-range values, naming the coordinate
    except ValidationError as e:
        raise e.prefixed("near") from None
