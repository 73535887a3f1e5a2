"""The HTTP API driven through real requests (FastAPI's TestClient runs the app's lifespan, so
the store, the index and the middleware are the ones ``volmatch serve`` uses): every endpoint,
every role, the privacy rules, and bad input that must get a 4xx and change nothing."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from api.auth import issue_token, utcnow
from api.live import caches as account_cache
from api.main import create_app
from api.settings import Settings
from matcher.model.domain import ServiceRecord, World
from matcher.store.base import Account
from matcher.store.connect import open_store
from tests.conftest import NOW, WEST_LAKE, activity, km_north, saturday_shift, volunteer

SECRET = "s" * 40
ROLES = ("volunteer", "organiser", "org_admin", "analyst", "admin")


def world() -> World:
    vols = (
        volunteer("v1", 1.0, phone="13800000000", email="v1@example.org", district="西湖区"),
        volunteer("v2", 3.0, district="上城区"),
        volunteer("v3", 6.0),
    )
    acts = (
        activity("a1", organisation_id="o1"),
        activity("a2", organisation_id="o2", shifts=(saturday_shift("s2"),)),
    )
    recs = (
        ServiceRecord(
            volunteer_id="v1",
            activity_id="a1",
            shift_id="s1",
            date=NOW.date(),
            hours=4.0,
            attended=True,
            rating=5,
        ),
    )
    return World(vols, acts, recs)


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def app_client(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[TestClient, dict[str, str], str]]:
    """The app on a fresh store of each backend, with an account per role (and a second
    volunteer and organiser); yields the client, the tokens and the store URL."""
    db = (
        f"sqlite:///{tmp_path / 'api.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgis_url")
    )
    store = open_store(db)
    store.load_world(world())
    accounts = {
        "volunteer": Account("acct_v1", "v1", "volunteer", volunteer_id="v1"),
        "volunteer2": Account("acct_v2", "v2", "volunteer", volunteer_id="v2"),
        "organiser": Account("acct_o1", "o1", "organiser", organisation_id="o1"),
        "organiser2": Account("acct_o2", "o2", "organiser", organisation_id="o2"),
        "org_admin": Account("acct_oa", "oa", "org_admin", organisation_id="o1"),
        "analyst": Account("acct_an", "an", "analyst"),
        "admin": Account("acct_ad", "ad", "admin"),
    }
    for a in accounts.values():
        store.create_account(a)
    store.close()
    tokens = {k: issue_token(a, SECRET, now=utcnow(), ttl_hours=1) for k, a in accounts.items()}
    # The route walker sends well over a burst's worth of requests with each token; budgets
    # have their own tests (tests/api/test_limits.py).
    settings = Settings(database_url=db, environment="test", secret_key=SECRET, rate_per_s=0)
    with TestClient(create_app(settings, clock=lambda: NOW)) as client:
        yield client, tokens, db


def auth(tokens: dict[str, str], who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[who]}"}


def counts(db: str) -> dict[str, int]:
    store = open_store(db)
    try:
        return store.counts()
    finally:
        store.close()


# --------------------------------------------------------------------------------------------
# Policies


def test_every_route_declares_a_policy_and_enforces_it(
    app_client: tuple[TestClient, dict[str, str], str],
) -> None:
    client, tokens, _ = app_client
    schema = client.get("/openapi.json").json()
    walked = 0
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            assert "x-policy" in op, f"{method.upper()} {path} has no policy"
            allowed = op["x-policy"]["roles"]
            # Ids nobody has: allowed roles get a 404 or 422, never a 500, and nothing changes.
            url = path.format(
                volunteer_id="nobody",
                activity_id="nothing",
                shift_id="none",
                signup_id="none",
                claim_id="none",
                version="none",
                need_id="none",
                allocation_id="none",
                message_id="1",
                kind="reminder",
                call_id="none",
                token="none",
                organisation_id="nowhere",
                team_id="none",
                station_id="none",
                code="none",
            )
            body = {} if method in ("post", "patch") else None
            anonymous = client.request(method, url, json=body)
            if allowed == ["anyone"]:
                # No sign-in needed (a private calendar link carries its own secret instead).
                assert anonymous.status_code < 400 or anonymous.status_code in (404, 422), (method, path)
                continue
            assert anonymous.status_code == 401, (method, path)
            for role in ROLES:
                r = client.request(method, url, json=body, headers=auth(tokens, role))
                assert r.status_code != 500, (method, path, role, r.text)
                if role not in allowed:
                    assert r.status_code == 403, (method, path, role, r.status_code)
            walked += 1
    assert walked >= 12


@pytest.mark.parametrize("token", ["not-a-jwt", "Bearer", ""])
def test_malformed_tokens_are_401(app_client: tuple[TestClient, dict[str, str], str], token: str) -> None:
    client, _, _ = app_client
    r = client.get("/api/v1/volunteers/v1", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


def test_tokens_signed_otherwise_or_unsigned_are_refused(
    app_client: tuple[TestClient, dict[str, str], str],
) -> None:
    client, _, _ = app_client
    claims = {"sub": "acct_ad", "exp": 4102444800}
    forged = jwt.encode(claims, "another secret that is long enough!!", algorithm="HS256")
    unsigned = jwt.encode(claims, None, algorithm="none")
    for token in (forged, unsigned):
        assert client.get("/api/v1/export", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    expired = jwt.encode({"sub": "acct_ad", "exp": 1}, SECRET, algorithm="HS256")
    assert client.get("/api/v1/export", headers={"Authorization": f"Bearer {expired}"}).status_code == 401


def test_a_volunteer_reads_only_themself(app_client: tuple[TestClient, dict[str, str], str]) -> None:
    client, tokens, _ = app_client
    own = client.get("/api/v1/volunteers/v1", headers=auth(tokens, "volunteer"))
    assert own.status_code == 200 and own.json()["phone"] == "13800000000"
    assert client.get("/api/v1/volunteers/v2", headers=auth(tokens, "volunteer")).status_code == 404
    assert (
        client.patch(
            "/api/v1/volunteers/v2", json={"name": "x"}, headers=auth(tokens, "volunteer")
        ).status_code
        == 404
    )
    assert client.get("/api/v1/volunteers/v2", headers=auth(tokens, "admin")).status_code == 200


def test_an_organiser_manages_only_their_organisation(
    app_client: tuple[TestClient, dict[str, str], str],
) -> None:
    client, tokens, _ = app_client
    h = auth(tokens, "organiser")
    assert client.get("/api/v1/activities/a1/recommended-volunteers", headers=h).status_code == 200
    # Another organisation's posting is public: readable, and refused honestly (403, whose).
    assert client.get("/api/v1/activities/a2", headers=h).status_code == 200
    for refused in (
        client.get("/api/v1/activities/a2/recommended-volunteers", headers=h),
        client.patch("/api/v1/activities/a2", json={"title": "x"}, headers=h),
        client.delete("/api/v1/activities/a2", headers=h),
    ):
        assert refused.status_code == 403, refused.text
        assert "belongs to another organisation" in refused.json()["detail"]
    assert client.get("/api/v1/activities/nope/recommended-volunteers", headers=h).status_code == 404
    other = new_activity("a9", organisation_id="o2")
    assert client.post("/api/v1/activities", json=other, headers=h).status_code == 403
    mine = client.post("/api/v1/activities", json=new_activity("a9"), headers=h)
    assert mine.status_code == 201, mine.text
    assert (
        client.get("/api/v1/activities/a9", headers=auth(tokens, "volunteer")).json()["title"] == "河道清洁"
    )


# --------------------------------------------------------------------------------------------
# Privacy


def test_organisers_see_districts_and_bands_never_homes_or_contacts(
    app_client: tuple[TestClient, dict[str, str], str],
) -> None:
    client, tokens, _ = app_client
    r = client.get("/api/v1/activities/a1/recommended-volunteers?k=10", headers=auth(tokens, "organiser"))
    assert r.status_code == 200
    text = r.text
    matches = r.json()["matches"]
    assert [m["id"] for m in matches] == ["v1", "v2", "v3"]
    assert matches[0]["district"] == "西湖区"
    assert [m["distance_band"] for m in matches] == ["< 2 km", "2–5 km", "5–10 km"]
    for secret in ("13800000000", "v1@example.org", "home", "lat", "lon", "distance_km"):
        assert secret not in text
    # No precise distance anywhere, reasons included: "1.0 km" would let three queries
    # triangulate a home.
    assert not re.search(r"\d+\.\d+ km", text)


def test_a_volunteer_sees_exact_distances_to_activities(
    app_client: tuple[TestClient, dict[str, str], str],
) -> None:
    client, tokens, _ = app_client
    r = client.get("/api/v1/volunteers/v1/recommended-activities?k=5", headers=auth(tokens, "volunteer"))
    assert r.status_code == 200
    m = r.json()["matches"]
    assert {x["id"] for x in m} == {"a1", "a2"}
    assert m[0]["distance_km"] == pytest.approx(1.0, abs=0.01)


# --------------------------------------------------------------------------------------------
# Writes show in the next recommendation; erasure; export


def test_a_change_shows_in_the_next_recommendation(
    app_client: tuple[TestClient, dict[str, str], str],
) -> None:
    client, tokens, _ = app_client
    org = auth(tokens, "organiser")
    first = client.get("/api/v1/activities/a1/recommended-volunteers", headers=org).json()["matches"]
    assert first[0]["id"] == "v1"
    # v1 is now only free on Sundays: no longer available for the Saturday shift.
    moved = client.patch(
        "/api/v1/volunteers/v1",
        json={"availability": [{"day": "sun", "start": "08:00", "end": "12:00"}]},
        headers=auth(tokens, "volunteer"),
    )
    assert moved.status_code == 200, moved.text
    after = client.get("/api/v1/activities/a1/recommended-volunteers", headers=org).json()
    assert [m["id"] for m in after["matches"]] == ["v2", "v3"]
    assert after["excluded"]["availability"] >= 1
    created = client.post(
        "/api/v1/volunteers", json=new_volunteer("v7", lat_km=0.5), headers=auth(tokens, "admin")
    )
    assert created.status_code == 201, created.text
    newest = client.get("/api/v1/activities/a1/recommended-volunteers", headers=org).json()["matches"]
    assert newest[0]["id"] == "v7"


def test_erasure_keeps_anonymous_hours_and_export_holds_everything(
    app_client: tuple[TestClient, dict[str, str], str],
) -> None:
    client, tokens, db = app_client
    mine = client.get("/api/v1/volunteers/v1/export", headers=auth(tokens, "volunteer")).json()
    assert mine["volunteer"]["email"] == "v1@example.org"
    assert [r["hours"] for r in mine["service_records"]] == [4.0]
    before = counts(db)
    assert client.delete("/api/v1/volunteers/v1", headers=auth(tokens, "volunteer")).status_code == 204
    assert client.get("/api/v1/volunteers/v1", headers=auth(tokens, "admin")).status_code == 404
    after = counts(db)
    assert after["volunteers"] == before["volunteers"] - 1
    assert after["service_records"] == before["service_records"]
    assert erased_row(db) == ("", None, None, None, None)
    ranked = client.get(
        "/api/v1/activities/a1/recommended-volunteers", headers=auth(tokens, "organiser")
    ).json()
    assert "v1" not in [m["id"] for m in ranked["matches"]]
    # The erased volunteer's sign-in went with their data.
    assert client.get("/api/v1/volunteers/v1", headers=auth(tokens, "volunteer")).status_code == 401


def test_an_account_removed_by_another_process_stops_working_within_the_ttl(
    app_client: tuple[TestClient, dict[str, str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, tokens, db = app_client
    monkeypatch.setattr(account_cache, "ACCOUNT_TTL_S", 0.2)
    assert client.get("/api/v1/volunteers/v1", headers=auth(tokens, "volunteer")).status_code == 200
    other = open_store(db)  # another worker's erasure: this process learns of it by asking again
    try:
        assert other.erase_volunteer("v1")
    finally:
        other.close()
    time.sleep(0.25)
    assert client.get("/api/v1/volunteers/v1", headers=auth(tokens, "volunteer")).status_code == 401


def test_while_a_write_holds_the_service_recommendations_wait_and_health_answers(
    app_client: tuple[TestClient, dict[str, str], str],
) -> None:
    """Recommendations run on the event loop unless a write (a bulk import, say) holds the
    service; then they wait in a worker thread and the loop goes on answering."""
    client, tokens, _ = app_client
    service = client.app.state.live  # type: ignore[attr-defined]
    held, release = threading.Event(), threading.Event()

    def long_write() -> None:
        with service.lock:
            held.set()
            release.wait(10)

    writer = threading.Thread(target=long_write)
    writer.start()
    held.wait(5)
    answers: list[int] = []
    asking = threading.Thread(
        target=lambda: answers.append(
            client.get(
                "/api/v1/activities/a1/recommended-volunteers", headers=auth(tokens, "organiser")
            ).status_code
        )
    )
    asking.start()
    time.sleep(0.2)
    t = time.monotonic()
    assert client.get("/health").status_code == 200
    assert time.monotonic() - t < 1.0
    assert answers == []  # still waiting for the write
    release.set()
    writer.join(5)
    asking.join(10)
    assert answers == [200]


def test_listing_activities_near_a_point_with_pagination(
    app_client: tuple[TestClient, dict[str, str], str],
) -> None:
    client, tokens, _ = app_client
    h = auth(tokens, "analyst")
    client.post("/api/v1/activities", json=new_activity("a9", km=30.0), headers=auth(tokens, "admin"))
    near = f"{WEST_LAKE.lat},{WEST_LAKE.lon}"
    r = client.get(f"/api/v1/activities?near={near}&radius_km=10", headers=h).json()
    assert r["total"] == 2 and {i["id"] for i in r["items"]} == {"a1", "a2"}
    everything = client.get(f"/api/v1/activities?near={near}&limit=1&offset=2", headers=h).json()
    assert everything["total"] == 3 and [i["id"] for i in everything["items"]] == ["a9"]
    assert everything["items"][0]["distance_km"] == pytest.approx(30.0, abs=0.05)
    assert client.get("/api/v1/activities?category=conferences", headers=h).json()["total"] == 0


def test_bulk_import_and_export_for_admins(app_client: tuple[TestClient, dict[str, str], str]) -> None:
    client, tokens, db = app_client
    h = auth(tokens, "admin")
    doc = {"volunteers": [new_volunteer("v8")], "activities": [new_activity("a8")]}
    r = client.post("/api/v1/import", content=json.dumps(doc), headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["volunteers"] == 1
    exported = client.get("/api/v1/export", headers=h).json()
    assert {"v8", "v1"} <= {v["id"] for v in exported["volunteers"]}
    bad = {"volunteers": [new_volunteer("v10"), {**new_volunteer("v11"), "home": {"lat": 91, "lon": 0}}]}
    before = counts(db)
    r = client.post("/api/v1/import", content=json.dumps(bad), headers=h)
    assert r.status_code == 422 and "volunteers[1]" in r.text and "home.lat" in r.text
    assert counts(db) == before


# --------------------------------------------------------------------------------------------
# Bad input: a 4xx that says what to fix, and nothing written


BAD_VOLUNTEERS: list[tuple[str, Any, str]] = [
    ("latitude 91", {"home": {"lat": 91, "lon": 120}}, "lat"),
    ("NaN latitude", "NaN", "lat"),
    ("unknown field", {"favourite_colour": "blue"}, "favourite_colour"),
    ("negative travel", {"max_travel_km": -1}, "max_travel_km"),
    ("bad window", {"availability": [{"day": "sat", "start": "25:00", "end": "26:00"}]}, "availability"),
    ("unknown time zone", {"timezone": "Mars/Olympus"}, "timezone"),
    ("empty skill", {"skills": [""]}, "skills"),
    ("birth date in the future", {"birth_date": "2030-01-01"}, "birth_date"),
    ("birth date 176 years ago", {"birth_date": "1850-01-01"}, "birth_date"),
]


@pytest.mark.parametrize(("case", "change", "field"), BAD_VOLUNTEERS, ids=[c[0] for c in BAD_VOLUNTEERS])
def test_bad_volunteers_get_422_naming_the_field(
    app_client: tuple[TestClient, dict[str, str], str], case: str, change: Any, field: str
) -> None:
    client, tokens, db = app_client
    before = counts(db)
    if change == "NaN":
        body = json.dumps(new_volunteer("v9")).replace('"lat": 30.259', '"lat": NaN')
        assert "NaN" in body
    else:
        body = json.dumps({**new_volunteer("v9"), **change})
    r = client.post(
        "/api/v1/volunteers",
        content=body,
        headers=auth(tokens, "admin") | {"content-type": "application/json"},
    )
    assert r.status_code == 422, (case, r.status_code, r.text)
    assert field in r.text
    assert counts(db) == before


BAD_SHIFTS: list[tuple[str, dict[str, Any], str]] = [
    ("naive datetime", {"start": "2026-12-12T08:00:00", "end": "2026-12-12T12:00:00+08:00"}, "start"),
    ("end before start", {"start": "2026-12-12T12:00:00+08:00", "end": "2026-12-12T08:00:00+08:00"}, "end"),
    ("zero capacity", {"capacity": 0}, "capacity"),
]


@pytest.mark.parametrize(("case", "change", "field"), BAD_SHIFTS, ids=[c[0] for c in BAD_SHIFTS])
def test_bad_shifts_get_422_and_write_nothing(
    app_client: tuple[TestClient, dict[str, str], str], case: str, change: dict[str, Any], field: str
) -> None:
    client, tokens, db = app_client
    body = new_activity("a9")
    body["shifts"][0] |= change
    before = counts(db)
    r = client.post("/api/v1/activities", json=body, headers=auth(tokens, "organiser"))
    assert r.status_code == 422, (case, r.text)
    assert field in r.text
    assert counts(db) == before


@pytest.mark.parametrize(
    "query",
    ["k=1000000000", "k=0", "radius_km=500", "radius_km=nan", "radius_km=inf", "k=abc"],
)
def test_out_of_range_parameters_get_422(
    app_client: tuple[TestClient, dict[str, str], str], query: str
) -> None:
    client, tokens, _ = app_client
    r = client.get(f"/api/v1/activities/a1/recommended-volunteers?{query}", headers=auth(tokens, "organiser"))
    assert r.status_code == 422, (query, r.text)


@pytest.mark.parametrize("near", ["91,120", "nan,120", "30", "30,abc", "30,181"])
def test_bad_places_get_422(app_client: tuple[TestClient, dict[str, str], str], near: str) -> None:
    client, tokens, _ = app_client
    r = client.get(f"/api/v1/activities?near={near}", headers=auth(tokens, "analyst"))
    assert r.status_code == 422, (near, r.text)


def test_oversized_bodies_get_413_declared_or_not(
    app_client: tuple[TestClient, dict[str, str], str],
) -> None:
    client, tokens, db = app_client
    before = counts(db)
    huge = json.dumps({**new_volunteer("v9"), "name": "x" * (2 << 20)})
    r = client.post(
        "/api/v1/volunteers",
        content=huge,
        headers=auth(tokens, "admin") | {"content-type": "application/json"},
    )
    assert r.status_code == 413 and "bytes" in r.text

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(huge), 65536):
            yield huge[i : i + 65536].encode()

    r = client.post(
        "/api/v1/volunteers",
        content=chunks(),
        headers=auth(tokens, "admin") | {"content-type": "application/json"},
    )
    assert r.status_code == 413
    assert counts(db) == before


def test_chinese_and_emoji_text_round_trip(app_client: tuple[TestClient, dict[str, str], str]) -> None:
    client, tokens, _ = app_client
    body = new_volunteer("v-zh-1") | {"name": "王芳 🌸", "skills": ["急救", "🚑 driving"]}
    r = client.post("/api/v1/volunteers", json=body, headers=auth(tokens, "admin"))
    assert r.status_code == 201, r.text
    got = client.get("/api/v1/volunteers/v-zh-1", headers=auth(tokens, "admin")).json()
    assert got["name"] == "王芳 🌸" and "first_aid" in got["skills"]


def test_health_and_readiness(app_client: tuple[TestClient, dict[str, str], str]) -> None:
    client, _, _ = app_client
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json()["volunteers"] == 3
    docs = client.get("/docs")
    assert docs.status_code == 200 and "cdn" not in docs.text  # served from our files, offline
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200


# --------------------------------------------------------------------------------------------


def new_volunteer(ident: str, lat_km: float = 1.0) -> dict[str, Any]:
    home = km_north(WEST_LAKE, lat_km)
    return {
        "id": ident,
        "name": "新志愿者",
        "home": {"lat": round(home.lat, 3), "lon": home.lon},
        "max_travel_km": 10,
        "skills": ["first aid"],
        "availability": [{"day": "sat", "start": "08:00", "end": "12:00"}],
        "birth_date": "1995-03-01",
        "timezone": "Asia/Shanghai",
    }


def new_activity(ident: str, organisation_id: str = "o1", km: float = 0.0) -> dict[str, Any]:
    place = km_north(WEST_LAKE, km)
    return {
        "id": ident,
        "organisation_id": organisation_id,
        "title": "河道清洁",
        "category": "river protection",
        "location": {"lat": place.lat, "lon": place.lon},
        "timezone": "Asia/Shanghai",
        "shifts": [
            {
                "id": f"{ident}-s1",
                "start": "2026-12-12T08:00:00+08:00",
                "end": "2026-12-12T12:00:00+08:00",
                "capacity": 5,
            }
        ],
    }


def test_open_feeds_need_no_token_and_carry_no_personal_data(
    app_client: tuple[TestClient, dict[str, str], str],
) -> None:
    client, tokens, _ = app_client
    full = new_activity("a9") | {"title": "河道清洁活动, 测试; 长标题" * 4}
    full["shifts"][0]["capacity"] = 1
    assert client.post("/api/v1/activities", json=full, headers=auth(tokens, "admin")).status_code == 201
    feed = client.get("/api/v1/feeds/activities")
    assert feed.status_code == 200
    items = feed.json()["items"]
    assert {i["id"] for i in items} == {"a1", "a2", "a9"}
    assert all(s["places_left"] >= 1 for i in items for s in i["shifts"])
    for secret in ("13800000000", "v1@example.org", "v1", "phone", "email", "birth"):
        assert secret not in feed.text
    ics = client.get("/api/v1/feeds/activities.ics")
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    raw = ics.content
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.endswith(b"END:VCALENDAR\r\n")
    assert raw.count(b"BEGIN:VEVENT") == 3
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))  # folded, never mid-character
    unfolded = raw.decode().replace("\r\n ", "")
    assert "DTSTART:20261205T000000Z" in unfolded  # 08:00 in Beijing
    assert "SUMMARY:" + "河道清洁活动\\, 测试\\; 长标题" * 4 in unfolded
    assert client.get("/api/v1/feeds/activities?days=0").status_code == 422


def erased_row(db: str) -> tuple[object, ...]:
    """What the store still holds about v1: name, whether a home is kept, phone, email, birth."""
    if db.startswith("sqlite:///"):
        conn = sqlite3.connect(db.removeprefix("sqlite:///"))
        try:
            row = conn.execute(
                "SELECT name, lat, phone, email, birth_date FROM volunteers WHERE id = 'v1'"
            ).fetchone()
        finally:
            conn.close()
        return tuple(row)
    import psycopg

    with psycopg.connect(db) as conn:
        row = conn.execute(
            "SELECT name, home, phone, email, birth_date FROM volunteers WHERE id = 'v1'"
        ).fetchone()
    assert row is not None
    return tuple(row)


def test_addresses_and_districts_are_geocoded_and_say_so(
    app_client: tuple[TestClient, dict[str, str], str],
) -> None:
    client, tokens, _ = app_client
    h = auth(tokens, "admin")
    body = new_volunteer("v-addr") | {"address": "浙江省杭州市西湖区文三路 90 号"}
    del body["home"]
    r = client.post("/api/v1/volunteers", json=body, headers=h)
    assert r.status_code == 201, r.text
    home = r.json()["home"]
    assert (home["lat"], home["lon"]) == pytest.approx((30.2595, 120.13))
    assert "gazetteer" in home["source"] and "西湖区" in home["source"]
    assert client.get("/api/v1/volunteers/v-addr", headers=h).json()["home"]["source"] == home["source"]
    by_district = new_volunteer("v-dist") | {"district": "Binjiang"}
    del by_district["home"]
    assert client.post("/api/v1/volunteers", json=by_district, headers=h).json()["home"][
        "lat"
    ] == pytest.approx(30.2084)
    nyc = new_activity("a-nyc") | {"address": "Manhattan", "timezone": "America/New_York"}
    del nyc["location"]
    made = client.post("/api/v1/activities", json=nyc, headers=h)
    assert made.status_code == 201 and made.json()["location"]["lat"] == pytest.approx(40.739, abs=0.01)
    moved = client.patch("/api/v1/volunteers/v2", json={"address": "上城区"}, headers=h)
    assert moved.status_code == 200 and "上城区" in moved.json()["home"]["source"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"address": "Atlantis, Lost City"}, "could not find"),
        ({"address": "  "}, "is empty"),
        ({"address": "西湖区", "home": {"lat": 30.0, "lon": 120.0}}, "not both"),
    ],
)
def test_unknown_or_ambiguous_addresses_are_422(
    app_client: tuple[TestClient, dict[str, str], str], change: dict[str, Any], message: str
) -> None:
    client, tokens, db = app_client
    body = new_volunteer("v-bad")
    del body["home"]
    before = counts(db)
    r = client.post("/api/v1/volunteers", json=body | change, headers=auth(tokens, "admin"))
    assert r.status_code == 422 and message in r.text, r.text
    assert counts(db) == before


# --------------------------------------------------------------------------------------------
# Errors people can read


def test_server_assigns_ids_to_a_new_activity_and_its_shifts(
    app_client: tuple[TestClient, dict[str, str], str],
) -> None:
    client, tokens, _ = app_client
    body = new_activity("unused")
    del body["id"], body["organisation_id"]
    for shift in body["shifts"]:
        del shift["id"]
    made = client.post("/api/v1/activities", json=body, headers=auth(tokens, "organiser"))
    assert made.status_code == 201, made.text
    doc = made.json()
    assert doc["id"].startswith("a_") and doc["organisation_id"] == "o1"
    assert all(s["id"].startswith("s_") for s in doc["shifts"])
    again = client.post("/api/v1/activities", json=body, headers=auth(tokens, "organiser")).json()
    assert again["id"] != doc["id"]
    assert client.get(f"/api/v1/activities/{doc['id']}", headers=auth(tokens, "volunteer")).status_code == 200


def test_query_errors_name_the_query_and_speak_the_callers_language(
    app_client: tuple[TestClient, dict[str, str], str],
) -> None:
    client, tokens, _ = app_client
    h = auth(tokens, "volunteer")
    r = client.get("/api/v1/activities?near=NaN,120.1", headers=h)
    assert r.status_code == 422
    err = r.json()["detail"][0]
    assert err["loc"][0] == "query" and "near" in err["loc"][1] and err["code"] == "value_error"
    zh = client.get("/api/v1/activities?near=91,120.1", headers=h | {"Accept-Language": "zh-CN,zh;q=0.9"})
    assert zh.status_code == 422 and zh.json()["detail"][0]["loc"] == ["query", "near.lat"]
    assert "应在" in zh.json()["detail"][0]["msg"]
    big = client.get(
        "/api/v1/volunteers/v1/recommended-activities?k=1000", headers=h | {"Accept-Language": "zh"}
    )
    assert big.status_code == 422
    assert (
        big.json()["detail"][0]["msg"] == "应不大于 100"
        and big.json()["detail"][0]["code"] == "less_than_equal"
    )
    assert big.json()["detail"][0]["loc"] == ["query", "k"]
    en = client.get("/api/v1/volunteers/v1/recommended-activities?k=1000", headers=h)
    assert "less than or equal to 100" in en.json()["detail"][0]["msg"]
    missing = client.get("/api/v1/activities/nope", headers=h | {"Accept-Language": "zh"})
    assert missing.status_code == 404 and "找不到" in missing.json()["detail"]


def test_a_plain_date_is_midnight_in_the_city(app_client: tuple[TestClient, dict[str, str], str]) -> None:
    client, tokens, _ = app_client
    h = auth(tokens, "volunteer")
    day = saturday_shift().starts_at.date()
    plain = client.get(f"/api/v1/activities?from={day.isoformat()}", headers=h)
    assert plain.status_code == 200, plain.text
    spelled = client.get(f"/api/v1/activities?from={day.isoformat()}T00:00:00%2B08:00", headers=h)
    assert plain.json()["total"] == spelled.json()["total"] > 0
    after = client.get(f"/api/v1/activities?from={(day + timedelta(days=1)).isoformat()}", headers=h)
    assert after.json()["total"] < plain.json()["total"]
    assert client.get("/api/v1/activities?from=2026-02-30", headers=h).status_code == 422


def test_the_service_page_shows_earlier_service_apart_from_volmatch_hours(
    app_client: tuple[TestClient, dict[str, str], str],
) -> None:
    """Imported history feeds the ranking ("served before"): the volunteer sees it too."""
    client, tokens, _ = app_client
    h = auth(tokens, "volunteer")
    page = client.get("/api/v1/volunteers/v1/service", headers=h).json()
    assert page["total_hours"] == 0 and page["entries"] == []
    assert page["earlier_service"]["hours"] == 4.0 and page["earlier_service"]["activities"] == 1
    assert page["earlier_service"]["latest"][0]["activity_id"] == "a1"
    claim = client.post(
        "/api/v1/service-records",
        json={"volunteer_id": "v1", "activity_id": "a1", "date": "2026-11-20", "hours": 2.5},
        headers=h,
    )
    assert claim.status_code in (200, 201), claim.text
    approved = client.post(
        f"/api/v1/service-records/{claim.json()['id']}/approve", headers=auth(tokens, "organiser")
    )
    assert approved.status_code == 201, approved.text
    after = client.get("/api/v1/volunteers/v1/service", headers=h).json()
    assert after["total_hours"] == 2.5  # volmatch's own hours, counted once
    assert after["earlier_service"]["hours"] == 4.0  # and not again as earlier service


def test_the_schema_shows_the_shape_of_a_ranking(app_client: tuple[TestClient, dict[str, str], str]) -> None:
    """Clients generate code from /openapi.json: a ranking's matches have a shape there."""
    client, _, _ = app_client
    schema = client.get("/openapi.json").json()
    parts = schema["components"]["schemas"]
    for path, shape in (
        ("/api/v1/activities/{activity_id}/recommended-volunteers", "VolunteerMatchOut"),
        ("/api/v1/volunteers/{volunteer_id}/recommended-activities", "ActivityMatchOut"),
    ):
        answer = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        model = parts[answer["$ref"].rsplit("/", 1)[1]]
        assert model["properties"]["matches"]["items"]["$ref"].endswith(shape)
    assert {"name", "district", "distance_band"} <= set(parts["VolunteerMatchOut"]["properties"])
    assert "home" not in parts["VolunteerMatchOut"]["properties"]


