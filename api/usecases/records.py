"""Volunteers and activities as records: read, create, replace, erase; whole documents in and
out; the volunteer's consent to the use of their location. Each write goes to the store (one
transaction), then to this process's index (:meth:`api.live.Live.write`)."""

from __future__ import annotations

from datetime import datetime

from api.live import Live
from api.usecases.setup import export_document, load_document
from matcher.model.calendar import epoch_seconds
from matcher.model.domain import Activity, Volunteer
from matcher.model.errors import ConflictError, NotFoundError
from matcher.store.audit import Entry


def volunteer(live: Live, ident: str) -> Volunteer:
    v = live.store.get_volunteer(ident)
    if v is None:
        raise NotFoundError("volunteer", ident)
    return v


def activity(live: Live, ident: str) -> Activity:
    a = live.store.get_activity(ident)
    if a is None:
        raise NotFoundError("activity", ident)
    return a


def organisation_of(live: Live, activity_id: str) -> str:
    """The organisation running an activity, read from the index (no database round trip)."""
    with live.reading() as index:
        row = index.activity_row(activity_id)
        return index.organisations.name(int(index.activities.org.data[row]))


def create_volunteer(live: Live, v: Volunteer) -> Volunteer:
    def store_write() -> None:
        if live.store.get_volunteer(v.id) is not None:
            raise ConflictError(f"a volunteer with id {v.id!r} already exists")
        live.store.upsert_volunteer(v)

    live.write("volunteer", v.id, store_write, lambda: live.index.upsert_volunteer(v))
    return v


def replace_volunteer(live: Live, v: Volunteer) -> Volunteer:
    def store_write() -> None:
        volunteer(live, v.id)
        live.store.upsert_volunteer(v)

    live.write("volunteer", v.id, store_write, lambda: live.index.upsert_volunteer(v))
    return v


def erase_volunteer(live: Live, ident: str) -> None:
    """The person's personal data and sign-in erased; their service stays, anonymous."""

    def store_write() -> None:
        if not live.store.erase_volunteer(ident):
            raise NotFoundError("volunteer", ident)
        live.accounts.forget_volunteer(ident)

    def index_write() -> None:
        if live.index.has_volunteer(ident):
            live.index.remove_volunteer(ident)

    live.write("volunteer", ident, store_write, index_write)


def create_activity(live: Live, a: Activity) -> Activity:
    def store_write() -> None:
        if live.store.get_activity(a.id) is not None:
            raise ConflictError(f"an activity with id {a.id!r} already exists")
        live.store.upsert_activity(a)

    live.write("activity", a.id, store_write, lambda: live.index.upsert_activity(a))
    return a


def replace_activity(live: Live, a: Activity, now: datetime | None = None) -> Activity:
    """The activity as sent; with ``now``, its volunteers told of moved or removed shifts."""

    def store_write() -> None:
        activity(live, a.id)
        live.store.upsert_activity(a, None if now is None else epoch_seconds(now))

    live.write("activity", a.id, store_write, lambda: live.index.upsert_activity(a))
    return a


def delete_activity(live: Live, ident: str, now: datetime | None = None) -> None:
    def store_write() -> None:
        if not live.store.delete_activity(ident, None if now is None else epoch_seconds(now)):
            raise NotFoundError("activity", ident)

    live.write("activity", ident, store_write, lambda: live.index.remove_activity(ident))


def import_document(live: Live, document: object) -> dict[str, int]:
    """A whole interchange document written in one transaction; the index is rebuilt beside
    the one serving, and swapped in when ready."""
    return live.rebuild(lambda: load_document(live.store, document, live.taxonomy))


def export(live: Live) -> dict[str, object]:
    """Everything stored, as an interchange document."""
    return export_document(live.store)


def location_consent(live: Live, volunteer_id: str) -> Entry | None:
    """The volunteer's latest word on the use of their location (None: never recorded)."""
    return live.store.audit.location_consent(volunteer_id)


def record_consent(
    live: Live, actor: str, actor_role: str, volunteer_id: str, given: bool, at_s: int, detail: str
) -> None:
    live.store.audit.record_consent(actor, actor_role, volunteer_id, given, at_s, detail)
