"""The volunteering world as volmatch models it: frozen value objects, standard library only.

Every constructor validates its invariants and raises :class:`matcher.model.errors.ValidationError`
naming the field, so no invalid volunteer, activity or shift can exist inside the core. Skill
fields hold taxonomy ids (see :mod:`matcher.model.skills`); free text is normalised at the edge.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from matcher.model.errors import ValidationError

CATEGORY_LABELS: Mapping[str, tuple[str, str]] = {
    "sports events": ("赛会服务", "sports events"),
    "conferences": ("大型会议", "conferences"),
    "emergency response": ("应急救援", "emergency response"),
    "epidemic prevention": ("疫情防控", "epidemic prevention"),
    "civilised city": ("文明城市创建", "civilised-city campaign"),
    "river protection": ("河道保护", "river protection"),
    "elderly care": ("助老服务", "elderly care"),
    "tutoring": ("助学支教", "tutoring"),
    "rural revitalisation": ("乡村振兴", "rural revitalisation"),
    "community service": ("社区服务", "community service"),
}
"""Chinese and English names of the activity categories a city association runs (the keys are
the case-folded category names activities carry; others are shown as written)."""


def category_label(category: str, lang: str = "en") -> str:
    key = " ".join(category.casefold().split())
    pair = CATEGORY_LABELS.get(key)
    if pair is None:
        return category
    return pair[0] if lang == "zh" else pair[1]


WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Day names of the interchange format, Monday first (ISO weekday order)."""

MINUTES_PER_DAY = 1440
MAX_TRAVEL_KM = 500.0
"""Largest travel limit a volunteer may declare; farther is not a volunteering commute."""
MAX_SHIFT_DURATION = timedelta(days=14)
MAX_CAPACITY = 100_000
MAX_TEXT = 10_000
MAX_ID = 128
_ID_RE = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")


def check_id(value: object, field_name: str = "id") -> str:
    """An identifier: 1-128 characters of letters, digits and ``_ . : -``."""
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise ValidationError(
            field_name, f"{value!r} is not a valid id (1-128 letters, digits, '_', '.', ':' or '-')"
        )
    return value


def check_text(value: object, field_name: str, *, max_len: int = MAX_TEXT, empty: bool = True) -> str:
    """Free text (any language, emoji included) without NUL or other control characters."""
    if not isinstance(value, str):
        raise ValidationError(field_name, "must be a string")
    if len(value) > max_len:
        raise ValidationError(field_name, f"is {len(value)} characters long; at most {max_len}")
    if not empty and not value.strip():
        raise ValidationError(field_name, "must not be empty")
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
        raise ValidationError(field_name, "contains a control character (such as NUL)")
    return value


def check_timezone(name: object, field_name: str = "timezone") -> str:
    """An IANA time-zone name such as ``Asia/Shanghai``."""
    if not isinstance(name, str) or not name or len(name) > 64:
        raise ValidationError(field_name, f"{name!r} is not an IANA time-zone name")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            field_name, f"{name!r} is not an IANA time-zone name (e.g. 'Asia/Shanghai')"
        ) from None
    return name


