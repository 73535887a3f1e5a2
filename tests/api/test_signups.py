"""Places, the waitlist, attendance, the hours ledger, tiers and calendars through the HTTP API
(the app's own lifespan, store and index), on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from api.auth import issue_token, utcnow
from api.main import create_app
from api.settings import Settings
from matcher.model.domain import World
from matcher.operations.recognition import NATIONAL_STARS, Tiers
from matcher.store.base import Account
from matcher.store.connect import open_store
from tests.conftest import CST, NOW, activity, saturday_shift, volunteer

SECRET = "g" * 40


class Clock:
    """The service's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def serve(
    db: str, clock: Clock, world: World | None = None, **settings: str
) -> tuple[TestClient, dict[str, dict[str, str]]]:
    """The app on ``db`` holding ``world`` (by default three volunteers and two activities of two
    organisations), with a token for each account: v1-v3, o1, o2, ad (and an analyst, an)."""
    store = open_store(db)
    store.load_world(
        world
        or World(
            tuple(volunteer(f"v{i}", 1.0 + i / 10) for i in range(1, 4)),
            (
                activity("a1", organisation_id="o1", shifts=(saturday_shift("s1", capacity=1),)),
                activity("a2", organisation_id="o2", shifts=(saturday_shift("s2", day=12),)),
            ),
        )
    )
    accounts = [
        *(Account(f"acct_v{i}", f"v{i}", "volunteer", volunteer_id=f"v{i}") for i in range(1, 4)),
        Account("acct_o1", "o1", "organiser", organisation_id="o1"),
        Account("acct_o2", "o2", "organiser", organisation_id="o2"),
        Account("acct_ad", "ad", "admin"),
        Account("acct_an", "an", "analyst"),
    ]
    for a in accounts:
        store.create_account(a)
    store.close()
    heads = {
        a.name: {"Authorization": f"Bearer {issue_token(a, SECRET, now=utcnow(), ttl_hours=1)}"}
        for a in accounts
    }
    config = Settings(database_url=db, environment="test", secret_key=SECRET, **settings)  # type: ignore[arg-type]
    return TestClient(create_app(config, clock=clock)), heads


@pytest.fixture
def api(db: str) -> Iterator[tuple[TestClient, dict[str, dict[str, str]], Clock]]:
    clock = Clock()
    client, heads = serve(db, clock)
    with client:
        yield client, heads, clock


def sign_up(client: TestClient, heads: dict[str, str], shift: str = "s1") -> dict[str, object]:
    r = client.post(f"/api/v1/shifts/{shift}/signups", headers=heads)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_full_shift_waitlists_and_a_freed_place_is_offered_in_order(
    api: tuple[TestClient, dict[str, dict[str, str]], Clock],
) -> None:
    client, h, clock = api
    first, second, third = (sign_up(client, h[f"v{i}"]) for i in (1, 2, 3))
    assert (first["status"], second["status"], third["status"]) == ("confirmed", "waitlisted", "waitlisted")
    assert (second["position"], third["position"]) == (1, 2)
    assert sign_up(client, h["v2"])["id"] == second["id"]  # signing up again changes nothing
    # Recommendations see the place taken: the shift is full now.
    full = client.get("/api/v1/activities/a1/recommended-volunteers?shift_id=s1", headers=h["o1"]).json()
    assert full["matches"] == []

    cancelled = client.delete(f"/api/v1/signups/{first['id']}", headers=h["v1"]).json()
    assert cancelled["status"] == "cancelled"  # a week ahead: before the cut-off
    offered = client.get(f"/api/v1/signups/{second['id']}", headers=h["v2"]).json()
    assert offered["status"] == "offered"
    assert offered["offered_until_s"] == int((NOW + timedelta(hours=2)).timestamp())

    clock.now = NOW + timedelta(hours=3)  # the offer lapses and passes on to the next in line
    assert client.post(f"/api/v1/signups/{second['id']}/accept", headers=h["v2"]).status_code == 409
    roster = client.get("/api/v1/shifts/s1/roster", headers=h["o1"]).json()
    assert [(s["volunteer_id"], s["status"]) for s in roster["signups"]] == [
        ("v1", "cancelled"),
        ("v2", "expired"),
        ("v3", "offered"),
    ]
    accepted = client.post(f"/api/v1/signups/{third['id']}/accept", headers=h["v3"]).json()
    assert accepted["status"] == "confirmed"
    assert client.get("/api/v1/shifts/s1/roster", headers=h["o2"]).status_code == 403  # not their shift

    clock.now = datetime(2026, 12, 4, 12, tzinfo=CST)  # the day before: a late cancellation
    late = client.post(f"/api/v1/signups/{third['id']}/cancel", headers=h["v3"]).json()
    assert late["status"] == "late_cancelled"


