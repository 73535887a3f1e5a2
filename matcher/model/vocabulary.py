"""The words volmatch's records are written in, each defined once: who a caller is, where a
sign-up stands, what followed a recommendation. They are ``StrEnum``s, so each member is also
the plain string the databases store and the API sends (``Role.ADMIN == "admin"``); the
migrations' CHECK constraints list the same values (a test compares them)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What an account may do (see ``api/deps.policy``)."""

    VOLUNTEER = "volunteer"
    ORGANISER = "organiser"
    ORG_ADMIN = "org_admin"  # manages an organisation and everything under it
    ANALYST = "analyst"
    ADMIN = "admin"


ROLES: tuple[Role, ...] = tuple(Role)
"""Every role, least to most trusted."""


class SignupStatus(StrEnum):
    """Where a volunteer's place on a shift stands."""

    INVITED = "invited"  # an organiser asked; the volunteer has not answered
    DECLINED = "declined"
    CONFIRMED = "confirmed"  # holds a place
    WAITLISTED = "waitlisted"
    OFFERED = "offered"  # a freed place, held for them until ``offered_until_s``
    CANCELLED = "cancelled"
    LATE_CANCELLED = "late_cancelled"  # cancelled too close to the start
    EXPIRED = "expired"  # an offer or invitation not answered in time
    NO_SHOW = "no_show"


HOLDING: frozenset[SignupStatus] = frozenset(
    {SignupStatus.CONFIRMED, SignupStatus.WAITLISTED, SignupStatus.OFFERED, SignupStatus.INVITED}
)
"""The statuses of a sign-up still in play (the volunteer may still serve on the shift)."""


class Outcome(StrEnum):
    """What followed a recommendation, as the feedback log records it."""

    VIEWED = "viewed"
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    SIGNED_UP = "signed_up"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    RATING = "rating"


GOOD_OUTCOMES: frozenset[str] = frozenset(
    {Outcome.ACCEPTED.value, Outcome.SIGNED_UP.value, Outcome.ATTENDED.value}
)
"""Outcomes that mean the person took the place (plain strings: an enum member hashes by its
name, so sets and pandas ``isin`` need the values)."""
BAD_OUTCOMES: frozenset[str] = frozenset({Outcome.DECLINED.value, Outcome.NO_SHOW.value})
"""Outcomes that cancel a good one: said no, or did not come."""
OUTCOMES: frozenset[str] = frozenset(o.value for o in Outcome)
"""Every outcome the feedback log accepts."""


class MessageKind(StrEnum):
    """What a volunteer is told (the outbox and the console inbox)."""

    SIGNUP_CONFIRMED = "signup_confirmed"  # a place is theirs
    SIGNUP_WAITLISTED = "signup_waitlisted"  # on the waitlist, with their position
    INVITED = "invited"  # an organiser asks them to take a shift
    OFFERED = "offered"  # a freed place, held for them until a deadline (urgent)
    OFFER_LAPSED = "offer_lapsed"  # the hold ended unanswered; the place went on
    HOURS_APPROVED = "hours_approved"
    HOURS_CORRECTED = "hours_corrected"
    REMINDER = "reminder"  # a confirmed place starts soon (scheduled; dropped if given up)
    EMERGENCY_CALL = "emergency_call"  # an organiser needs people at short notice (urgent)
    SHIFT_CHANGED = "shift_changed"  # the organiser moved the shift
    SHIFT_CANCELLED = "shift_cancelled"  # the organiser called the shift off
    TIER_REACHED = "tier_reached"  # a new star tier for their hours
    PHONE_CODE = "phone_code"  # a code proving a phone number is theirs (urgent)
    MEMBERSHIP_DECIDED = "membership_decided"  # an organisation approved or refused them


class NoticeChannel(StrEnum):
    """Where a message goes beside the console inbox (which always has it)."""

    EMAIL = "email"
    SMS = "sms"
    WECHAT = "wechat"


class OrganisationKind(StrEnum):
    """What an organisation in the registry is (the hierarchy's levels, then the rest)."""

    ASSOCIATION = "association"  # the city's volunteer association: the root
    DISTRICT_FEDERATION = "district_federation"
    STREET_STATION = "street_station"
    COMMUNITY_STATION = "community_station"
    SCHOOL = "school"
    COMPANY = "company"
    NGO = "ngo"
    GOVERNMENT = "government"  # a department (civilisation office, Youth League ...)


class OrganisationStatus(StrEnum):
    """Where an organisation stands: it applies, its parent's admins approve (or refuse) it,
    and an approved one may be suspended (its activities stay, it posts no new ones)."""

    APPLIED = "applied"
    APPROVED = "approved"
    SUSPENDED = "suspended"
    REFUSED = "refused"


class MembershipStatus(StrEnum):
    """A volunteer's membership of an organisation."""

    APPLIED = "applied"
    APPROVED = "approved"
    REFUSED = "refused"
    LEFT = "left"


class StationSetting(StrEnum):
    """Where a service station stands."""

    TOWN = "town"
    VILLAGE = "village"
