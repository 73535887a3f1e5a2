"""The store interface every backend implements, and the URL-based factory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from matcher.model.domain import Activity, GeoPoint, ServiceRecord, Volunteer, World
from matcher.model.errors import ValidationError
from matcher.model.skills import Taxonomy
from matcher.model.vocabulary import ROLES
from matcher.store.allocations import Allocations
from matcher.store.audit import Audit
from matcher.store.calls import Calls
from matcher.store.deliveries import Deliveries
from matcher.store.feedback import Feedback
from matcher.store.joining import Joining
from matcher.store.messages import Messages
from matcher.store.needs import Needs
from matcher.store.notices import Notices
from matcher.store.observations import Observations
from matcher.store.operations import Operations
from matcher.store.organisations import Organisations
from matcher.store.preferences import Preferences
from matcher.store.tx import Tx

ACTS_FOR_ORGANISATION = frozenset({"organiser", "org_admin"})
"""Roles that act for one organisation (an org admin, for everything under it too)."""


@dataclass(frozen=True, slots=True)
class Account:
    """Someone who may call the API: a volunteer (their own data), an organiser (of one
    organisation), an org admin (of an organisation and everything under it), an analyst
    (aggregates only) or an admin."""

    id: str
    name: str
    role: str
    organisation_id: str | None = None
    volunteer_id: str | None = None
    password_hash: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValidationError("role", f"must be one of {', '.join(ROLES)}")
        if (self.role in ACTS_FOR_ORGANISATION) != (self.organisation_id is not None):
            raise ValidationError(
                "organisation_id", "organisers and org admins, and only they, act for an organisation"
            )
        if self.role == "volunteer" and self.volunteer_id is None:
            # others may keep one too: a volunteer who became an organiser keeps their record
            raise ValidationError("volunteer_id", "a volunteer account names its volunteer")


class Store(Protocol):
    """Where volunteers, activities, history and bookings are kept. Writes are transactional:
    a method either does all it says or nothing."""

    ops: Operations
    """Sign-ups, waitlists, attendance and the hours ledger (:mod:`matcher.store.operations`)."""
    feedback: Feedback
    """What was recommended, what followed, and the learned models (:mod:`matcher.store.feedback`)."""
    needs: Needs
    """Needs that are not yet activities (:mod:`matcher.store.needs`)."""
    allocations: Allocations
    """Campaign plans and their acceptance (:mod:`matcher.store.allocations`)."""
    preferences: Preferences
    """Each account's language in the web console (:mod:`matcher.store.preferences`)."""
    audit: Audit
    messages: Messages
    deliveries: Deliveries
    notices: Notices
    calls: Calls
    """Reads of personal data by others, and consents (:mod:`matcher.store.audit`)."""
    observations: Observations
    """Demand and supply signals imported from published data (:mod:`matcher.store.observations`)."""
    joining: Joining
    """Sessions, real names and guardians (:mod:`matcher.store.joining`)."""
    organisations: Organisations
    """The registry, members, invitations, teams, stations (:mod:`matcher.store.organisations`)."""

    def close(self) -> None: ...

    def schema_version(self) -> str: ...

    def load_world(self, world: World) -> None:
        """Insert or replace everything in ``world`` in one transaction (all or nothing)."""
        ...

    def snapshot(self) -> World:
        """Everything, as domain objects (what the index is built from)."""
        ...

    def counts(self) -> dict[str, int]: ...

    def get_volunteer(self, ident: str) -> Volunteer | None: ...

    def get_activity(self, ident: str) -> Activity | None: ...

    def volunteer_cards(self, idents: list[str]) -> dict[str, tuple[str, str | None]]:
        """Name and district of each of ``idents`` still held (one query: what organisers see)."""
        ...

    def upsert_volunteer(self, v: Volunteer) -> None: ...

    def upsert_activity(self, a: Activity, now_s: int | None = None) -> None:
        """Write the activity and its shifts. With ``now_s`` (an organiser's change through the
        service), everyone on a removed shift is told it is cancelled and everyone on a moved one
        its new times, in the same transaction."""
        ...

    def delete_volunteer(self, ident: str) -> bool: ...

    def delete_activity(self, ident: str, now_s: int | None = None) -> bool:
        """Remove the activity; with ``now_s``, everyone on its shifts is told they are cancelled."""
        ...

    def add_service_record(self, r: ServiceRecord) -> None: ...

    def erase_volunteer(self, ident: str) -> bool:
        """Blank a volunteer's personal data (name, contact, home, birth date), keeping the row so
        their service records stay as anonymous statistics; False if there is no such volunteer."""
        ...

    def service_records_of(self, volunteer_id: str) -> list[ServiceRecord]: ...

    def last_change(self) -> int:
        """The sequence number of the latest write (0: none yet)."""
        ...

    def changes_since(self, seq: int) -> list[tuple[int, str, str]]:
        """Writes after ``seq``, oldest first: (seq, kind, id) with kind "volunteer" or
        "activity" (re-read that record) or "reload" (re-read everything)."""
        ...

    def create_account(self, account: Account) -> None: ...

    def register(self, v: Volunteer, account: Account, also: Callable[[Tx], None]) -> None:
        """A new volunteer and their account in one transaction, with ``also`` (the rest of a
        registration: real name, guardian, consent) written in it; a name taken is a
        ConflictError and nothing is written."""
        ...

    def get_account(self, ident: str) -> Account | None: ...

    def accounts(self, limit: int) -> list[Account]:
        """Up to ``limit`` accounts, by id (what a serving process keeps at hand)."""
        ...

    def find_account(self, name: str) -> Account | None: ...

    def list_activities(
        self,
        *,
        category: str | None,
        starts_from: int | None,
        starts_to: int | None,
        near: GeoPoint | None = None,
        radius_km: float | None = None,
    ) -> list[Activity]:
        """Activities (with their shifts) of a category, with a shift starting in [from, to)
        (UTC seconds), and located within ``radius_km`` of ``near`` or online; every filter is
        optional. The distance filter may let a few more through: the caller measures."""
        ...


def sqlite_file(url: str) -> Path:
    """The file a ``sqlite:///`` URL (or a bare path) names."""
    return Path(url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url)


def data_dir() -> Path:
    """The product's data (taxonomy, gazetteer, districts, attribution): ``matcher/data``,
    installed with the package (the checkout's top-level ``data`` links to it)."""
    return Path(__file__).resolve().parents[1] / "data"


def load_taxonomy(directory: Path | None = None) -> Taxonomy:
    """The skills taxonomy shipped in ``data/``: curated volunteering skills plus ESCO v1."""
    import csv

    d = directory or data_dir()
    with open(d / "skills_volunteering.csv", encoding="utf-8", newline="") as f:
        curated = list(csv.DictReader(f))
    esco_path = d / "esco" / "skills_en.csv"
    esco: list[dict[str, str]] = []
    if esco_path.exists():
        with open(esco_path, encoding="utf-8", newline="") as f:
            esco = list(csv.DictReader(f))
    return Taxonomy.from_rows(curated, esco)
