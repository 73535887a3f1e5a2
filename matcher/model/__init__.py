"""The volunteering world as values: standard library only, every constructor validating.

- :mod:`~matcher.model.domain`: volunteers, activities, shifts, needs, service and bookings.
- :mod:`~matcher.model.errors`: the errors the core raises (the shell maps them to 4xx).
- :mod:`~matcher.model.vocabulary`: roles, sign-up statuses and outcomes as ``StrEnum``.
- :mod:`~matcher.model.skills`: the skills taxonomy and free-text normalisation.
- :mod:`~matcher.model.calendar`: weekly availability, shift intervals, time zones.
- :mod:`~matcher.model.geo`: great-circle distances, privacy cells and distance bands.
"""

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
)
from matcher.model.errors import ConflictError, MatcherError, NotFoundError, ValidationError
from matcher.model.skills import Skill, Taxonomy
from matcher.model.vocabulary import Outcome, Role, SignupStatus

__all__ = [
    "Activity",
    "Booking",
    "Certification",
    "ConflictError",
    "GeoPoint",
    "MatcherError",
    "Need",
    "NotFoundError",
    "Outcome",
    "Role",
    "ServiceRecord",
    "Shift",
    "SignupStatus",
    "Skill",
    "SkillClaim",
    "Taxonomy",
    "ValidationError",
    "Volunteer",
    "WeeklyWindow",
    "World",
]
