"""Organisations as the association is organised: the registry and its hierarchy, members,
invitations to act for an organisation, teams and their sign-ups, service stations, and
activities open to members only. Who may see or change what is decided by the caller's reach
(``api.deps.Caller.reach``: an org admin's organisation and everything under it)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import asdict
from datetime import datetime
from typing import Any

from api.live import Live
from matcher.matching.ranking import why_not
from matcher.model.calendar import epoch_seconds
from matcher.model.errors import NotFoundError, ValidationError
from matcher.model.vocabulary import OrganisationKind, OrganisationStatus
from matcher.operations.joining import Organisation
from matcher.operations.notices import normalise_phone
from matcher.store.operations import Placed, TeamRefused, TeamSignup
from matcher.store.organisations import Membership, Station, Team

INVITATION_DAYS = 14
"""An invitation to act for an organisation can be accepted this long."""
PUBLIC_FIELDS = ("id", "name", "kind", "parent_id", "status", "district", "area")
"""What anyone signed in sees of an approved organisation (the directory people join from)."""


def org_json(org: Organisation, *, full: bool) -> dict[str, Any]:
    found = asdict(org)
    found["area"] = list(org.area)
    return found if full else {k: found[k] for k in PUBLIC_FIELDS}


# ---------------------------------------------------------------------- the registry


def create(live: Live, org: Organisation, by: str, approved: bool) -> Organisation:
    """A new organisation: approved at once when made by someone who could approve it (an
    admin, or an org admin over its parent), else applied, for the parent's admins to decide."""
    status = OrganisationStatus.APPROVED if approved else OrganisationStatus.APPLIED
    made = Organisation(**{**asdict(org), "status": status, "decided_s": org.created_s if approved else None})
    created = live.store.organisations.create(made, by)
    live.refresh(force=True)  # the tree, for the next request's reach
    return created


def get(live: Live, ident: str) -> Organisation:
    return live.store.organisations.get(ident)


def listed(
    live: Live, reach: frozenset[str] | None, *, parent: str | None, status: str | None, kind: str | None,
    limit: int, offset: int,
) -> list[Organisation]:  # fmt: skip
    """Organisations in ``reach`` (None: all), optionally the children of ``parent``."""
    if parent is not None:
        try:
            children_ = live.store.organisations.children(parent)
        except NotFoundError:
            return []  # a filter that matches nothing
        found = [o for o in children_ if reach is None or o.id in reach]
        return [
            o for o in found if (status is None or o.status == status) and (kind is None or o.kind == kind)
        ][offset : offset + limit]
    idents = None if reach is None else sorted(reach)
    return live.store.organisations.listed(idents, status=status, kind=kind, limit=limit, offset=offset)


def update(live: Live, ident: str, changes: dict[str, Any]) -> Organisation:
    updated = live.store.organisations.update(ident, changes)
    live.refresh(force=True)
    return updated


def decide(live: Live, ident: str, status: OrganisationStatus, by: str, now: datetime) -> Organisation:
    decided = live.store.organisations.decide(ident, status, by, epoch_seconds(now))
    live.refresh(force=True)
    return decided


def children(live: Live, ident: str) -> list[Organisation]:
    return live.store.organisations.children(ident)


def kind_of(value: str) -> OrganisationKind:
    try:
        return OrganisationKind(value)
    except ValueError:
        raise ValidationError(
            "kind", f"must be one of {', '.join(k.value for k in OrganisationKind)}"
        ) from None


# ---------------------------------------------------------------------- members


def apply(live: Live, organisation_id: str, volunteer_id: str, note: str, now: datetime) -> Membership:
    return live.store.organisations.apply(organisation_id, volunteer_id, note, epoch_seconds(now))


def decide_member(
    live: Live, organisation_id: str, volunteer_id: str, approve: bool, by: str, now: datetime
) -> Membership:
    return live.store.organisations.decide_member(
        organisation_id, volunteer_id, approve, by, epoch_seconds(now)
    )


