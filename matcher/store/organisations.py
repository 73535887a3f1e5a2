"""The registry of organisations and what hangs from it: the hierarchy (walked with recursive
queries), members, invitations to act for an organisation, teams, service stations, and
activities open to members only. One SQL for both stores.

Every change to the registry or to who acts for it is logged (``organisation``, ``account``),
so each serving process keeps its copy of the tree and of its accounts current."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace

from matcher.model.domain import GeoPoint
from matcher.model.errors import ConflictError, NotFoundError, ValidationError
from matcher.model.geo import haversine_km
from matcher.model.vocabulary import MembershipStatus, MessageKind, OrganisationKind, OrganisationStatus
from matcher.operations.joining import Organisation, check_no_cycle, check_parent
from matcher.store.outbox import tell_volunteer
from matcher.store.tx import Tx

MAX_DEPTH = 32
"""Levels a walk of the hierarchy follows at most (the registry is city, district, street,
community and a few more: a deeper chain is a mistake, not a reason to loop)."""


_ORG = (
    "SELECT id, name, kind, parent_id, status, district, area, contact_name, contact_phone, contact_email, "
    "created_s, decided_s FROM organisations"
)


def _organisation(r: Sequence[object]) -> Organisation:
    def text(v: object) -> str | None:
        return None if v is None else str(v)

    return Organisation(
        id=str(r[0]), name=str(r[1]), kind=OrganisationKind(str(r[2])), parent_id=text(r[3]),
        status=OrganisationStatus(str(r[4])), district=text(r[5]), area=tuple(json.loads(str(r[6]))),
        contact_name=text(r[7]), contact_phone=text(r[8]), contact_email=text(r[9]), created_s=int(str(r[10])),
        decided_s=None if r[11] is None else int(str(r[11])),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Membership:
    organisation_id: str
    volunteer_id: str
    status: MembershipStatus
    note: str
    created_s: int
    decided_s: int | None


@dataclass(frozen=True, slots=True)
class Team:
    id: str
    organisation_id: str
    name: str
    leader_id: str
    members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Station:
    id: str
    organisation_id: str
    name: str
    setting: str
    lat: float
    lon: float
    address: str | None = None
    district: str | None = None
    opening_hours: tuple[dict[str, str], ...] = ()
    services: tuple[str, ...] = ()
    activities: tuple[str, ...] = field(default=())


_STATION = (
    "SELECT id, organisation_id, name, setting, lat, lon, address, district, opening_hours, services "
    "FROM stations"
)


def _station(r: Sequence[object]) -> Station:
    return Station(
        str(r[0]), str(r[1]), str(r[2]), str(r[3]), float(str(r[4])), float(str(r[5])),
        None if r[6] is None else str(r[6]), None if r[7] is None else str(r[7]),
        tuple(json.loads(str(r[8]))), tuple(json.loads(str(r[9]))),
    )  # fmt: skip


def subtree_of(tx: Tx, root: str) -> list[str]:
    """The organisation and everything under it (root first)."""
    return [
        str(r[0])
        for r in tx.all(
            "WITH RECURSIVE down(id, depth) AS (SELECT id, 0 FROM organisations WHERE id = %s "
            "UNION ALL SELECT o.id, down.depth + 1 FROM organisations o JOIN down ON o.parent_id = down.id "
            "WHERE down.depth < %s) SELECT id FROM down ORDER BY depth, id",
            (root, MAX_DEPTH),
        )
    ]


def ancestors_of(tx: Tx, ident: str) -> list[str]:
    """The organisation and the chain above it to the root (itself first)."""
    return [
        str(r[0])
        for r in tx.all(
            "WITH RECURSIVE up(id, parent_id, depth) AS (SELECT id, parent_id, 0 FROM organisations WHERE id = %s "
            "UNION ALL SELECT o.id, o.parent_id, up.depth + 1 FROM organisations o JOIN up ON o.id = up.parent_id "
            "WHERE up.depth < %s) SELECT id FROM up ORDER BY depth",
            (ident, MAX_DEPTH),
        )
    ]


def audience_refusal(tx: Tx, volunteer_id: str, shift_id: str) -> str | None:
    """Why the volunteer may not take a place on the shift because its activity is open to an
    organisation's members only (None: they may)."""
    row = tx.one(
        "SELECT a.organisation_id, a.subtree, o.name FROM activity_audiences a JOIN shifts s ON s.activity_id = a.activity_id "
        "JOIN organisations o ON o.id = a.organisation_id WHERE s.id = %s",
        (shift_id,),
    )
    if row is None:
        return None
    orgs = subtree_of(tx, str(row[0])) if row[1] else [str(row[0])]
    marks = ", ".join(["%s"] * len(orgs))
    member = tx.one(
        f"SELECT 1 FROM memberships WHERE volunteer_id = %s AND status = 'approved' AND organisation_id IN ({marks})",
        (volunteer_id, *orgs),
    )
    if member is not None:
        return None
    return f"open to members of {row[2]}{' and the organisations under it' if row[1] else ''} only"