def test_hard_rules_and_roles_apply_to_sign_ups(
    api: tuple[TestClient, dict[str, dict[str, str]], Clock],
) -> None:
    client, h, _ = api
    other = client.post("/api/v1/shifts/s1/signups", headers=h["v1"], json={"volunteer_id": "v2"})
    assert other.status_code == 403
    assert client.post("/api/v1/shifts/nope/signups", headers=h["v1"]).status_code == 404
    # s2 is on Saturday 12 December 08:00-12:00; v1 is free then, so the rule that bites is a
    # booking on an overlapping shift: book v1 on s2, then try an overlapping shift of a3.
    sign_up(client, h["v1"], "s2")
    overlapping = {
        "id": "a3",
        "organisation_id": "o1",
        "title": "overlap",
        "category": "community",
        "timezone": "Asia/Shanghai",
        "location": {"lat": 30.25, "lon": 120.14},
        "shifts": [
            {
                "id": "s3",
                "start": "2026-12-12T09:00:00+08:00",
                "end": "2026-12-12T10:00:00+08:00",
                "capacity": 5,
            }
        ],
    }
    assert client.post("/api/v1/activities", headers=h["ad"], json=overlapping).status_code == 201
    refused = client.post("/api/v1/shifts/s3/signups", headers=h["v1"])
    assert refused.status_code == 409 and "overlapping" in refused.text
    admin = client.post("/api/v1/shifts/s3/signups", headers=h["ad"], json={"volunteer_id": "v2"})
    assert admin.status_code == 201


def test_hours_from_check_times_are_approved_once_and_retries_are_harmless(
    api: tuple[TestClient, dict[str, dict[str, str]], Clock],
) -> None:
    client, h, clock = api
    place = sign_up(client, h["v1"])
    assert (
        client.post(f"/api/v1/signups/{place['id']}/check-in", headers=h["v1"]).status_code == 422
    )  # no code
    assert client.post(f"/api/v1/signups/{place['id']}/check-in", headers=h["o2"]).status_code == 404
    start = datetime(2026, 12, 5, 8, tzinfo=CST)
    checked = client.post(
        f"/api/v1/signups/{place['id']}/check-in", headers=h["o1"], json={"at": start.isoformat()}
    )
    assert checked.status_code == 200, checked.text
    early = client.post(
        f"/api/v1/signups/{place['id']}/check-out", headers=h["o1"], json={"at": start.isoformat()}
    )
    assert early.status_code == 422  # not after the check-in
    out = (start + timedelta(hours=3, minutes=30)).isoformat()
    assert (
        client.post(f"/api/v1/signups/{place['id']}/check-out", headers=h["o1"], json={"at": out}).status_code
        == 200
    )

    clock.now = datetime(2026, 12, 5, 13, tzinfo=CST)
    key = {**h["o1"], "Idempotency-Key": "approve-v1-s1"}
    first = client.post(f"/api/v1/signups/{place['id']}/hours", headers=key, json={"note": "医疗点"})
    assert first.status_code == 201, first.text
    assert first.json()["hours"] == 3.5 and "Idempotent-Replayed" not in first.headers
    again = client.post(f"/api/v1/signups/{place['id']}/hours", headers=key, json={"note": "医疗点"})
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    changed = client.post(f"/api/v1/signups/{place['id']}/hours", headers=key, json={"note": "other"})
    assert changed.status_code == 422  # the same key for a different request
    fresh_key = {**h["o1"], "Idempotency-Key": "approve-v1-s1-again"}
    twice = client.post(f"/api/v1/signups/{place['id']}/hours", headers=fresh_key, json={})
    assert twice.status_code == 409  # one attendance entry per place, whatever the key

    fix = client.post(
        "/api/v1/volunteers/v1/hours/corrections",
        headers=h["o1"],
        json={"hours": -0.5, "note": "left early", "shift_id": "s1"},
    )
    assert fix.status_code == 201, fix.text
    mine = client.get("/api/v1/volunteers/v1/service", headers=h["v1"]).json()
    assert [e["hours"] for e in mine["entries"]] == [3.5, -0.5]
    assert mine["total_hours"] == 3.0 and mine["stars"] == 0 and mine["hours_to_next"] == 97.0
    assert client.get("/api/v1/volunteers/v1/hours", headers=h["v2"]).status_code == 404
    below = client.post(
        "/api/v1/volunteers/v1/hours/corrections", headers=h["ad"], json={"hours": -5, "note": "too much"}
    )
    assert below.status_code == 422
    page = client.get("/api/v1/volunteers/v1/certificate", headers=h["v1"])
    assert page.status_code == 200 and "3 h" in page.text and "西湖马拉松医疗点" in page.text


