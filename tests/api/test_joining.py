"""Joining and organising (issue 24) over real HTTP requests, on both stores: a person registers
from a phone app, proves their number with the code the outbox holds, signs in with the OAuth2
password form, is recommended activities, joins an organisation and signs up; org admins
manage their subtree and see nothing else; bad input is refused naming the field, with nothing
written."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.auth import issue_token, utcnow
from api.live.state import POLL_S
from api.main import create_app
from api.settings import Settings
from matcher.model.domain import ServiceRecord, World
from matcher.model.vocabulary import OrganisationKind, OrganisationStatus
from matcher.operations.joining import Organisation, national_id_check_character
from matcher.store.base import Account
from matcher.store.connect import open_store
from matcher.store.organisations import Team
from tests.conftest import NOW, activity, saturday_shift, volunteer

SECRET = "j" * 40
PASSWORD = "correct horse battery"


def org(ident: str, kind: OrganisationKind, parent: str | None, district: str) -> Organisation:
    return Organisation(ident, f"{district} {kind.value}", kind, parent, OrganisationStatus.APPROVED, district,
                        (district,), created_s=0, decided_s=0)  # fmt: skip


REGISTRY = (
    org("city", OrganisationKind.ASSOCIATION, None, "杭州市"),
    org("fed-a", OrganisationKind.DISTRICT_FEDERATION, "city", "西湖区"),
    org("street-a", OrganisationKind.STREET_STATION, "fed-a", "西湖区"),
    org("community-a", OrganisationKind.COMMUNITY_STATION, "street-a", "西湖区"),
    org("fed-b", OrganisationKind.DISTRICT_FEDERATION, "city", "上城区"),
    org("street-b", OrganisationKind.STREET_STATION, "fed-b", "上城区"),
)


def national_id(born: str, serial: str = "123") -> str:
    first17 = "330106" + born + serial
    return first17 + national_id_check_character(first17)


@dataclass
class City:
    client: TestClient
    db: str
    tokens: dict[str, str]

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def counts(self) -> dict[str, int]:
        store = open_store(self.db)
        try:
            found = store.counts()
            for table in ("accounts", "real_names", "guardians", "organisations", "memberships", "signups"):
                with store.ops._begin() as tx:
                    row = tx.one(f"SELECT count(*) FROM {table}")
                found[table] = int(row[0]) if row else 0
            return found
        finally:
            store.close()


def world() -> World:
    shifts = tuple(saturday_shift(f"s{i}", capacity=5, day=5 + 7 * i) for i in range(4))
    acts = (
        activity("a1", organisation_id="street-a", shifts=(shifts[0], shifts[1])),
        activity("a2", organisation_id="street-b", shifts=(shifts[2],)),
        activity("a3", organisation_id="street-a", shifts=(shifts[3],), min_age=18),
    )
    served = (
        ServiceRecord("v1", "a1", date(2026, 11, 21), 3.0, attended=True),
        ServiceRecord("v2", "a2", date(2026, 11, 21), 2.0, attended=True),
    )
    return World((volunteer("v1"), volunteer("v2", 2.0)), acts, served)


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def city(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[City]:
    db = (
        f"sqlite:///{tmp_path / 'join.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgis_url")
    )
    store = open_store(db)
    store.load_world(world())
    store.organisations.seed(REGISTRY)
    accounts = {
        "admin": Account("acct_ad", "ad", "admin"),
        "oa": Account("acct_oa", "oa", "org_admin", organisation_id="fed-a"),
        "ob": Account("acct_ob", "ob", "org_admin", organisation_id="fed-b"),
        "organiser": Account("acct_or", "or", "organiser", organisation_id="street-a"),
    }
    for a in accounts.values():
        store.create_account(a)
    store.close()
    tokens = {k: issue_token(a, SECRET, now=utcnow(), ttl_hours=1) for k, a in accounts.items()}
    settings = Settings(database_url=db, environment="test", secret_key=SECRET, notify=False)
    with TestClient(create_app(settings, clock=lambda: NOW)) as client:
        yield City(client, db, tokens)


def joiner(phone: str = "13800138000", **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "林小红",
        "phone": phone,
        "password": PASSWORD,
        "birth_date": "1995-03-02",
        "district": "西湖区",
        "home": {"lat": 30.259, "lon": 120.14},
        "location_consent": True,
        "availability": [{"day": "sat", "start": "08:00", "end": "12:00"}],
        "skills": ["first aid"],
    }
    body.update(kw)
    return body


def code_in_outbox(db: str, volunteer_id: str) -> str:
    store = open_store(db)
    try:
        messages, _, _ = store.messages.inbox(volunteer_id, int(NOW.timestamp()) + 60)
    finally:
        store.close()
    codes = [m.detail["code"] for m in messages if m.kind == "phone_code"]
    assert codes, "no phone code in the outbox"
    return str(codes[0])


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def registered(c: City, phone: str = "13800138000", **kw: Any) -> tuple[str, dict[str, str]]:
    """A volunteer registered, verified and signed in: their id and headers."""
    r = c.client.post("/api/v1/accounts", json=joiner(phone, **kw))
    assert r.status_code == 201, r.text
    vid = r.json()["volunteer_id"]
    assert c.client.post("/api/v1/auth/phone-codes", json={"phone": phone}).status_code == 202
    code = code_in_outbox(c.db, vid)
    assert (
        c.client.post("/api/v1/auth/phone-codes/verify", json={"phone": phone, "code": code}).status_code
        == 200
    )
    tokens = sign_in(c.client, phone)
    assert tokens.status_code == 200, tokens.text
    return vid, {"Authorization": f"Bearer {tokens.json()['access_token']}"}


def test_the_whole_journey_from_registration_to_a_place(city: City) -> None:
    c = city.client
    r = c.post("/api/v1/accounts", json=joiner(national_id=national_id("19950302")))
    assert r.status_code == 201, r.text
    joined = r.json()
    vid = joined["volunteer_id"]
    assert joined["account_id"].startswith("acct_") and joined["national_id"].endswith(
        national_id("19950302")[-4:]
    )
    assert "19950302" not in r.text  # the ID number is never shown whole again
    # Unverified, the number does not sign in.
    assert sign_in(c, "13800138000").status_code == 401
    assert c.post("/api/v1/auth/phone-codes", json={"phone": "138 0013 8000"}).status_code == 202
    code = code_in_outbox(city.db, vid)
    wrong = "000000" if code != "000000" else "111111"
    assert (
        c.post("/api/v1/auth/phone-codes/verify", json={"phone": "13800138000", "code": wrong}).status_code
        == 422
    )
    ok = c.post("/api/v1/auth/phone-codes/verify", json={"phone": "+8613800138000", "code": code})
    assert ok.status_code == 200, ok.text
    tokens = sign_in(c, "13800138000")
    assert tokens.status_code == 200, tokens.text
    t = tokens.json()
    assert t["token_type"] == "bearer" and t["expires_in"] > 0 and t["refresh_token"]
    me = {"Authorization": f"Bearer {t['access_token']}"}
    assert c.get("/api/v1/auth/me", headers=me).json()["volunteer_id"] == vid
    # Recommended activities, by the same ranking as everyone's.
    rec = c.get(f"/api/v1/volunteers/{vid}/recommended-activities", headers=me)
    assert rec.status_code == 200, rec.text
    assert {m["id"] for m in rec.json()["matches"]} >= {"a1"}
    # a1 is for street-a's members: refused until they are one.
    assert c.put("/api/v1/activities/a1/audience", json={"organisation_id": "street-a"},
                 headers=city.h("organiser")).status_code == 200  # fmt: skip
    refused = c.post("/api/v1/shifts/s0/signups", headers=me)
    assert refused.status_code == 409 and "members" in refused.text
    applied = c.post("/api/v1/organisations/street-a/members", json={"note": "住在附近"}, headers=me)
    assert applied.status_code == 201 and applied.json()["status"] == "applied"
    decided = c.post(f"/api/v1/organisations/street-a/members/{vid}/decision", json={"approve": True},
                     headers=city.h("oa"))  # fmt: skip
    assert decided.status_code == 200 and decided.json()["status"] == "approved", decided.text
    inbox = c.get("/api/v1/notifications", headers=me).json()["items"]
    assert any(m["kind"] == "membership_decided" and m["detail"]["approved"] for m in inbox)
    placed = c.post("/api/v1/shifts/s0/signups", headers=me)
    assert placed.status_code == 201 and placed.json()["status"] == "confirmed", placed.text
    # A refresh gives new tokens once; the old refresh token then ends the sign-in.
    again = c.post("/api/v1/auth/refresh", json={"refresh_token": t["refresh_token"]})
    assert again.status_code == 200
    assert c.post("/api/v1/auth/refresh", json={"refresh_token": t["refresh_token"]}).status_code == 401
    fresh = {"Authorization": f"Bearer {again.json()['access_token']}"}
    assert c.get("/api/v1/auth/me", headers=fresh).status_code == 401  # the copy ended the session
    # Signing out ends a sign-in at once.
    other = sign_in(c, "+8613800138000").json()
    h2 = {"Authorization": f"Bearer {other['access_token']}"}
    assert c.get("/api/v1/auth/me", headers=h2).status_code == 200
    assert c.post("/api/v1/auth/logout", headers=h2).status_code == 204
    assert c.get("/api/v1/auth/me", headers=h2).status_code == 401
    assert c.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]}).status_code == 401


def test_passwords_are_argon2_and_sign_in_is_limited(city: City) -> None:
    registered(city, "13900139000")
    store = open_store(city.db)
    try:
        account = store.find_account("+8613900139000")
    finally:
        store.close()
    assert account is not None and account.password_hash is not None
    assert account.password_hash.startswith("$argon2id$") and PASSWORD not in account.password_hash
    assert sign_in(city.client, "13900139000", "wrong password!").status_code == 401
    statuses = [sign_in(city.client, "13900139000", "wrong password!").status_code for _ in range(12)]
    assert 429 in statuses  # per account
    limited = [sign_in(city.client, f"nobody{i}", "wrong password!") for i in range(40)]
    assert any(r.status_code == 429 and r.headers.get("retry-after") for r in limited)  # per address


def test_an_org_admin_manages_its_subtree_and_sees_nothing_else(city: City) -> None:
    c = city.client
    listed = c.get("/api/v1/organisations", headers=city.h("oa")).json()["items"]
    assert {o["id"] for o in listed} == {"fed-a", "street-a", "community-a"}
    assert (
        c.get("/api/v1/organisations/fed-a/children", headers=city.h("oa")).json()["items"][0]["id"]
        == "street-a"
    )
    for path in ("/api/v1/organisations/street-b", "/api/v1/organisations/street-b/members",
                 "/api/v1/organisations/fed-b/children", "/api/v1/organisations/street-b/invitations"):  # fmt: skip
        assert c.get(path, headers=city.h("oa")).status_code == 404, path
    assert (
        c.patch("/api/v1/organisations/street-b", json={"name": "x"}, headers=city.h("oa")).status_code == 404
    )
    # A new organisation under fed-b applies; fed-a's admin cannot see or approve it, fed-b's can.
    applied = c.post("/api/v1/organisations", json={"name": "上城区某中学", "kind": "school", "parent_id": "fed-b"},
                     headers=city.h("organiser"))  # fmt: skip
    assert applied.status_code == 201 and applied.json()["status"] == "applied", applied.text
    new_id = applied.json()["id"]
    assert c.post(f"/api/v1/organisations/{new_id}/approve", headers=city.h("oa")).status_code == 404
    approved = c.post(f"/api/v1/organisations/{new_id}/approve", headers=city.h("ob"))
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    # One made by an org admin under its own subtree is approved at once, and reached at once.
    made = c.post("/api/v1/organisations", json={"name": "西湖区某社区", "kind": "community_station",
                                                 "parent_id": "street-a"}, headers=city.h("oa"))  # fmt: skip
    assert made.status_code == 201 and made.json()["status"] == "approved"
    assert c.get(f"/api/v1/organisations/{made.json()['id']}", headers=city.h("oa")).status_code == 200
    # The subtree's activities are the org admin's to manage: rosters in, another district's not.
    assert c.get("/api/v1/shifts/s0/roster", headers=city.h("oa")).status_code == 200
    assert c.get("/api/v1/shifts/s2/roster", headers=city.h("oa")).status_code == 403  # a public posting
    # Invitations: a new organiser for street-a, accepted by the invitee signed in.
    _, h = registered(city, "13700137000")
    inv = c.post("/api/v1/organisations/street-a/invitations", json={"role": "organiser", "phone": "13700137000"},
                 headers=city.h("oa"))  # fmt: skip
    assert inv.status_code == 201, inv.text
    assert c.post(f"/api/v1/invitations/{inv.json()['code']}/accept", headers=city.h("ob")).status_code == 404
    took = c.post(f"/api/v1/invitations/{inv.json()['code']}/accept", headers=h)
    assert took.status_code == 200 and took.json()["role"] == "organiser", took.text
    staff = sign_in(c, "13700137000").json()
    assert staff["role"] == "organiser"
    assert (
        c.get(
            "/api/v1/shifts/s0/roster", headers={"Authorization": f"Bearer {staff['access_token']}"}
        ).status_code
        == 200
    )


def test_an_organisation_cannot_sit_under_itself_or_its_own_child(city: City) -> None:
    c, before = city.client, city.counts()
    for parent in ("fed-a", "street-a", "community-a"):
        r = c.patch("/api/v1/organisations/fed-a", json={"parent_id": parent}, headers=city.h("admin"))
        assert r.status_code == 422 and "parent_id" in str(r.json()["detail"][0]["loc"]), r.text
    wrong_kind = c.post("/api/v1/organisations", json={"name": "x", "kind": "street_station", "parent_id": "city"},
                        headers=city.h("admin"))  # fmt: skip
    assert wrong_kind.status_code == 422 and "parent_id" in wrong_kind.text
    assert city.counts() == before
    assert c.get("/api/v1/organisations/fed-a", headers=city.h("admin")).json()["parent_id"] == "city"


GOOD_ID = national_id("19950302")


@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        ({"national_id": GOOD_ID[:-1] + ("1" if GOOD_ID[-1] != "1" else "2")}, "national_id", 422),
        ({"national_id": national_id("19951302")}, "national_id", 422),  # month 13
        ({"birth_date": "2030-01-01"}, "birth_date", 422),
        ({"password": "short1234"}, "password", 422),
        ({"phone": "12345"}, "phone", 422),
        ({"home": {"lat": 91, "lon": 120}}, "lat", 422),
        ({"birth_date": "1995-03-02", "national_id": national_id("19960302")}, "birth_date", 422),
    ],
)
def test_bad_registrations_name_the_field_and_write_nothing(
    city: City, change: dict[str, Any], field: str, status: int
) -> None:
    before = city.counts()
    r = city.client.post("/api/v1/accounts", json=joiner(**change))
    assert r.status_code == status, r.text
    assert field in r.text
    assert city.counts() == before


def test_a_phone_registered_twice_is_a_conflict_naming_the_phone(city: City) -> None:
    assert city.client.post("/api/v1/accounts", json=joiner()).status_code == 201
    before = city.counts()
    again = city.client.post("/api/v1/accounts", json=joiner(phone="+86 138-0013-8000", name="另一个人"))
    assert again.status_code == 409 and "phone" in again.text
    assert city.counts() == before


def test_a_minor_needs_a_guardian_before_taking_a_place(city: City) -> None:
    born = date(NOW.year - 15, 6, 1)
    vid, h = registered(city, "13600136000", birth_date=born.isoformat())
    assert city.client.get(f"/api/v1/volunteers/{vid}/identity", headers=h).json()["guardian_needed"] is True
    before = city.counts()
    refused = city.client.post("/api/v1/shifts/s1/signups", headers=h)
    assert refused.status_code == 422 and "guardian" in refused.text, refused.text
    assert city.counts() == before
    guardian = {
        "name": "林大山",
        "phone": "13500135000",
        "relationship": "父亲",
        "consent_date": "2026-11-01",
    }
    future = {**guardian, "consent_date": "2027-01-01"}
    assert (
        city.client.put(
            f"/api/v1/volunteers/{vid}/identity", json={"guardian": future}, headers=h
        ).status_code
        == 422
    )
    ok = city.client.put(f"/api/v1/volunteers/{vid}/identity", json={"guardian": guardian}, headers=h)
    assert ok.status_code == 200 and ok.json()["guardian_needed"] is False
    assert "13500135000" not in ok.text  # the guardian's number is shown masked
    assert city.client.post("/api/v1/shifts/s1/signups", headers=h).status_code == 201
    # An adults-only activity says why, in the core's words.
    adults = city.client.post("/api/v1/shifts/s3/signups", headers=h)
    assert adults.status_code == 409 and "age" in adults.text.lower()


def test_a_registered_volunteer_can_give_an_id_number_later_and_it_sets_the_birth_date(city: City) -> None:
    vid, h = registered(city, "13300133000", birth_date="1980-01-01")
    number = national_id("19900615", "456")
    r = city.client.put(f"/api/v1/volunteers/{vid}/identity", json={"national_id": number}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["birth_date"] == "1990-06-15" and number not in r.text
    # The same number cannot register someone else.
    twin = city.client.post(
        "/api/v1/accounts", json=joiner("13200132000", national_id=number, birth_date=None)
    )
    assert twin.status_code == 409 and "national_id" in twin.text


def members_and_team(db: str, team: str, volunteers: list[str], organisation: str = "street-a") -> str:
    """Volunteers (adults, free on Saturday mornings) approved as members, in one team."""
    store = open_store(db)
    try:
        for vid in volunteers:
            if store.get_volunteer(vid) is None:
                store.upsert_volunteer(volunteer(vid, 1.5))
            store.organisations.apply(organisation, vid, "", 0)
            store.organisations.decide_member(organisation, vid, True, "test", 0)
        made = store.organisations.create_team(
            Team(team, organisation, team, volunteers[0], tuple(volunteers)), 0
        )
    finally:
        store.close()
    time.sleep(4 * POLL_S)  # the serving process applies the change log every POLL_S
    return made.id


def test_a_team_is_signed_up_whole_or_not_at_all(city: City) -> None:
    six = [f"t{i}" for i in range(6)]
    team = members_and_team(city.db, "six", six)
    c = city.client
    # One place of s0's five is taken: five left for six.
    assert (
        c.post("/api/v1/shifts/s0/signups", json={"volunteer_id": "v1"}, headers=city.h("admin")).status_code
        == 201
    )
    before = city.counts()
    big = c.post(
        "/api/v1/shifts/s0/team-signups", json={"team_id": team, "members": six}, headers=city.h("organiser")
    )
    assert big.status_code == 409, big.text
    assert "4 places left for a team of 6" in big.text
    assert city.counts() == before  # nobody was signed up
    # A member who may not go is named with the rule, and the rest are not signed up either.
    store = open_store(city.db)
    try:
        store.upsert_volunteer(volunteer("t5", 1.5, birth_date=date(NOW.year - 15, 1, 1)))
    finally:
        store.close()
    time.sleep(4 * POLL_S)
    four = ["t2", "t3", "t4", "t5"]
    minor = c.post(
        "/api/v1/shifts/s0/team-signups", json={"team_id": team, "members": four}, headers=city.h("organiser")
    )
    assert minor.status_code in (409, 422), minor.text
    failed = minor.json()["failed"]
    assert [f["volunteer_id"] for f in failed] == ["t5"] and "guardian" in failed[0]["reason"]
    assert city.counts() == before
    # Three who may go: all confirmed together, and the leader may do it too.
    three = ["t0", "t1", "t2"]
    leader = sign_in_volunteer(city, "t0")
    ok = c.post("/api/v1/shifts/s0/team-signups", json={"team_id": team, "members": three}, headers=leader)
    assert ok.status_code == 201 and ok.json()["status"] == "confirmed", ok.text
    assert sorted(s["volunteer_id"] for s in ok.json()["signups"]) == three
    assert {s["status"] for s in ok.json()["signups"]} == {"confirmed"}
    # Someone not in the team cannot be named; a member who is not the leader cannot sign it up.
    stranger = c.post(
        "/api/v1/shifts/s1/team-signups", json={"team_id": team, "members": ["v2"]}, headers=leader
    )
    assert stranger.status_code == 422 and "v2" in stranger.text
    member = sign_in_volunteer(city, "t1")
    assert c.post("/api/v1/shifts/s1/team-signups", json={"team_id": team, "members": ["t1"]},
                  headers=member).status_code == 404  # fmt: skip


def sign_in_volunteer(city: City, vid: str) -> dict[str, str]:
    store = open_store(city.db)
    try:
        account = Account(f"acct_{vid}", f"name-{vid}", "volunteer", volunteer_id=vid)
        store.create_account(account)
    finally:
        store.close()
    return {"Authorization": f"Bearer {issue_token(account, SECRET, now=utcnow(), ttl_hours=1)}"}


def test_an_org_admins_gap_table_is_its_subtrees_and_the_subtrees_add_up(city: City) -> None:
    c = city.client
    query = "/api/v1/analytics/gaps?by=category&from=2026-11-28&to=2027-01-01"

    def demand(who: str, extra: str = "") -> float:
        r = c.get(query + extra, headers=city.h(who))
        assert r.status_code == 200, r.text
        return sum(row["demand_hours"] for row in r.json()["rows"])

    whole, a, b = demand("admin"), demand("oa"), demand("ob")
    assert a > 0 and b > 0 and a + b == pytest.approx(whole)  # every posting is in one district's subtree
    assert demand("admin", "&organisation=fed-a") == pytest.approx(a)
    assert demand("oa", "&organisation=street-a") == pytest.approx(a)  # a1 and a3 are street-a's
    assert c.get(query + "&organisation=fed-b", headers=city.h("oa")).status_code == 404


def test_stations_are_found_near_a_place_and_analytics_group_by_them(city: City) -> None:
    c = city.client
    made = c.post("/api/v1/organisations/street-a/stations", headers=city.h("organiser"), json={
        "name": "西湖街道志愿服务站", "setting": "town", "lat": 30.26, "lon": 120.14, "address": "北山街 1 号",
        "opening_hours": [{"day": "sat", "start": "08:00", "end": "17:00"}], "services": ["应急包", "饮水"]})  # fmt: skip
    assert made.status_code == 201, made.text
    station = made.json()["id"]
    assert c.post("/api/v1/organisations/street-b/stations", headers=city.h("organiser"),
                  json={"name": "x", "lat": 30.2, "lon": 120.1}).status_code == 404  # fmt: skip
    bad = c.post("/api/v1/organisations/street-a/stations", headers=city.h("organiser"),
                 json={"name": "x", "lat": 91, "lon": 120.1})  # fmt: skip
    assert bad.status_code == 422
    near = c.get("/api/v1/stations?near=30.25,120.14&radius_km=5", headers=city.h("ob")).json()["items"]
    assert [s["id"] for s in near] == [station] and 1.0 < near[0]["distance_km"] < 1.3
    assert (
        c.get("/api/v1/stations?near=30.25,120.14&radius_km=0.5", headers=city.h("ob")).json()["items"] == []
    )
    assert c.put("/api/v1/activities/a1/station", json={"station_id": station},
                 headers=city.h("organiser")).status_code == 204  # fmt: skip
    assert c.put("/api/v1/activities/a2/station", json={"station_id": station},
                 headers=city.h("ob")).status_code == 404  # another organisation's station  # fmt: skip
    assert (
        c.post("/api/v1/shifts/s0/signups", json={"volunteer_id": "v1"}, headers=city.h("admin")).status_code
        == 201
    )
    table = c.get("/api/v1/analytics/stations?from=2026-11-28&to=2027-01-01", headers=city.h("oa"))
    assert table.status_code == 200, table.text
    row = next(r for r in table.json()["rows"] if r["station_id"] == station)
    assert (row["activities"], row["shifts"], row["places"], row["taken"]) == (1, 2, 10, 1)
    assert row["fill_rate"] == pytest.approx(0.1)
    assert c.get("/api/v1/analytics/stations", headers=city.h("ob")).json()["rows"] == []  # not fed-b's


def test_an_org_admins_forecast_reads_its_subtrees_history(city: City) -> None:
    def history(who: str, extra: str = "") -> float:
        r = city.client.get("/api/v1/analytics/forecast?weeks=2" + extra, headers=city.h(who))
        assert r.status_code == 200, r.text
        return sum(row["hours"] for row in r.json()["history"])

    assert (history("admin"), history("oa"), history("ob")) == (5.0, 3.0, 2.0)
    assert history("admin", "&organisation=street-b") == 2.0
    assert (
        city.client.get("/api/v1/analytics/forecast?organisation=fed-b", headers=city.h("oa")).status_code
        == 404
    )