def test_the_schema_shows_the_records_people_get_and_answers_keep_it(
    app_client: tuple[TestClient, dict[str, str], str],
) -> None:
    """Activities, volunteers, sign-ups and hours have named shapes in /openapi.json, and what
    the API sends has exactly the keys its shape lists (optional ones only when set)."""
    client, tokens, _ = app_client
    schema = client.get("/openapi.json").json()
    parts = schema["components"]["schemas"]

    def shape(path: str, method: str = "get", code: str = "200") -> dict[str, Any]:
        answer = schema["paths"][path][method]["responses"][code]["content"]["application/json"]["schema"]
        found: dict[str, Any] = parts[answer["$ref"].rsplit("/", 1)[1]]
        return found

    activity_shape = shape("/api/v1/activities/{activity_id}")
    volunteer_shape = shape("/api/v1/volunteers/{volunteer_id}")
    assert shape("/api/v1/activities", "post", "201") == activity_shape
    assert {"shifts", "location", "min_age"} <= set(activity_shape["required"])
    assert "home" in volunteer_shape["properties"] and "phone" not in volunteer_shape["required"]
    assert "status" in shape("/api/v1/signups/{signup_id}")["required"]
    assert {"entries", "earlier_service"} <= set(shape("/api/v1/volunteers/{volunteer_id}/hours")["required"])

    got = client.get("/api/v1/activities/a1", headers=auth(tokens, "volunteer")).json()
    assert set(activity_shape["required"]) <= set(got) <= set(activity_shape["properties"])
    assert "district" not in got  # not set on a1: left out, not sent as null
    me = client.get("/api/v1/volunteers/v1", headers=auth(tokens, "volunteer")).json()
    assert me["phone"] == "13800000000" and me["district"] == "西湖区"
    assert set(volunteer_shape["required"]) <= set(me) <= set(volunteer_shape["properties"])
    other = client.get("/api/v1/volunteers/v3", headers=auth(tokens, "admin")).json()
    assert "phone" not in other and "district" not in other