def test_a_no_show_is_marked_after_the_shift_only(
    api: tuple[TestClient, dict[str, dict[str, str]], Clock],
) -> None:
    client, h, clock = api
    place = sign_up(client, h["v1"])
    assert client.post(f"/api/v1/signups/{place['id']}/no-show", headers=h["o1"]).status_code == 409
    clock.now = datetime(2026, 12, 5, 13, tzinfo=CST)
    marked = client.post(f"/api/v1/signups/{place['id']}/no-show", headers=h["o1"])
    assert marked.status_code == 200 and marked.json()["status"] == "no_show"
    export = client.get("/api/v1/volunteers/v1/export", headers=h["v1"]).json()
    assert any(r.get("shift_id") == "s1" and r["attended"] is False for r in export["service_records"])


@given(st.floats(0, 2000, allow_nan=False))
def test_the_tier_is_the_number_of_thresholds_reached(hours: float) -> None:
    for tiers in (Tiers(), Tiers.parse("30,60,100,200,300")):
        s = tiers.standing(hours)
        assert s.stars == sum(t <= round(hours, 6) for t in tiers.thresholds)
        if s.next_tier_hours is not None:
            assert s.hours_to_next == pytest.approx(s.next_tier_hours - hours, abs=1e-5)
            assert s.next_tier_hours > round(hours, 6)


@pytest.mark.parametrize(
    ("scale", "thresholds"), [(None, NATIONAL_STARS), ("30,60,100,200,300", (30, 60, 100, 200, 300))]
)
def test_the_tier_changes_exactly_when_approved_hours_cross_a_threshold(
    db: str, scale: str | None, thresholds: tuple[float, ...]
) -> None:
    client, h = serve(db, Clock(), **({"tier_hours": scale} if scale else {}))
    with client:
        total = 0.0
        for stars, threshold in enumerate(thresholds[:3], start=1):
            # Up to a quarter hour short of the threshold, then the last quarter.
            while total < threshold - 0.25:
                step = min(24.0, threshold - 0.25 - total)
                r = client.post(
                    "/api/v1/volunteers/v1/hours/corrections",
                    headers=h["ad"],
                    json={"hours": step, "note": "service"},
                )
                assert r.status_code == 201, r.text
                total += step
            before = client.get("/api/v1/volunteers/v1/hours", headers=h["v1"]).json()
            assert before["stars"] == stars - 1 and before["hours_to_next"] == pytest.approx(0.25)
            client.post(
                "/api/v1/volunteers/v1/hours/corrections",
                headers=h["ad"],
                json={"hours": 0.25, "note": "last"},
            )
            total += 0.25
            after = client.get("/api/v1/volunteers/v1/hours", headers=h["v1"]).json()
            assert after["stars"] == stars and after["total_hours"] == pytest.approx(threshold)