def leave(live: Live, organisation_id: str, volunteer_id: str, now: datetime) -> Membership:
    return live.store.organisations.leave(organisation_id, volunteer_id, epoch_seconds(now))


def members(
    live: Live, organisation_id: str, status: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Members with their names and districts (what organisers see of people: no contacts)."""
    found = live.store.organisations.members(organisation_id, status, limit, offset)
    cards = live.store.volunteer_cards([m.volunteer_id for m in found])
    return [
        asdict(m)
        | {
            "name": cards.get(m.volunteer_id, ("", None))[0],
            "district": cards.get(m.volunteer_id, ("", None))[1],
        }
        for m in found
    ]


def memberships_of(live: Live, volunteer_id: str) -> list[dict[str, Any]]:
    found = live.store.organisations.memberships_of(volunteer_id)
    names = {o.id: o.name for o in live.store.organisations.listed(
        [m.organisation_id for m in found], status=None, kind=None, limit=1000, offset=0)}  # fmt: skip
    return [asdict(m) | {"organisation": names.get(m.organisation_id)} for m in found]


# ---------------------------------------------------------------------- invitations


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def invite(
    live: Live, organisation_id: str, role: str, phone: str | None, email: str | None, by: str, now: datetime
) -> dict[str, Any]:
    """An invitation code (shown once: it is kept hashed), for the inviter to pass on; the
    invitee accepts it signed in with the phone number or e-mail address it names."""
    if phone is None and email is None:
        raise ValidationError("phone", "give the invitee's phone number or e-mail address")
    number = None if phone is None else normalise_phone(phone)
    code = secrets.token_urlsafe(12)
    expires_s = epoch_seconds(now) + INVITATION_DAYS * 86400
    live.store.organisations.invite(
        _code_hash(code), organisation_id, role, number, email, by, epoch_seconds(now), expires_s
    )
    return {"code": code, "organisation_id": organisation_id, "role": role, "expires_s": expires_s,
            "accept": f"/api/v1/invitations/{code}/accept"}  # fmt: skip


def accept(live: Live, code: str, account_id: str, volunteer_id: str | None, now: datetime) -> dict[str, Any]:
    phones: list[str] = []
    emails: list[str] = []
    if volunteer_id is not None:
        v = live.store.get_volunteer(volunteer_id)
        _, verified = live.store.notices.preferences(volunteer_id)
        phones = [verified] if verified else []
        emails = [v.email] if v is not None and v.email else []
    organisation_id, role = live.store.organisations.accept(
        _code_hash(code), account_id, phones, emails, epoch_seconds(now)
    )
    live.refresh(force=True)  # this process's copy of the account changes at once
    return {"organisation_id": organisation_id, "role": role, "account_id": account_id,
            "note": "sign in again: your new role is in the next token"}  # fmt: skip


def invitations(live: Live, organisation_id: str) -> list[dict[str, Any]]:
    live.store.organisations.get(organisation_id)
    return live.store.organisations.invitations(organisation_id)


# ---------------------------------------------------------------------- teams


def create_team(live: Live, team: Team, now: datetime) -> Team:
    return live.store.organisations.create_team(team, epoch_seconds(now))


def team(live: Live, team_id: str) -> Team:
    return live.store.organisations.team(team_id)


def set_team_members(live: Live, team_id: str, members_: list[str], now: datetime) -> Team:
    return live.store.organisations.set_team_members(team_id, members_, epoch_seconds(now))


def teams(live: Live, organisation_id: str | None = None, member: str | None = None) -> list[Team]:
    return live.store.organisations.teams(organisation_id, member)


def team_sign_up(
    live: Live, t: Team, shift_id: str, going: list[str], by: str, now: datetime
) -> dict[str, Any]:
    """The members going, all on the shift or none: each is checked by the core's rules on the
    index (skills, certificates, age, availability, travel ...), then the database decides
    places for all of them together (:meth:`matcher.store.operations.Operations.sign_up_team`)."""
    outsiders = [v for v in going if v not in t.members]
    if outsiders:
        raise ValidationError("members", f"not in team {t.name!r}: {', '.join(outsiders[:10])}")
    if len(set(going)) != len(going):
        raise ValidationError("members", "each member once")
    failed: dict[str, str] = {}
    with live.reading() as index:
        if not index.has_shift(shift_id):
            raise NotFoundError("shift", shift_id)
        for vid in going:
            if not index.has_volunteer(vid):
                failed[vid] = "no longer registered"
                continue
            blocked = why_not(index, vid, shift_id)
            if blocked is not None:
                failed[vid] = blocked.en
    if failed:
        raise TeamRefused(failed)
    ident = f"ts_{secrets.token_hex(8)}"
    request = TeamSignup(ident, t.id, t.name, shift_id, tuple(going), by)
    status, signups, confirmed, taken = live.store.ops.sign_up_team(request, epoch_seconds(now), live.policy)
    if signups:
        live.placed(Placed(signups[0], confirmed, taken))
    return {"team_id": t.id, "shift_id": shift_id, "status": status,
            "signups": [s.to_json() for s in signups]}  # fmt: skip


# ---------------------------------------------------------------------- stations and audiences


def add_station(live: Live, s: Station, now: datetime) -> Station:
    return live.store.organisations.add_station(s, epoch_seconds(now))


def station(live: Live, ident: str) -> Station:
    return live.store.organisations.station(ident)


def stations_near(
    live: Live, lat: float, lon: float, radius_km: float, limit: int
) -> list[tuple[Station, float]]:
    return live.store.organisations.stations_near(lat, lon, radius_km, limit)


def stations_of(live: Live, organisation_ids: list[str]) -> list[Station]:
    return live.store.organisations.stations_of(organisation_ids)


def hold_at(live: Live, activity_id: str, station_id: str | None) -> None:
    live.store.organisations.hold_at(activity_id, station_id)


def set_audience(live: Live, activity_id: str, organisation_id: str | None, subtree: bool) -> None:
    live.store.organisations.set_audience(activity_id, organisation_id, subtree)


def audience(live: Live, activity_id: str) -> tuple[str, bool] | None:
    return live.store.organisations.audience(activity_id)


def station_figures(
    live: Live, first: datetime, last: datetime, organisations: frozenset[str] | None
) -> list[dict[str, Any]]:
    """Each station's activities and their shifts starting in [first, last): places offered,
    places taken, the fill rate (analytics grouped by station; no personal data)."""
    held = live.store.organisations.station_of_activities()
    stations = {
        s.id: s
        for s in live.store.organisations.stations_of(
            None if organisations is None else sorted(organisations)
        )
    }
    rows: dict[str, dict[str, Any]] = {
        sid: {"station_id": sid, "name": st.name, "organisation_id": st.organisation_id, "district": st.district,
              "setting": st.setting, "activities": 0, "shifts": 0, "places": 0, "taken": 0}
        for sid, st in stations.items()
    }  # fmt: skip
    held_at = {a: live.store.get_activity(a) for a, st in sorted(held.items()) if st in rows}
    with live.reading() as index:
        for activity_id, activity in held_at.items():
            if activity is None:
                continue
            row = rows[held[activity_id]]
            row["activities"] += 1
            for shift in activity.shifts:
                if first <= shift.starts_at < last:
                    row["shifts"] += 1
                    row["places"] += shift.capacity
                    row["taken"] += shift.capacity - index.places_left(shift.id)
    for row in rows.values():
        row["fill_rate"] = None if not row["places"] else round(row["taken"] / row["places"], 3)
    return sorted(
        rows.values(), key=lambda r: (r["fill_rate"] if r["fill_rate"] is not None else 2.0, r["station_id"])
    )
