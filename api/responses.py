"""What the API answers with: pydantic models for the main responses, so the OpenAPI schema
(``/docs``) shows the shapes people get. Inputs are in :mod:`api.schemas`.

Record models mirror the interchange format (:mod:`matcher.interchange.records`), which writes
optional fields only when they are set; routes using them pass
``response_model_exclude_unset=True`` so an answer keeps exactly that shape."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from matcher.model.vocabulary import MessageKind, SignupStatus


class PointOut(BaseModel):
    lat: float
    lon: float
    source: str | None = Field(None, description="where the coordinates came from, when geocoded")


class ShiftOut(BaseModel):
    id: str
    start: str = Field(description="ISO 8601 with offset")
    end: str = Field(description="ISO 8601 with offset")
    capacity: int


class ActivityOut(BaseModel):
    """A posting with its shifts, as stored."""

    id: str
    organisation_id: str
    title: str
    description: str
    category: str
    location: PointOut | None
    online: bool
    required_skills: list[str]
    preferred_skills: list[str]
    required_certifications: list[str]
    min_age: int | None
    timezone: str
    shifts: list[ShiftOut]
    district: str | None = None


class SkillLevelOut(BaseModel):
    skill: str
    level: int


class WindowOut(BaseModel):
    day: str = Field(description="mon ... sun")
    start: str = Field(description="HH:MM, local time")
    end: str = Field(description="HH:MM, local time (24:00 for midnight)")


class CertificationOut(BaseModel):
    skill: str
    expires: str | None = Field(description="ISO date, or null if it does not expire")


class VolunteerOut(BaseModel):
    """A volunteer's own record (precise home and contact details: only they and admins see it)."""

    id: str
    name: str
    home: PointOut | None
    max_travel_km: float
    skills: list[str | SkillLevelOut]
    languages: list[str]
    birth_date: str | None
    timezone: str
    availability: list[WindowOut]
    blackout_dates: list[str]
    certifications: list[CertificationOut]
    online_ok: bool
    district: str | None = None
    phone: str | None = None
    email: str | None = None


class SignupOut(BaseModel):
    """A volunteer's place on a shift, and where it stands (times in seconds since 1970, UTC)."""

    id: str
    shift_id: str
    volunteer_id: str
    status: SignupStatus
    seq: int = Field(description="the order sign-ups reached the shift")
    created_s: int
    offered_until_s: int | None = None
    checked_in_s: int | None = None
    checked_out_s: int | None = None
    position: int | None = Field(None, description="on the waitlist, 1 = next to be offered a place")


class LedgerEntryOut(BaseModel):
    """Approved hours, one entry each (a correction is a new entry, never an edit)."""

    id: int
    volunteer_id: str
    activity_id: str | None
    shift_id: str | None
    kind: str
    hours: float
    note: str
    recorded_by: str
    recorded_s: int


class ServiceRecordOut(BaseModel):
    volunteer_id: str
    activity_id: str
    shift_id: str | None
    date: str
    hours: float
    attended: bool
    rating: int | None


class EarlierServiceOut(BaseModel):
    """Service from before volmatch recorded hours (imported): it informs matching, earns no stars."""

    hours: float
    attended: int
    missed: int
    activities: int
    latest: list[ServiceRecordOut]


class HoursOut(BaseModel):
    """Approved hours, recognition tier and the ledger behind them."""

    volunteer_id: str
    total_hours: float
    stars: int
    tiers: list[float] = Field(description="hours at which each star is earned")
    next_tier_hours: float | None
    hours_to_next: float | None
    entries: list[LedgerEntryOut]
    earlier_service: EarlierServiceOut


class TextOut(BaseModel):
    zh: str
    en: str


class MessageOut(BaseModel):
    """Something a volunteer was told (times in seconds since 1970, UTC)."""

    id: int
    volunteer_id: str
    kind: MessageKind
    urgent: bool = Field(description="sent even in quiet hours (a held place's deadline, an emergency call)")
    shift_id: str | None
    signup_id: str | None
    detail: dict[str, Any] = Field(description="the kind's fields: position, until_s, hours, note")
    created_s: int
    read_s: int | None = Field(description="when the volunteer read it (null: unread)")
    text: TextOut
    links: dict[str, str] | None = Field(
        default=None, description="an emergency call's accept_url and decline_url (no sign-in needed)"
    )


class InboxOut(BaseModel):
    items: list[MessageOut]
    unread: int = Field(description="unread messages in all, not only on this page")


class ReasonOut(BaseModel):
    factor: str
    zh: str
    en: str


class MatchOut(BaseModel):
    id: str
    score: float
    parts: dict[str, float]
    reasons: list[ReasonOut]
    shift_id: str | None = None


class VolunteerMatchOut(MatchOut):
    """A recommended volunteer as an organiser sees them: no contact details, no home, no exact
    distance; the district and a distance band."""

    name: str
    district: str | None
    distance_band: str | None


class ActivityMatchOut(MatchOut):
    title: str
    distance_km: float | None


class RankingOut(BaseModel):
    """A ranked list, what was looked at, and why it is short (``note``) when it is."""

    matches: list[Any]
    considered: int
    excluded: dict[str, int]
    note: ReasonOut | None = None
    served_id: str | None = Field(
        None, description="this answer's id in the feedback log (cite it when reporting a view)"
    )
    model_version: str | None = Field(
        None, description="the ranking model that ordered it ('default': the default weights)"
    )


class VolunteerRankingOut(RankingOut):
    """Recommended volunteers, as an organiser sees them."""

    matches: list[VolunteerMatchOut]


class ActivityRankingOut(RankingOut):
    """Recommended activities, as the volunteer sees them: titles and their true distances."""

    matches: list[ActivityMatchOut]


class Page(BaseModel):
    items: list[dict[str, Any]]
    total: int
    offset: int
    limit: int