def test_calendar_feeds_parse_with_the_right_times(
    api: tuple[TestClient, dict[str, dict[str, str]], Clock],
) -> None:
    client, h, _ = api
    sign_up(client, h["v1"])
    link = client.get("/api/v1/volunteers/v1/calendar-link", headers=h["v1"]).json()["url"]
    assert client.get("/api/v1/volunteers/v1/calendar-link", headers=h["v2"]).status_code == 404
    feed = client.get(link)
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    events = [e for e in icalendar.Calendar.from_ical(feed.content).walk("VEVENT")]
    assert [str(e["UID"]) for e in events] == ["s1@volmatch"]
    start, end = events[0].decoded("DTSTART"), events[0].decoded("DTEND")
    assert start == datetime(2026, 12, 5, 8, tzinfo=CST) and end == datetime(2026, 12, 5, 12, tzinfo=CST)
    assert start.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M") == "08:00"
    assert start.utcoffset() == timedelta(0) and start.tzinfo is not None  # sent as UTC instants
    assert str(events[0]["SUMMARY"]) == "西湖马拉松医疗点"
    alarms = [a.decoded("TRIGGER") for a in events[0].walk("VALARM")]
    assert alarms == [timedelta(hours=-24), timedelta(hours=-2)]  # the activity's reminder times
    assert (
        client.put("/api/v1/activities/a1/reminders", headers=h["o1"], json={"minutes": [45]}).status_code
        == 200
    )
    again = icalendar.Calendar.from_ical(client.get(link).content).walk("VEVENT")[0]
    assert [a.decoded("TRIGGER") for a in again.walk("VALARM")] == [timedelta(minutes=-45)]
    assert client.get(link.replace("token=", "token=x")).status_code == 404
    assert client.get(link.replace("/volunteers/v1/", "/volunteers/v2/")).status_code == 404

    organisers = client.get("/api/v1/activities/a1/calendar-link", headers=h["o1"]).json()["url"]
    assert client.get("/api/v1/activities/a1/calendar-link", headers=h["o2"]).status_code == 403
    shifts = icalendar.Calendar.from_ical(client.get(organisers).content).walk("VEVENT")
    assert [e.decoded("DTSTART").astimezone(UTC) for e in shifts] == [datetime(2026, 12, 5, 0, tzinfo=UTC)]
    assert "0 places left" in str(shifts[0]["DESCRIPTION"])


def test_an_invited_volunteer_accepts_or_declines(
    api: tuple[TestClient, dict[str, dict[str, str]], Clock],
) -> None:
    client, h, _ = api
    assert (
        client.post("/api/v1/shifts/s1/signups", headers=h["o2"], json={"volunteer_id": "v1"}).status_code
        == 403
    )
    invited = client.post("/api/v1/shifts/s1/signups", headers=h["o1"], json={"volunteer_id": "v1"})
    assert invited.status_code == 201 and invited.json()["status"] == "invited"
    other = client.post("/api/v1/shifts/s1/signups", headers=h["o1"], json={"volunteer_id": "v2"}).json()
    roster = client.get("/api/v1/shifts/s1/roster", headers=h["o1"]).json()
    assert roster["counts"] == {"invited": 2}  # an invitation holds no place
    assert client.post(f"/api/v1/signups/{invited.json()['id']}/accept", headers=h["v2"]).status_code == 404
    accepted = client.post(f"/api/v1/signups/{invited.json()['id']}/accept", headers=h["v1"]).json()
    assert accepted["status"] == "confirmed"
    declined = client.post(f"/api/v1/signups/{other['id']}/decline", headers=h["v2"]).json()
    assert declined["status"] == "declined"
    assert client.post(f"/api/v1/signups/{other['id']}/decline", headers=h["v2"]).status_code == 409


