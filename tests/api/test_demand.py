"""Needs, the gap table and suggestions through the HTTP API, on both stores, on the hand-built
world of tests/matcher/test_gaps.py (whose figures are worked out there by hand)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from matcher.interchange.records import need_to_json
from tests.api.test_signups import Clock, serve
from tests.matcher.test_gaps import world

Api = tuple[TestClient, dict[str, dict[str, str]], Clock]
RANGE = "from=2026-12-01&to=2026-12-15"


@pytest.fixture
def api(db: str) -> Iterator[Api]:
    clock = Clock()
    client, heads = serve(db, clock, world()[0])
    with client:
        yield client, heads, clock


def post_needs(client: TestClient, h: dict[str, dict[str, str]]) -> None:
    elderly = need_to_json(world()[1][0])
    del elderly["organisation_id"], elderly["status"], elderly["activity_ids"]
    assert client.post("/api/v1/needs", headers=h["o1"], json=elderly).status_code == 201
    sports = elderly | {"id": "n2", "category": "sports events", "urgency": "high"}
    assert client.post("/api/v1/needs", headers=h["o1"], json=sports).status_code == 201


def test_needs_are_posted_listed_and_linked_by_their_organisers(api: Api) -> None:
    client, h, _ = api
    post_needs(client, h)
    again = client.post("/api/v1/needs", headers=h["o1"], json={**need_to_json(world()[1][0]), "organisation_id": None,
                                                               "status": None})  # fmt: skip
    assert again.status_code == 422  # status is not the poster's to set
    other = {"id": "n3", "category": "x", "start": "2026-12-12T09:00:00+08:00", "end": "2026-12-12T08:00:00+08:00",
             "district": "A"}  # fmt: skip
    assert client.post("/api/v1/needs", headers=h["o1"], json=other).status_code == 422  # ends first
    naive = other | {"end": "2026-12-12T11:00:00"}
    assert client.post("/api/v1/needs", headers=h["o1"], json=naive).status_code == 422
    nowhere = other | {"end": "2026-12-12T11:00:00+08:00", "district": None}
    assert "location" in client.post("/api/v1/needs", headers=h["o1"], json=nowhere).text
    listed = client.get("/api/v1/needs?status=open", headers=h["an"]).json()
    assert [n["id"] for n in listed["items"]] == ["n1", "n2"] and listed["items"][0][
        "organisation_id"
    ] == "o1"
    assert client.patch("/api/v1/needs/n1", headers=h["o2"], json={"status": "met"}).status_code == 404
    assert (
        client.patch("/api/v1/needs/n1", headers=h["o1"], json={"activity_ids": ["nope"]}).status_code == 404
    )
    linked = client.patch(
        "/api/v1/needs/n1", headers=h["o1"], json={"activity_ids": ["a1"], "status": "met"}
    ).json()
    assert linked["activity_ids"] == ["a1"] and linked["status"] == "met"
    assert client.get("/api/v1/needs/n1", headers=h["o1"]).json()["status"] == "met"


def test_the_gap_table_and_its_map(api: Api) -> None:
    client, h, _ = api
    post_needs(client, h)
    t = client.get(f"/api/v1/analytics/gaps?by=district,weekday&{RANGE}", headers=h["an"]).json()
    a = next(r for r in t["rows"] if r["district"] == "A")
    # As worked out in test_gaps: 40 h free; 8 h of open places plus 2 needs x 3 people x 2 h.
    assert (a["weekday"], a["supply_hours"], a["demand_hours"], a["gap_hours"]) == ("Sat", 40.0, 20.0, -20.0)
    b = next(r for r in t["rows"] if r["district"] == "B")
    assert b["suppressed"] is True and b["supply_hours"] is None and b["volunteers"] is None
    assert "v7" not in str(t)  # aggregates only
    geo = client.get(f"/api/v1/analytics/gaps?by=district&{RANGE}&format=geojson", headers=h["o1"]).json()
    assert geo["type"] == "FeatureCollection"
    point = next(f for f in geo["features"] if f["properties"]["district"] == "A")["geometry"]
    lon, lat = point["coordinates"]
    assert abs(lat - 30.25) < 0.05 and abs(lon - 120.14) < 0.05  # beside the West Lake
    for bad in (
        "by=borough",
        "by=skill,category",
        "from=2026-12-15&to=2026-12-01",
        "from=2026-01-01&to=2027-06-01",
    ):
        r = client.get(f"/api/v1/analytics/gaps?{bad}", headers=h["an"])
        assert r.status_code == 422, bad


def test_suggestions_name_idle_volunteers_and_needs_no_one_can_meet(api: Api) -> None:
    client, h, _ = api
    post_needs(client, h)
    s = client.get(f"/api/v1/analytics/suggestions?{RANGE}", headers=h["an"]).json()
    project = s["projects"][0]
    assert (project["district"], project["category"], project["weekday"]) == ("A", "sports events", "Sat")
    assert project["volunteers"] == 6 and project["idle_hours"] == 32.0  # 40 free less 8 h of open places
    assert "6 volunteers" in project["evidence"] and "1 open need asks for 6 h" in project["evidence"]
    recruit = next(r for r in s["recruitment"] if r["category"] == "elderly care")
    assert recruit["shortfall_hours"] == 6.0 and "recruit" in recruit["evidence"]
    # The same evidence in Chinese, with the same figures.
    assert (
        project["evidence_zh"].startswith("A每周六") and "6名适合赛会服务的志愿者" in project["evidence_zh"]
    )
    assert "32小时空闲" in project["evidence_zh"] and "需要招募" in recruit["evidence_zh"]


def test_the_forecast_continues_what_history_shows(db: str) -> None:
    from datetime import date, timedelta

    from matcher.model.domain import ServiceRecord, World

    people = world()[0]
    last_saturday = date(2026, 11, 21)  # the last whole week before the clock's (28 November)
    records = tuple(
        ServiceRecord("v1", "a1", last_saturday - timedelta(weeks=9 - i), 2.0 + i, True) for i in range(10)
    )  # 2, 3, ..., 11 hours a week: one more each week
    clock = Clock()
    client, h = serve(db, clock, World(people.volunteers, people.activities,
                                                                        service_records=records))  # fmt: skip
    with client:
        got = client.get("/api/v1/analytics/forecast?weeks=2&history_weeks=20", headers=h["an"]).json()
        assert [r["hours"] for r in got["history"]] == [float(2 + i) for i in range(10)]
        assert [r["hours"] for r in got["forecast"]] == [12.0, 13.0]  # the line carried on
        assert (
            got["forecast"][0]["category"] == "sports events" and got["forecast"][0]["trend_per_week"] == 1.0
        )
        assert got["weekday_share"]["sports events"]["Sat"] == 1.0
        assert client.get("/api/v1/analytics/forecast?weeks=99", headers=h["an"]).status_code == 422
        assert client.get("/api/v1/analytics/forecast", headers=h["v1"]).status_code == 403