class Organisations:
    def __init__(self, begin: Callable[[], AbstractContextManager[Tx]]) -> None:
        self._begin = begin

    # ------------------------------------------------------------------ the registry

    def _get(self, tx: Tx, ident: str) -> Organisation:
        row = tx.one(f"{_ORG} WHERE id = %s", (ident,))
        if row is None:
            raise NotFoundError("organisation", ident)
        return _organisation(row)

    def get(self, ident: str) -> Organisation:
        with self._begin() as tx:
            return self._get(tx, ident)

    def create(self, org: Organisation, by: str) -> Organisation:
        """A new organisation under its parent (which must exist and be approved), as
        ``org.status`` says (applied, or approved when an admin above makes it)."""
        with self._begin() as tx:
            if tx.one("SELECT 1 FROM organisations WHERE id = %s", (org.id,)) is not None:
                raise ConflictError(f"an organisation with id {org.id!r} exists already")
            self._check_parent(tx, org.id, org.kind, org.parent_id)
            tx.run(
                "INSERT INTO organisations (id, name, kind, parent_id, status, district, area, contact_name, "
                "contact_phone, contact_email, created_s, created_by, decided_s, decided_by) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (org.id, org.name, org.kind.value, org.parent_id, org.status.value, org.district,
                 json.dumps(list(org.area), ensure_ascii=False), org.contact_name, org.contact_phone,
                 org.contact_email, org.created_s, by, org.decided_s,
                 by if org.status is OrganisationStatus.APPROVED else None),
            )  # fmt: skip
            tx.run("INSERT INTO changes (kind, ident) VALUES ('organisation', %s)", (org.id,))
            return self._get(tx, org.id)

    def _check_parent(self, tx: Tx, ident: str, kind: OrganisationKind, parent_id: str | None) -> None:
        if parent_id is None:
            check_parent(kind, None)
            return
        parent = tx.one("SELECT kind, status FROM organisations WHERE id = %s", (parent_id,))
        if parent is None:
            raise ValidationError("parent_id", f"no organisation with id {parent_id!r}")
        check_no_cycle(ident, parent_id, ancestors_of(tx, parent_id))
        if parent[1] != OrganisationStatus.APPROVED:
            raise ValidationError("parent_id", f"the parent organisation is {parent[1]}, not approved")
        check_parent(kind, OrganisationKind(str(parent[0])))

    def update(self, ident: str, changes: dict[str, object]) -> Organisation:
        """Change the named fields (name, district, area, contacts, parent); a new parent is
        checked like a first one (exists, approved, the right kind, no cycle)."""
        allowed = {"name", "district", "area", "contact_name", "contact_phone", "contact_email", "parent_id"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValidationError(sorted(unknown)[0], "cannot be changed here")
        with self._begin() as tx:
            org = self._get(tx, ident)
            if "parent_id" in changes:
                parent = changes["parent_id"]
                self._check_parent(tx, ident, org.kind, None if parent is None else str(parent))
            for name, value in changes.items():
                stored = json.dumps(list(value), ensure_ascii=False) if name == "area" else value  # type: ignore[call-overload]
                tx.run(f"UPDATE organisations SET {name} = %s WHERE id = %s", (stored, ident))
            tx.run("INSERT INTO changes (kind, ident) VALUES ('organisation', %s)", (ident,))
            return self._get(tx, ident)

    def decide(self, ident: str, status: OrganisationStatus, by: str, now_s: int) -> Organisation:
        """Approve, refuse or suspend (or lift a suspension: approve again)."""
        allowed = {
            OrganisationStatus.APPROVED: {OrganisationStatus.APPLIED, OrganisationStatus.SUSPENDED},
            OrganisationStatus.REFUSED: {OrganisationStatus.APPLIED},
            OrganisationStatus.SUSPENDED: {OrganisationStatus.APPROVED},
        }
        with self._begin() as tx:
            org = self._get(tx, ident)
            if org.status is status:
                return org
            if org.status not in allowed.get(status, set()):
                raise ConflictError(f"organisation {ident!r} is {org.status}: it cannot become {status}")
            tx.run(
                "UPDATE organisations SET status = %s, decided_s = %s, decided_by = %s WHERE id = %s",
                (status.value, now_s, by, ident),
            )
            tx.run("INSERT INTO changes (kind, ident) VALUES ('organisation', %s)", (ident,))
            return self._get(tx, ident)

    def listed(
        self, idents: Sequence[str] | None, *, status: str | None, kind: str | None, limit: int, offset: int
    ) -> list[Organisation]:
        """Organisations (all, or those of ``idents``), by id."""
        where: list[str] = ["1 = 1"]
        params: list[object] = []
        if idents is not None:
            if not idents:
                return []
            where.append(f"id IN ({', '.join(['%s'] * len(idents))})")
            params.extend(idents)
        for column, value in (("status", status), ("kind", kind)):
            if value is not None:
                where.append(f"{column} = %s")
                params.append(value)
        with self._begin() as tx:
            found = tx.all(
                f"{_ORG} WHERE {' AND '.join(where)} ORDER BY id LIMIT %s OFFSET %s", (*params, limit, offset)
            )
        return [_organisation(r) for r in found]

    def children(self, ident: str) -> list[Organisation]:
        with self._begin() as tx:
            self._get(tx, ident)
            return [_organisation(r) for r in tx.all(f"{_ORG} WHERE parent_id = %s ORDER BY id", (ident,))]

    def links(self) -> list[tuple[str, str | None, str]]:
        """Every organisation's (id, parent, status): what a serving process keeps in memory."""
        with self._begin() as tx:
            return [(str(r[0]), None if r[1] is None else str(r[1]), str(r[2]))
                    for r in tx.all("SELECT id, parent_id, status FROM organisations", ())]  # fmt: skip

    def link(self, ident: str) -> tuple[str, str | None, str] | None:
        with self._begin() as tx:
            r = tx.one("SELECT id, parent_id, status FROM organisations WHERE id = %s", (ident,))
        return None if r is None else (str(r[0]), None if r[1] is None else str(r[1]), str(r[2]))

    def seed(self, orgs: Sequence[Organisation]) -> int:
        """Organisations not yet in the registry added as given, parents first (the demo city's
        hierarchy); returns how many were added."""
        added = 0
        with self._begin() as tx:
            for org in orgs:
                if tx.one("SELECT 1 FROM organisations WHERE id = %s", (org.id,)) is not None:
                    continue
                tx.run(
                    "INSERT INTO organisations (id, name, kind, parent_id, status, district, area, created_s, "
                    "decided_s) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (org.id, org.name, org.kind.value, org.parent_id, org.status.value, org.district,
                     json.dumps(list(org.area), ensure_ascii=False), org.created_s, org.decided_s),
                )  # fmt: skip
                added += 1
            if added:
                tx.run("INSERT INTO changes (kind, ident) VALUES ('organisation', %s)", ("",))
        return added

    # ------------------------------------------------------------------ members

    def apply(self, organisation_id: str, volunteer_id: str, note: str, now_s: int) -> Membership:
        """A volunteer's request to join (again, after leaving or being refused)."""
        with self._begin() as tx:
            org = self._get(tx, organisation_id)
            if org.status is not OrganisationStatus.APPROVED:
                raise ConflictError(f"organisation {organisation_id!r} is {org.status}: it takes no members")
            if tx.one("SELECT 1 FROM volunteers WHERE id = %s", (volunteer_id,)) is None:
                raise NotFoundError("volunteer", volunteer_id)
            old = self._membership(tx, organisation_id, volunteer_id)
            if old is not None and old.status in (MembershipStatus.APPLIED, MembershipStatus.APPROVED):
                return old
            if old is None:
                tx.run(
                    "INSERT INTO memberships (organisation_id, volunteer_id, status, note, created_s) "
                    "VALUES (%s, %s, 'applied', %s, %s)",
                    (organisation_id, volunteer_id, note, now_s),
                )
            else:
                tx.run(
                    "UPDATE memberships SET status = 'applied', note = %s, created_s = %s, decided_s = NULL, "
                    "decided_by = NULL WHERE organisation_id = %s AND volunteer_id = %s",
                    (note, now_s, organisation_id, volunteer_id),
                )
            found = self._membership(tx, organisation_id, volunteer_id)
            assert found is not None
            return found

    def decide_member(
        self, organisation_id: str, volunteer_id: str, approve: bool, by: str, now_s: int
    ) -> Membership:
        """Approve or refuse a request to join; the volunteer is told."""
        with self._begin() as tx:
            org = self._get(tx, organisation_id)
            old = self._membership(tx, organisation_id, volunteer_id)
            if old is None:
                raise NotFoundError("membership request", volunteer_id)
            status = MembershipStatus.APPROVED if approve else MembershipStatus.REFUSED
            if old.status is status:
                return old
            if old.status is not MembershipStatus.APPLIED:
                raise ConflictError(f"the membership is {old.status}: only a request is decided")
            tx.run(
                "UPDATE memberships SET status = %s, decided_s = %s, decided_by = %s "
                "WHERE organisation_id = %s AND volunteer_id = %s",
                (status.value, now_s, by, organisation_id, volunteer_id),
            )
            tell_volunteer(
                tx, volunteer_id, MessageKind.MEMBERSHIP_DECIDED, now_s,
                f"membership:{organisation_id}:{volunteer_id}:{old.created_s}",
                detail={"organisation": org.name, "approved": approve},
            )  # fmt: skip
            found = self._membership(tx, organisation_id, volunteer_id)
            assert found is not None
            return found

    def leave(self, organisation_id: str, volunteer_id: str, now_s: int) -> Membership:
        with self._begin() as tx:
            old = self._membership(tx, organisation_id, volunteer_id)
            if old is None:
                raise NotFoundError("membership", f"{organisation_id}/{volunteer_id}")
            tx.run(
                "UPDATE memberships SET status = 'left', decided_s = %s WHERE organisation_id = %s AND volunteer_id = %s",
                (now_s, organisation_id, volunteer_id),
            )
            tx.run(
                "DELETE FROM team_members WHERE volunteer_id = %s AND team_id IN "
                "(SELECT id FROM teams WHERE organisation_id = %s)",
                (volunteer_id, organisation_id),
            )
            found = self._membership(tx, organisation_id, volunteer_id)
            assert found is not None
            return found

    @staticmethod
    def _membership(tx: Tx, organisation_id: str, volunteer_id: str) -> Membership | None:
        r = tx.one(
            "SELECT organisation_id, volunteer_id, status, note, created_s, decided_s FROM memberships "
            "WHERE organisation_id = %s AND volunteer_id = %s",
            (organisation_id, volunteer_id),
        )
        return None if r is None else _member(r)

    def members(self, organisation_id: str, status: str | None, limit: int, offset: int) -> list[Membership]:
        with self._begin() as tx:
            self._get(tx, organisation_id)
            extra, params = ("AND status = %s ", (status,)) if status else ("", ())
            found = tx.all(
                "SELECT organisation_id, volunteer_id, status, note, created_s, decided_s FROM memberships "
                f"WHERE organisation_id = %s {extra}ORDER BY created_s, volunteer_id LIMIT %s OFFSET %s",
                (organisation_id, *params, limit, offset),
            )
        return [_member(r) for r in found]

    def memberships_of(self, volunteer_id: str) -> list[Membership]:
        with self._begin() as tx:
            found = tx.all(
                "SELECT organisation_id, volunteer_id, status, note, created_s, decided_s FROM memberships "
                "WHERE volunteer_id = %s ORDER BY created_s, organisation_id",
                (volunteer_id,),
            )
        return [_member(r) for r in found]

    # ------------------------------------------------------------------ invitations

    def invite(
        self, code_hash: str, organisation_id: str, role: str, phone: str | None, email: str | None,
        by: str, now_s: int, expires_s: int,
    ) -> None:  # fmt: skip
        with self._begin() as tx:
            org = self._get(tx, organisation_id)
            if org.status is not OrganisationStatus.APPROVED:
                raise ConflictError(f"organisation {organisation_id!r} is {org.status}: it cannot invite")
            tx.run(
                "INSERT INTO invitations (code_hash, organisation_id, role, phone, email, created_by, created_s, expires_s) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (code_hash, organisation_id, role, phone, email, by, now_s, expires_s),
            )

    def accept(
        self, code_hash: str, account_id: str, phones: Sequence[str], emails: Sequence[str], now_s: int
    ) -> tuple[str, str]:
        """The invitation taken by the signed-in account, which then acts for the organisation in
        the invited role: (organisation id, role). The account must hold the phone number or
        e-mail address the invitation was sent to (else it is not found: codes leak nothing)."""
        with self._begin() as tx:
            row = tx.one(
                "SELECT organisation_id, role, phone, email, expires_s, accepted_by FROM invitations "
                "WHERE code_hash = %s FOR UPDATE",
                (code_hash,),
            )
            if row is None or not ((row[2] and row[2] in phones) or (row[3] and row[3] in emails)):
                raise NotFoundError("invitation", "(code)")
            organisation_id, role = str(row[0]), str(row[1])
            if row[5] is not None:
                if row[5] == account_id:
                    return organisation_id, role
                raise ConflictError("this invitation has been accepted already")
            if int(row[4]) < now_s:
                raise ConflictError("this invitation has expired: ask for a new one")
            tx.run(
                "UPDATE invitations SET accepted_by = %s, accepted_s = %s WHERE code_hash = %s",
                (account_id, now_s, code_hash),
            )
            tx.run(
                "UPDATE accounts SET role = %s, organisation_id = %s WHERE id = %s",
                (role, organisation_id, account_id),
            )
            tx.run("INSERT INTO changes (kind, ident) VALUES ('account', %s)", (account_id,))
            return organisation_id, role

    def invitations(self, organisation_id: str) -> list[dict[str, object]]:
        with self._begin() as tx:
            found = tx.all(
                "SELECT role, phone, email, created_by, created_s, expires_s, accepted_by, accepted_s "
                "FROM invitations WHERE organisation_id = %s ORDER BY created_s DESC LIMIT 500",
                (organisation_id,),
            )
        keys = ("role", "phone", "email", "created_by", "created_s", "expires_s", "accepted_by", "accepted_s")
        return [dict(zip(keys, r, strict=True)) for r in found]

    # ------------------------------------------------------------------ teams

    def create_team(self, team: Team, now_s: int) -> Team:
        """A team of an organisation, led by one of its members (the leader is a member)."""
        with self._begin() as tx:
            self._get(tx, team.organisation_id)
            self._approved(tx, team.organisation_id, team.leader_id, "leader_id")
            if tx.one("SELECT 1 FROM teams WHERE organisation_id = %s AND name = %s",
                      (team.organisation_id, team.name)) is not None:  # fmt: skip
                raise ConflictError(f"the organisation has a team named {team.name!r} already")
            tx.run(
                "INSERT INTO teams (id, organisation_id, name, leader_id, created_s) VALUES (%s, %s, %s, %s, %s)",
                (team.id, team.organisation_id, team.name, team.leader_id, now_s),
            )
            for vid in dict.fromkeys((team.leader_id, *team.members)):
                self._approved(tx, team.organisation_id, vid, "members")
                tx.run(
                    "INSERT INTO team_members (team_id, volunteer_id, joined_s) VALUES (%s, %s, %s)",
                    (team.id, vid, now_s),
                )
            return self._team(tx, team.id)

    @staticmethod
    def _approved(tx: Tx, organisation_id: str, volunteer_id: str, where: str) -> None:
        if tx.one(
            "SELECT 1 FROM memberships WHERE organisation_id = %s AND volunteer_id = %s AND status = 'approved'",
            (organisation_id, volunteer_id),
        ) is None:  # fmt: skip
            raise ValidationError(
                where, f"volunteer {volunteer_id!r} is not an approved member of the organisation"
            )

    def set_team_members(self, team_id: str, members: Sequence[str], now_s: int) -> Team:
        """The team's members as listed (the leader stays one)."""
        with self._begin() as tx:
            team = self._team(tx, team_id)
            wanted = list(dict.fromkeys((team.leader_id, *members)))
            for vid in wanted:
                self._approved(tx, team.organisation_id, vid, "members")
            tx.run("DELETE FROM team_members WHERE team_id = %s", (team_id,))
            tx.run_many(
                "INSERT INTO team_members (team_id, volunteer_id, joined_s) VALUES (%s, %s, %s)",
                [(team_id, vid, now_s) for vid in wanted],
            )
            return self._team(tx, team_id)

    def team(self, team_id: str) -> Team:
        with self._begin() as tx:
            return self._team(tx, team_id)

    @staticmethod
    def _team(tx: Tx, team_id: str) -> Team:
        row = tx.one("SELECT id, organisation_id, name, leader_id FROM teams WHERE id = %s", (team_id,))
        if row is None:
            raise NotFoundError("team", team_id)
        members = tx.all("SELECT volunteer_id FROM team_members WHERE team_id = %s ORDER BY joined_s, volunteer_id",
                         (team_id,))  # fmt: skip
        return Team(str(row[0]), str(row[1]), str(row[2]), str(row[3]), tuple(str(m[0]) for m in members))

    def teams(self, organisation_id: str | None = None, member: str | None = None) -> list[Team]:
        """The teams of an organisation, or those a volunteer is in."""
        with self._begin() as tx:
            if organisation_id is not None:
                found = tx.all(
                    "SELECT id FROM teams WHERE organisation_id = %s ORDER BY name", (organisation_id,)
                )
            else:
                found = tx.all(
                    "SELECT t.id FROM teams t JOIN team_members m ON m.team_id = t.id WHERE m.volunteer_id = %s "
                    "ORDER BY t.name",
                    (member,),
                )
            return [self._team(tx, str(r[0])) for r in found]

    # ------------------------------------------------------------------ stations

    def add_station(self, s: Station, now_s: int) -> Station:
        with self._begin() as tx:
            org = self._get(tx, s.organisation_id)
            if org.status is not OrganisationStatus.APPROVED:
                raise ConflictError(f"organisation {org.id!r} is {org.status}: it runs no stations")
            tx.run(
                "INSERT INTO stations (id, organisation_id, name, setting, lat, lon, address, district, opening_hours, "
                "services, created_s) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (s.id, s.organisation_id, s.name, s.setting, s.lat, s.lon, s.address, s.district,
                 json.dumps(list(s.opening_hours), ensure_ascii=False), json.dumps(list(s.services), ensure_ascii=False),
                 now_s),
            )  # fmt: skip
            return self._station(tx, s.id)

    @staticmethod
    def _station(tx: Tx, ident: str) -> Station:
        row = tx.one(f"{_STATION} WHERE id = %s", (ident,))
        if row is None:
            raise NotFoundError("station", ident)
        held = tx.all(
            "SELECT activity_id FROM activity_stations WHERE station_id = %s ORDER BY activity_id", (ident,)
        )
        return replace(_station(row), activities=tuple(str(r[0]) for r in held))

    def station(self, ident: str) -> Station:
        with self._begin() as tx:
            return self._station(tx, ident)

    def stations_near(
        self, lat: float, lon: float, radius_km: float, limit: int
    ) -> list[tuple[Station, float]]:
        """Stations within ``radius_km`` of the point, nearest first, with their distances: a
        latitude and longitude box first (an index range), then the great-circle distance."""
        dlat = radius_km / 111.2
        dlon = radius_km / max(1e-6, 111.2 * math.cos(math.radians(min(89.9, abs(lat)))))
        with self._begin() as tx:
            rows = tx.all(
                f"{_STATION} WHERE lat BETWEEN %s AND %s AND lon BETWEEN %s AND %s",
                (lat - dlat, lat + dlat, lon - dlon, lon + dlon),
            )
        found = []
        for r in rows:
            s = _station(r)
            d = haversine_km(GeoPoint(lat, lon), GeoPoint(s.lat, s.lon))
            if d <= radius_km:
                found.append((s, d))
        found.sort(key=lambda p: (p[1], p[0].id))
        return found[:limit]

    def stations_of(self, organisation_ids: Sequence[str] | None) -> list[Station]:
        """The stations of these organisations (None: every station)."""
        if organisation_ids is not None and not organisation_ids:
            return []
        with self._begin() as tx:
            if organisation_ids is None:
                rows = tx.all(f"{_STATION} ORDER BY id", ())
            else:
                rows = tx.all(
                    f"{_STATION} WHERE organisation_id IN ({', '.join(['%s'] * len(organisation_ids))}) ORDER BY id",
                    tuple(organisation_ids),
                )
        return [_station(r) for r in rows]

    def hold_at(self, activity_id: str, station_id: str | None) -> None:
        """The activity held at the station (None: at no station)."""
        with self._begin() as tx:
            if tx.one("SELECT 1 FROM activities WHERE id = %s", (activity_id,)) is None:
                raise NotFoundError("activity", activity_id)
            tx.run("DELETE FROM activity_stations WHERE activity_id = %s", (activity_id,))
            if station_id is not None:
                self._station(tx, station_id)
                tx.run(
                    "INSERT INTO activity_stations (activity_id, station_id) VALUES (%s, %s)",
                    (activity_id, station_id),
                )

    def station_of_activities(self) -> dict[str, str]:
        """activity id -> station id, for every activity held at a station."""
        with self._begin() as tx:
            return {
                str(r[0]): str(r[1])
                for r in tx.all("SELECT activity_id, station_id FROM activity_stations", ())
            }

    # ------------------------------------------------------------------ members-only activities

    def set_audience(self, activity_id: str, organisation_id: str | None, subtree: bool) -> None:
        """Limit the activity to members of the organisation (and, with ``subtree``, of those
        under it); None opens it to everyone again."""
        with self._begin() as tx:
            if tx.one("SELECT 1 FROM activities WHERE id = %s", (activity_id,)) is None:
                raise NotFoundError("activity", activity_id)
            tx.run("DELETE FROM activity_audiences WHERE activity_id = %s", (activity_id,))
            if organisation_id is not None:
                self._get(tx, organisation_id)
                tx.run(
                    "INSERT INTO activity_audiences (activity_id, organisation_id, subtree) VALUES (%s, %s, %s)",
                    (activity_id, organisation_id, subtree),
                )
            tx.run("INSERT INTO changes (kind, ident) VALUES ('activity', %s)", (activity_id,))

    def audience(self, activity_id: str) -> tuple[str, bool] | None:
        with self._begin() as tx:
            row = tx.one(
                "SELECT organisation_id, subtree FROM activity_audiences WHERE activity_id = %s",
                (activity_id,),
            )
        return None if row is None else (str(row[0]), bool(row[1]))


def _member(r: Sequence[object]) -> Membership:
    return Membership(str(r[0]), str(r[1]), MembershipStatus(str(r[2])), str(r[3]), int(str(r[4])),
                      None if r[5] is None else int(str(r[5])))  # fmt: skip