def test_a_volunteer_checks_in_with_the_organisers_current_code(
    api: tuple[TestClient, dict[str, dict[str, str]], Clock],
) -> None:
    client, h, clock = api
    place = sign_up(client, h["v1"])
    url = f"/api/v1/signups/{place['id']}/check-in"
    clock.now = datetime(2026, 12, 5, 6, tzinfo=CST)  # two hours early: not open yet
    code = client.get("/api/v1/shifts/s1/check-in-code", headers=h["o1"]).json()["code"]
    assert client.post(url, headers=h["v1"], json={"code": code}).status_code == 409
    assert client.get("/api/v1/shifts/s1/check-in-code", headers=h["o2"]).status_code == 403
    clock.now = datetime(2026, 12, 5, 7, 50, tzinfo=CST)
    code = client.get("/api/v1/shifts/s1/check-in-code", headers=h["o1"]).json()["code"]
    wrong = str((int(code) + 1) % 1_000_000).zfill(6)
    assert client.post(url, headers=h["v1"], json={"code": wrong}).status_code == 422
    assert client.post(url, headers=h["v2"], json={"code": code}).status_code == 404  # not their place
    clock.now = datetime(2026, 12, 5, 8, 40, tzinfo=CST)  # fifty minutes later the code has expired
    assert client.post(url, headers=h["v1"], json={"code": code}).status_code == 422
    clock.now = datetime(2026, 12, 5, 8, 45, tzinfo=CST)
    code = client.get("/api/v1/shifts/s1/check-in-code", headers=h["o1"]).json()["code"]
    clock.now = datetime(2026, 12, 5, 8, 52, tzinfo=CST)  # the code shown in the last window still works
    done = client.post(url, headers=h["v1"], json={"code": code})
    assert done.status_code == 200 and done.json()["checked_in_s"] == int(clock.now.timestamp())
    assert client.post(url, headers=h["v1"], json={"code": code}).status_code == 409  # once


def test_reported_hours_count_once_approved(api: tuple[TestClient, dict[str, dict[str, str]], Clock]) -> None:
    client, h, clock = api
    clock.now = datetime(2026, 12, 6, 9, tzinfo=CST)
    report = {"volunteer_id": "v1", "activity_id": "a1", "date": "2026-12-05", "hours": 2.5, "note": "setup"}
    assert client.post("/api/v1/service-records", headers=h["v2"], json=report).status_code == 403
    assert client.post("/api/v1/service-records", headers=h["o2"], json=report).status_code == 403
    unknown = {**report, "activity_id": "nope"}
    assert client.post("/api/v1/service-records", headers=h["v1"], json=unknown).status_code == 404
    future = {**report, "date": "2026-12-25"}
    assert client.post("/api/v1/service-records", headers=h["v1"], json=future).status_code == 422
    key = {**h["v1"], "Idempotency-Key": "report-1"}
    claim = client.post("/api/v1/service-records", headers=key, json=report)
    assert claim.status_code == 201 and claim.json()["status"] == "pending"
    again = client.post("/api/v1/service-records", headers=key, json=report)
    assert again.json()["id"] == claim.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    assert client.get("/api/v1/volunteers/v1/service", headers=h["v1"]).json()["total_hours"] == 0
    url = f"/api/v1/service-records/{claim.json()['id']}/approve"
    assert client.post(url, headers=h["v1"]).status_code == 403
    assert client.post(url, headers=h["o2"]).status_code == 404
    approved = client.post(url, headers={**h["o1"], "Idempotency-Key": "ok-1"})
    assert approved.status_code == 201 and approved.json()["status"] == "approved"
    assert approved.json()["entry"]["kind"] == "manual"
    replay = client.post(url, headers={**h["o1"], "Idempotency-Key": "ok-1"})
    assert replay.json() == approved.json()
    assert client.post(url, headers={**h["o1"], "Idempotency-Key": "ok-2"}).status_code == 409
    service = client.get("/api/v1/volunteers/v1/service", headers=h["v1"]).json()
    assert service["total_hours"] == 2.5 and len(service["entries"]) == 1
