"""The rules of joining volmatch and of how organisations stand to each other: passwords, the
national ID number (GB 11643), minors and their guardians, and which kind of organisation may
sit under which. Pure: the shell hashes, stores and tells."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from matcher.model.domain import age_on, check_birth_date
from matcher.model.errors import ValidationError
from matcher.model.vocabulary import OrganisationKind, OrganisationStatus

MIN_PASSWORD = 10
"""Characters a password needs at least (NIST SP 800-63B asks 8; we ask a little more)."""
MAX_PASSWORD = 200
ADULT_AGE = 18
"""Under this age a volunteer needs a guardian's consent on record before taking a place."""

_ID_WEIGHTS = tuple(2 ** (17 - i) % 11 for i in range(17))
_ID_CHECKS = "10X98765432"  # GB 11643-1999: the check character for each sum mod 11
_ID_FORM = re.compile(r"^[1-9]\d{16}[\dX]$")


def check_password(password: str) -> str:
    """A password long enough to resist guessing (spaces count; nothing else is demanded)."""
    if len(password) < MIN_PASSWORD:
        raise ValidationError("password", f"must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise ValidationError("password", f"must be at most {MAX_PASSWORD} characters")
    return password


@dataclass(frozen=True, slots=True)
class NationalId:
    """A checked national ID number: what is kept of it (never the whole number)."""

    number: str
    birth_date: date

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def masked(self) -> str:
        """What is shown again: ``**************123X``."""
        return "*" * 14 + self.last4


def check_national_id(text: str, today: date) -> NationalId:
    """An 18-character resident ID number checked by GB 11643: 17 digits whose weighted sum
    gives the check character, and a birth date (characters 7-14) that exists and is neither in
    the future nor more than 120 years back. Full-width characters and a lower-case x are read
    as what they mean."""
    number = unicodedata.normalize("NFKC", text).strip().upper()
    if not _ID_FORM.match(number):
        raise ValidationError("national_id", "must be 18 characters: 17 digits and a digit or X")
    total = sum(int(c) * w for c, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECKS[total % 11] != number[17]:
        raise ValidationError("national_id", "the check character does not match: a digit is mistyped")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            "national_id", "the birth date in the number (characters 7-14) does not exist"
        ) from None
    try:
        check_birth_date(born, today)
    except ValidationError as e:
        raise ValidationError("national_id", f"the birth date in the number {e.message}") from None
    return NationalId(number, born)


def national_id_check_character(first17: str) -> str:
    """The check character GB 11643 gives the first 17 digits (for people who make test data)."""
    return _ID_CHECKS[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def is_minor(birth: date | None, day: date) -> bool:
    """Under 18 on ``day``; someone with no birth date on record is not taken for a minor (the
    age rules of activities still ask for one)."""
    return birth is not None and age_on(birth, day) < ADULT_AGE


@dataclass(frozen=True, slots=True)
class Guardian:
    """A guardian's consent for a minor, as recorded."""

    name: str
    phone: str
    relationship: str
    consent_date: date

    def __post_init__(self) -> None:
        for field in ("name", "relationship"):
            value = getattr(self, field)
            if not value.strip() or len(value) > 100:
                raise ValidationError(f"guardian.{field}", "must be 1 to 100 characters")

    def check(self, today: date) -> Guardian:
        if self.consent_date > today:
            raise ValidationError("guardian.consent_date", "cannot be in the future")
        return self


@dataclass(frozen=True, slots=True)
class Organisation:
    """An organisation in the registry: its place in the hierarchy, what it serves, whom to
    contact, and where its application stands."""

    id: str
    name: str
    kind: OrganisationKind
    parent_id: str | None
    status: OrganisationStatus
    district: str | None = None
    area: tuple[str, ...] = ()
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    created_s: int = 0
    decided_s: int | None = None


# Which kinds may sit under which: the geographic levels in order, the rest anywhere.
_GEOGRAPHIC: Mapping[OrganisationKind, frozenset[OrganisationKind]] = {
    OrganisationKind.ASSOCIATION: frozenset(),
    OrganisationKind.DISTRICT_FEDERATION: frozenset({OrganisationKind.ASSOCIATION}),
    OrganisationKind.STREET_STATION: frozenset({OrganisationKind.DISTRICT_FEDERATION}),
    OrganisationKind.COMMUNITY_STATION: frozenset(
        {OrganisationKind.STREET_STATION, OrganisationKind.DISTRICT_FEDERATION}
    ),
}


def check_parent(kind: OrganisationKind, parent: OrganisationKind | None) -> None:
    """City → district → street → community; schools, companies, NGOs and departments under any
    organisation. Only an association stands at the root."""
    if parent is None:
        if kind is not OrganisationKind.ASSOCIATION:
            raise ValidationError(
                "parent_id", "only an association stands alone: name the parent organisation"
            )
        return
    allowed = _GEOGRAPHIC.get(kind)
    if allowed is not None and parent not in allowed:
        wanted = " or ".join(sorted(k.value for k in allowed)) or "no parent"
        raise ValidationError("parent_id", f"a {kind.value} sits under {wanted}, not under a {parent.value}")


def check_no_cycle(ident: str, parent_id: str, ancestors_of_parent: list[str]) -> None:
    """An organisation cannot sit under itself or under one of its own descendants:
    ``ancestors_of_parent`` is the chain from the new parent up to the root."""
    if parent_id == ident or ident in ancestors_of_parent:
        raise ValidationError(
            "parent_id", "an organisation cannot sit under itself or one of its own descendants"
        )