def check_aware(value: object, field_name: str) -> datetime:
    """A datetime that knows its UTC offset; naive datetimes are ambiguous and refused."""
    if not isinstance(value, datetime):
        raise ValidationError(field_name, "must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(
            field_name, "must carry a UTC offset or time zone, e.g. 2026-12-05T08:00:00+08:00"
        )
    return value


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """A point on Earth in WGS 84 degrees, latitude first.

    Longitude 180 and -180 are the same meridian; 180 is normalised to -180 so that equal places
    compare equal.
    """

    lat: float
    lon: float
    source: str | None = field(default=None, compare=False)
    """Where the point came from when it was not given as coordinates ("geocoded by gazetteer
    from '西湖区'"); not part of the point's identity."""

    def __post_init__(self) -> None:
        if self.source is not None:
            check_text(self.source, "source", max_len=300)
        for name in ("lat", "lon"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValidationError(name, "must be a number")
            if not math.isfinite(value):
                raise ValidationError(name, "must be a finite number (not NaN or infinity)")
        if not -90.0 <= self.lat <= 90.0:
            raise ValidationError("lat", f"latitude {self.lat} is outside [-90, 90]")
        if not -180.0 <= self.lon <= 180.0:
            raise ValidationError("lon", f"longitude {self.lon} is outside [-180, 180]")
        object.__setattr__(self, "lat", float(self.lat))
        object.__setattr__(self, "lon", -180.0 if self.lon == 180.0 else float(self.lon))


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """A recurring weekly time window in the volunteer's own time zone.

    ``start_minute`` counts from local midnight of ``day`` (0 = Monday); ``end_minute`` may exceed
    1440 for a window that runs past midnight (22:00-06:00 is start 1320, end 1800).
    """

    day: int
    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        if not 0 <= self.day <= 6:
            raise ValidationError("day", f"day {self.day} is not 0 (Monday) .. 6 (Sunday)")
        if not 0 <= self.start_minute < MINUTES_PER_DAY:
            raise ValidationError("start", "must be a time of day from 00:00 to 23:59")
        if not self.start_minute < self.end_minute <= self.start_minute + MINUTES_PER_DAY:
            raise ValidationError("end", "must be after start and at most 24 hours later")

    @classmethod
    def parse(cls, day: str, start: str, end: str) -> WeeklyWindow:
        """From interchange strings: ``("sat", "08:00", "12:00")``; an end at or before the
        start means the window runs past midnight ("22:00" to "06:00"); "24:00" ends at midnight."""
        key = day.strip().lower()[:3] if isinstance(day, str) else ""
        if key not in WEEKDAYS:
            raise ValidationError("day", f"{day!r} is not a weekday (mon, tue, ..., sun)")
        start_min = _parse_clock(start, "start")
        end_min = _parse_clock(end, "end")
        if start_min == MINUTES_PER_DAY:
            raise ValidationError("start", "24:00 is only allowed as an end time")
        if end_min <= start_min:
            if end_min == start_min:
                raise ValidationError("end", "must differ from start")
            end_min += MINUTES_PER_DAY
        return cls(WEEKDAYS.index(key), start_min, end_min)

    def to_json(self) -> dict[str, str]:
        return {
            "day": WEEKDAYS[self.day],
            "start": _format_clock(self.start_minute),
            "end": _format_clock(
                self.end_minute if self.end_minute == MINUTES_PER_DAY else self.end_minute % MINUTES_PER_DAY
            ),
        }

    def label(self) -> str:
        """``Sat 08:00–12:00``."""
        end = self.to_json()["end"]
        return f"{WEEKDAYS[self.day].capitalize()} {_format_clock(self.start_minute)}–{end}"


def _parse_clock(text: object, field_name: str) -> int:
    if not isinstance(text, str):
        raise ValidationError(field_name, "must be a time string HH:MM")
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not m:
        raise ValidationError(field_name, f"{text!r} is not a time HH:MM")
    hours, minutes = int(m.group(1)), int(m.group(2))
    if minutes >= 60 or hours > 24 or (hours == 24 and minutes):
        raise ValidationError(field_name, f"{text!r} is not a time between 00:00 and 24:00")
    return hours * 60 + minutes


def _format_clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass(frozen=True, slots=True)
class SkillClaim:
    """A skill a volunteer says they have: a taxonomy id, optionally with a level 1-5."""

    skill: str
    level: int | None = None

    def __post_init__(self) -> None:
        check_text(self.skill, "skill", max_len=200, empty=False)
        if self.level is not None and (isinstance(self.level, bool) or not 1 <= self.level <= 5):
            raise ValidationError("level", "must be 1 (beginner) to 5 (expert)")


@dataclass(frozen=True, slots=True)
class Certification:
    """A certificate for a skill (taxonomy id) valid until ``expires`` inclusive (None: no expiry)."""

    skill: str
    expires: date | None = None

    def __post_init__(self) -> None:
        check_text(self.skill, "skill", max_len=200, empty=False)

    def valid_on(self, day: date) -> bool:
        return self.expires is None or day <= self.expires


@dataclass(frozen=True, slots=True)
class Volunteer:
    """A registered volunteer. ``home`` and contact details are personal data: the shell shows
    them only to the volunteer themself (privacy is enforced in ``api``, not here)."""

    id: str
    name: str
    home: GeoPoint | None
    max_travel_km: float
    skills: tuple[SkillClaim, ...] = ()
    languages: tuple[str, ...] = ()
    birth_date: date | None = None
    timezone: str = "Asia/Shanghai"
    availability: tuple[WeeklyWindow, ...] = ()
    blackout_dates: tuple[date, ...] = ()
    certifications: tuple[Certification, ...] = ()
    online_ok: bool = False
    district: str | None = None
    phone: str | None = None
    email: str | None = None

    def __post_init__(self) -> None:
        check_id(self.id)
        check_text(self.name, "name", max_len=200)
        travel = self.max_travel_km
        if isinstance(travel, bool) or not isinstance(travel, int | float) or not math.isfinite(travel):
            raise ValidationError("max_travel_km", "must be a finite number of kilometres")
        if not 0.0 <= travel <= MAX_TRAVEL_KM:
            raise ValidationError("max_travel_km", f"must be between 0 and {MAX_TRAVEL_KM:g} km")
        check_timezone(self.timezone)
        self._check_lists()
        for name in ("district", "phone", "email"):
            value = getattr(self, name)
            if value is not None:
                check_text(value, name, max_len=200)
        object.__setattr__(self, "max_travel_km", float(travel))
        object.__setattr__(self, "blackout_dates", tuple(sorted(set(self.blackout_dates))))

    def _check_lists(self) -> None:
        for i, lang in enumerate(self.languages):
            check_text(lang, f"languages[{i}]", max_len=35, empty=False)
        if len(self.skills) > 200:
            raise ValidationError("skills", "at most 200 skills")
        if len(self.availability) > 7 * 48:
            raise ValidationError("availability", "too many windows; merge adjacent ones")
        if len(self.blackout_dates) > 1000:
            raise ValidationError("blackout_dates", "at most 1000 dates")

    def age_on(self, day: date) -> int | None:
        """Completed years of age on ``day`` (a 29 February birthday ages on 1 March)."""
        if self.birth_date is None:
            return None
        return age_on(self.birth_date, day)


MAX_AGE_YEARS = 120
"""A birth date further back than this is a typing mistake, not a volunteer."""


def check_birth_date(birth: date, today: date) -> date:
    """A birth date must lie between ``MAX_AGE_YEARS`` years ago and ``today`` (checked where
    people type it, so that records loaded from elsewhere are judged on the day they arrive)."""
    if birth > today:
        raise ValidationError("birth_date", f"{birth.isoformat()} is in the future")
    if age_on(birth, today) > MAX_AGE_YEARS:
        raise ValidationError(
            "birth_date", f"{birth.isoformat()} is more than {MAX_AGE_YEARS} years ago; check the year"
        )
    return birth


def age_on(birth: date, day: date) -> int:
    """Completed years between ``birth`` and ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


@dataclass(frozen=True, slots=True)
class Shift:
    """One staffed time slot of an activity: an interval of instants and a number of places."""

    id: str
    starts_at: datetime
    ends_at: datetime
    capacity: int

    def __post_init__(self) -> None:
        check_id(self.id)
        check_aware(self.starts_at, "start")
        check_aware(self.ends_at, "end")
        # On instants: Python compares and subtracts two datetimes that share a tzinfo by their
        # wall clocks, so 02:30 on a spring-forward night would seem to come before 03:00.
        if self.duration <= timedelta(0):
            raise ValidationError("end", "must be after the start")
        if self.duration > MAX_SHIFT_DURATION:
            raise ValidationError("end", "a shift lasts at most 14 days; split longer service")
        if isinstance(self.capacity, bool) or not isinstance(self.capacity, int):
            raise ValidationError("capacity", "must be a whole number")
        if not 1 <= self.capacity <= MAX_CAPACITY:
            raise ValidationError("capacity", f"must be between 1 and {MAX_CAPACITY}")

    @property
    def duration(self) -> timedelta:
        """From start to end as instants (a 01:00-03:00 shift on a DST night lasts 1 or 3 h)."""
        return self.ends_at.astimezone(UTC) - self.starts_at.astimezone(UTC)

    @property
    def hours(self) -> float:
        """Duration in hours, computed on instants."""
        return self.duration.total_seconds() / 3600.0


@dataclass(frozen=True, slots=True)
class Activity:
    """A posting: what an organisation needs done, where, by whom and when (its shifts)."""

    id: str
    organisation_id: str
    title: str
    category: str
    timezone: str
    shifts: tuple[Shift, ...]
    description: str = ""
    location: GeoPoint | None = None
    online: bool = False
    required_skills: tuple[str, ...] = ()
    preferred_skills: tuple[str, ...] = ()
    min_age: int | None = None
    required_certifications: tuple[str, ...] = ()
    district: str | None = None

    def __post_init__(self) -> None:
        check_id(self.id)
        check_id(self.organisation_id, "organisation_id")
        check_text(self.title, "title", max_len=300, empty=False)
        check_text(self.description, "description")
        check_text(self.category, "category", max_len=100, empty=False)
        check_timezone(self.timezone)
        if not self.online and self.location is None:
            raise ValidationError("location", "an activity that is not online needs a location")
        if self.min_age is not None and (isinstance(self.min_age, bool) or not 0 <= self.min_age <= 120):
            raise ValidationError("min_age", "must be between 0 and 120")
        for name in ("required_skills", "preferred_skills", "required_certifications"):
            if len(getattr(self, name)) > 50:
                raise ValidationError(name, "at most 50 entries")
        if len(self.shifts) > 1000:
            raise ValidationError("shifts", "at most 1000 shifts per activity")
        seen: set[str] = set()
        for i, shift in enumerate(self.shifts):
            if shift.id in seen:
                raise ValidationError(f"shifts[{i}].id", f"shift id {shift.id!r} appears twice")
            seen.add(shift.id)

    def shift(self, shift_id: str) -> Shift | None:
        return next((s for s in self.shifts if s.id == shift_id), None)


URGENCIES = ("low", "normal", "high", "urgent")
NEED_STATUSES = ("open", "met", "closed")
MAX_NEED_WEEKS = 104


@dataclass(frozen=True, slots=True)
class Need:
    """Something a community, residents' committee or partner agency needs done that is not yet
    an activity: what, where, when (once, or weekly until a date), how many volunteers for how
    many people, how urgently. Activities that answer it are linked by id."""

    id: str
    organisation_id: str
    category: str
    starts_at: datetime
    ends_at: datetime
    skills: tuple[str, ...] = ()
    location: GeoPoint | None = None
    district: str | None = None
    weekly_until: date | None = None
    volunteers_needed: int = 1
    people_affected: int = 0
    urgency: str = "normal"
    description: str = ""
    status: str = "open"
    activity_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_id(self.id)
        check_id(self.organisation_id, "organisation_id")
        check_text(self.category, "category", max_len=100, empty=False)
        check_text(self.description, "description")
        check_aware(self.starts_at, "starts_at")
        check_aware(self.ends_at, "ends_at")
        if self.duration <= timedelta(0):  # on instants, as Shift.duration
            raise ValidationError("ends_at", "must be after starts_at")
        if self.duration > timedelta(days=1):
            raise ValidationError(
                "ends_at", "one occurrence lasts at most a day; use weekly_until to repeat it"
            )
        if self.location is None and self.district is None:
            raise ValidationError("location", "give a location or a district")
        if self.district is not None:
            check_text(self.district, "district", max_len=100, empty=False)
        self._check_repeats()
        for name, value, low, top in (
            ("volunteers_needed", self.volunteers_needed, 1, 10_000),
            ("people_affected", self.people_affected, 0, 10_000_000),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= top:
                raise ValidationError(name, f"must be a whole number from {low} to {top}")
        if self.urgency not in URGENCIES:
            raise ValidationError("urgency", f"must be one of {list(URGENCIES)}")
        if self.status not in NEED_STATUSES:
            raise ValidationError("status", f"must be one of {list(NEED_STATUSES)}")
        if len(self.skills) > 50:
            raise ValidationError("skills", "at most 50 entries")
        for i, skill in enumerate(self.skills):
            check_text(skill, f"skills[{i}]", max_len=100, empty=False)
        if len(self.activity_ids) > 100:
            raise ValidationError("activity_ids", "at most 100 activities")
        for i, ident in enumerate(self.activity_ids):
            check_id(ident, f"activity_ids[{i}]")

    def _check_repeats(self) -> None:
        if self.weekly_until is None:
            return
        if self.weekly_until < self.starts_at.date():
            raise ValidationError("weekly_until", "must not be before the first occurrence")
        if (self.weekly_until - self.starts_at.date()).days > 7 * MAX_NEED_WEEKS:
            raise ValidationError("weekly_until", f"a need repeats for at most {MAX_NEED_WEEKS} weeks")

    @property
    def hours(self) -> float:
        """Hours of one occurrence."""
        return self.duration.total_seconds() / 3600.0

    @property
    def duration(self) -> timedelta:
        """One occurrence, from start to end as instants."""
        return self.ends_at.astimezone(UTC) - self.starts_at.astimezone(UTC)

    def occurrences(self) -> list[tuple[datetime, datetime]]:
        """Every occurrence: the first, then weekly while it starts on or before ``weekly_until``."""
        out = [(self.starts_at, self.ends_at)]
        if self.weekly_until is not None:
            step = timedelta(weeks=1)
            while (out[-1][0] + step).date() <= self.weekly_until:
                out.append((out[-1][0] + step, out[-1][1] + step))
        return out


@dataclass(frozen=True, slots=True)
class ServiceRecord:
    """Service that happened (or was missed): feeds the past-service factor."""

    volunteer_id: str
    activity_id: str
    date: date
    hours: float
    attended: bool
    shift_id: str | None = None
    rating: int | None = None

    def __post_init__(self) -> None:
        check_id(self.volunteer_id, "volunteer_id")
        check_id(self.activity_id, "activity_id")
        if self.shift_id is not None:
            check_id(self.shift_id, "shift_id")
        hours = self.hours
        if isinstance(hours, bool) or not isinstance(hours, int | float) or not math.isfinite(hours):
            raise ValidationError("hours", "must be a finite number")
        if not 0.0 <= hours <= 24.0:
            raise ValidationError("hours", "must be between 0 and 24 for one day of service")
        if self.rating is not None and (isinstance(self.rating, bool) or not 1 <= self.rating <= 5):
            raise ValidationError("rating", "must be 1 to 5")
        object.__setattr__(self, "hours", float(hours))


@dataclass(frozen=True, slots=True)
class Booking:
    """A volunteer holding a place on a shift (a confirmed sign-up)."""

    volunteer_id: str
    shift_id: str

    def __post_init__(self) -> None:
        check_id(self.volunteer_id, "volunteer_id")
        check_id(self.shift_id, "shift_id")


@dataclass(frozen=True, slots=True)
class Reason:
    """One short, bilingual explanation of a match, tied to the factor or rule it comes from."""

    factor: str
    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"

    def to_json(self) -> dict[str, str]:
        return {"factor": self.factor, "zh": self.zh, "en": self.en}


@dataclass(frozen=True, slots=True)
class Match:
    """One ranked result: the total score, its per-factor parts and why."""

    id: str
    score: float
    parts: Mapping[str, float]
    reasons: tuple[Reason, ...]
    shift_id: str | None = None
    distance_km: float | None = None


@dataclass(frozen=True, slots=True)
class World:
    """Everything the interchange format carries, as domain objects."""

    volunteers: tuple[Volunteer, ...] = ()
    activities: tuple[Activity, ...] = ()
    service_records: tuple[ServiceRecord, ...] = ()
    bookings: tuple[Booking, ...] = field(default=())
