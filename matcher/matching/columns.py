"""Struct-of-arrays batches of volunteers, activities, shifts and service history.

These are what :class:`matcher.matching.index.MatchIndex` is built from. Small worlds come from domain
objects (:func:`volunteer_columns`, ...); the demo city generator and bulk loaders produce them
directly, which is how a million volunteers are indexed in about a second.

Skills, categories, organisations and time zones appear as integer codes into a vocabulary list
carried alongside; ``NO_DAY`` marks a missing date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matcher.model.calendar import WORDS, availability_bits, day_number, epoch_seconds
from matcher.model.domain import Activity, ServiceRecord, Volunteer
from matcher.model.geo import matching_cells

NO_DAY = np.iinfo(np.int32).max
"""Day number standing for "no date" (unknown birth date, certificate without expiry)."""


@dataclass(slots=True)
class Ragged:
    """Variable-length integer lists in CSR form: list ``i`` is ``values[indptr[i]:indptr[i+1]]``."""

    indptr: NDArray[np.int64]
    values: NDArray[np.int32]

    @classmethod
    def from_lists(cls, lists: Sequence[Sequence[int]]) -> Ragged:
        lengths = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
        indptr = np.zeros(len(lists) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        flat = np.fromiter((v for x in lists for v in x), dtype=np.int32, count=int(indptr[-1]))
        return cls(indptr, flat)

    def __len__(self) -> int:
        return int(self.indptr.shape[0] - 1)

    def row(self, i: int) -> NDArray[np.int32]:
        return self.values[self.indptr[i] : self.indptr[i + 1]]

    def owners(self) -> NDArray[np.int32]:
        """For each value, the index of the list it belongs to."""
        return np.repeat(np.arange(len(self), dtype=np.int32), np.diff(self.indptr))


class Vocabulary:
    """A growing list of strings with dense integer codes (skills, categories, ...)."""

    __slots__ = ("_codes", "_names")

    def __init__(self, names: Sequence[str] = ()) -> None:
        self._names: list[str] = []
        self._codes: dict[str, int] = {}
        for name in names:
            self.code(name)

    def code(self, name: str) -> int:
        code = self._codes.get(name)
        if code is None:
            code = len(self._names)
            self._codes[name] = code
            self._names.append(name)
        return code

    def get(self, name: str) -> int | None:
        return self._codes.get(name)

    def name(self, code: int) -> str:
        return self._names[code]

    def __len__(self) -> int:
        return len(self._names)

    @property
    def names(self) -> list[str]:
        return self._names


@dataclass(slots=True)
class VolunteerColumns:
    """Volunteers as columns. Shapes are (n,) unless stated."""

    ids: list[str]
    lat: NDArray[np.float64]  # the centre of the home's matching cell; NaN when no home is known
    lon: NDArray[np.float64]
    max_travel_km: NDArray[np.float32]
    birth_day: NDArray[np.int32]  # day number, NO_DAY if unknown
    tz: NDArray[np.int16]  # code into ``zones``
    avail: NDArray[np.uint64]  # (n, WORDS) weekly slot bitmap
    online_ok: NDArray[np.bool_]
    skills: Ragged  # codes into the skill vocabulary (languages included as skills)
    cert_skills: Ragged
    cert_expiry: NDArray[np.int32]  # aligned with cert_skills.values; NO_DAY = no expiry
    blackout: Ragged  # day numbers
    zones: list[str]
    district: NDArray[np.int32] | None = None  # code into ``districts``; -1 (or None: all) unknown
    districts: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(slots=True)
class ActivityColumns:
    """Activities as columns."""

    ids: list[str]
    organisation: NDArray[np.int32]  # code into the organisation vocabulary
    category: NDArray[np.int32]  # code into the category vocabulary
    lat: NDArray[np.float64]  # NaN when online only
    lon: NDArray[np.float64]
    online: NDArray[np.bool_]
    tz: NDArray[np.int16]
    min_age: NDArray[np.int16]  # -1: no minimum
    required: Ragged
    preferred: Ragged
    required_certs: Ragged
    zones: list[str]
    district: NDArray[np.int32] | None = None  # code into ``districts``; -1 (or None: all) unknown
    districts: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(slots=True)
class ShiftColumns:
    """Shifts as columns; ``activity`` is the row in the matching :class:`ActivityColumns`."""

    ids: list[str]
    activity: NDArray[np.int32]
    starts_s: NDArray[np.int64]  # UTC seconds since the epoch
    ends_s: NDArray[np.int64]
    capacity: NDArray[np.int32]

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(slots=True)
class HistoryColumns:
    """Service records as columns: the volunteer's row, the activity's category and organisation
    codes, the day number, hours served and whether they attended."""

    volunteer: NDArray[np.int32]
    category: NDArray[np.int32]
    organisation: NDArray[np.int32]
    day: NDArray[np.int32]
    hours: NDArray[np.float32]
    attended: NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.volunteer.shape[0])


def volunteer_skill_ids(v: Volunteer) -> list[str]:
    """A volunteer's skills for matching: declared skills plus their languages (``lang_<code>``),
    without duplicates, in a stable order."""
    out = [c.skill for c in v.skills]
    out += [f"lang_{lang.lower()}" if len(lang) <= 3 else lang for lang in v.languages]
    return list(dict.fromkeys(out))


def volunteer_columns(
    volunteers: Sequence[Volunteer], skills: Vocabulary, zones: Vocabulary
) -> VolunteerColumns:
    n = len(volunteers)
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    avail = np.zeros((n, WORDS), dtype=np.uint64)
    for i, v in enumerate(volunteers):
        if v.home is not None:
            lat[i], lon[i] = v.home.lat, v.home.lon
        if v.availability:
            avail[i] = availability_bits(v.availability)
    lat, lon = matching_cells(lat, lon)  # matching never sees a precise home
    certs = [[skills.code(c.skill) for c in v.certifications] for v in volunteers]
    expiry = np.fromiter(
        (day_number(c.expires) if c.expires else NO_DAY for v in volunteers for c in v.certifications),
        dtype=np.int32,
    )
    return VolunteerColumns(
        ids=[v.id for v in volunteers],
        lat=lat,
        lon=lon,
        max_travel_km=np.array([v.max_travel_km for v in volunteers], dtype=np.float32),
        birth_day=np.array(
            [day_number(v.birth_date) if v.birth_date else NO_DAY for v in volunteers], dtype=np.int32
        ),
        tz=np.array([zones.code(v.timezone) for v in volunteers], dtype=np.int16),
        avail=avail,
        online_ok=np.array([v.online_ok for v in volunteers], dtype=bool),
        skills=Ragged.from_lists([[skills.code(s) for s in volunteer_skill_ids(v)] for v in volunteers]),
        cert_skills=Ragged.from_lists(certs),
        cert_expiry=expiry,
        blackout=Ragged.from_lists([[day_number(d) for d in v.blackout_dates] for v in volunteers]),
        zones=zones.names,
        **_districts([v.district for v in volunteers]),
    )


def activity_columns(
    activities: Sequence[Activity],
    skills: Vocabulary,
    zones: Vocabulary,
    categories: Vocabulary,
    organisations: Vocabulary,
) -> tuple[ActivityColumns, ShiftColumns]:
    n = len(activities)
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    for i, a in enumerate(activities):
        if a.location is not None and not a.online:
            lat[i], lon[i] = a.location.lat, a.location.lon
    acts = ActivityColumns(
        ids=[a.id for a in activities],
        organisation=np.array([organisations.code(a.organisation_id) for a in activities], np.int32),
        category=np.array([categories.code(category_key(a.category)) for a in activities], np.int32),
        lat=lat,
        lon=lon,
        online=np.array([a.online for a in activities], dtype=bool),
        tz=np.array([zones.code(a.timezone) for a in activities], dtype=np.int16),
        min_age=np.array([-1 if a.min_age is None else a.min_age for a in activities], np.int16),
        required=Ragged.from_lists([[skills.code(s) for s in a.required_skills] for a in activities]),
        preferred=Ragged.from_lists([[skills.code(s) for s in a.preferred_skills] for a in activities]),
        required_certs=Ragged.from_lists(
            [[skills.code(s) for s in a.required_certifications] for a in activities]
        ),
        zones=zones.names,
        **_districts([a.district for a in activities]),
    )
    shifts = [(i, s) for i, a in enumerate(activities) for s in a.shifts]
    sh = ShiftColumns(
        ids=[s.id for _, s in shifts],
        activity=np.array([i for i, _ in shifts], dtype=np.int32),
        starts_s=np.array([epoch_seconds(s.starts_at) for _, s in shifts], dtype=np.int64),
        ends_s=np.array([epoch_seconds(s.ends_at) for _, s in shifts], dtype=np.int64),
        capacity=np.array([s.capacity for _, s in shifts], dtype=np.int32),
    )
    return acts, sh


def _districts(names: Sequence[str | None]) -> dict[str, Any]:
    """District codes (-1: none given) and their names, for a columns constructor."""
    vocabulary = Vocabulary()
    codes = np.array([-1 if d is None else vocabulary.code(d) for d in names], dtype=np.int32)
    return {"district": codes, "districts": vocabulary.names}


def category_key(category: str) -> str:
    """Categories compare case- and space-insensitively ("Elderly care" == "elderly  care")."""
    return " ".join(category.casefold().split())


def history_columns(
    records: Sequence[ServiceRecord],
    volunteer_row: dict[str, int],
    activity_keys: dict[str, tuple[int, int]],
) -> HistoryColumns:
    """Records whose volunteer and activity are known; ``activity_keys`` maps an activity id to its
    (category code, organisation code)."""
    kept = [r for r in records if r.volunteer_id in volunteer_row and r.activity_id in activity_keys]
    return HistoryColumns(
        volunteer=np.array([volunteer_row[r.volunteer_id] for r in kept], dtype=np.int32),
        category=np.array([activity_keys[r.activity_id][0] for r in kept], dtype=np.int32),
        organisation=np.array([activity_keys[r.activity_id][1] for r in kept], dtype=np.int32),
        day=np.array([day_number(r.date) for r in kept], dtype=np.int32),
        hours=np.array([r.hours for r in kept], dtype=np.float32),
        attended=np.array([r.attended for r in kept], dtype=bool),
    )
