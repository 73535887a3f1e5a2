"""One definition of distance (issue 21, item 2): a volunteer sees their own true distance, the
same in the reason and in ``distance_km``; an organiser sees a band; demo homes lie in the
districts they are labelled with."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.auth import issue_token, utcnow
from api.main import create_app
from api.settings import Settings
from api.usecases.setup import build_demo
from matcher.demo.city import DISTRICTS, generate_city, nearest_district
from matcher.model.domain import GeoPoint
from matcher.model.geo import DISTANCE_BANDS_KM, haversine_km
from matcher.store.base import Account
from matcher.store.connect import open_store
from tests.conftest import NOW

SECRET = "d" * 40
AS_OF = date(2026, 11, 28)
KM = re.compile(r"^(\d+\.\d) km away$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    db = f"sqlite:///{tmp_path_factory.mktemp('distances') / 'demo.db'}"
    store = open_store(db)
    build_demo(store, volunteers=400, activities=300, records=0, seed=11, as_of=AS_OF)
    people = [f"v{i:07d}" for i in range(25)]
    accounts = [Account(f"acct_{v}", v, "volunteer", volunteer_id=v) for v in people]
    accounts.append(Account("acct_org", "org", "organiser", organisation_id="o00000"))
    for a in accounts:
        store.create_account(a)
    store.close()
    tokens = {a.name: issue_token(a, SECRET, now=utcnow(), ttl_hours=1) for a in accounts}
    settings = Settings(database_url=db, environment="test", secret_key=SECRET)
    with TestClient(create_app(settings, clock=lambda: NOW)) as client:
        yield client, tokens


def test_a_volunteers_reasons_and_numbers_agree_and_are_true(demo: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = demo
    checked = 0
    for name, token in tokens.items():
        if name == "org":
            continue
        headers = {"Authorization": f"Bearer {token}"}
        me = client.get(f"/api/v1/volunteers/{name}", headers=headers).json()
        answer = client.get(f"/api/v1/volunteers/{name}/recommended-activities?k=20", headers=headers)
        assert answer.status_code == 200, answer.text
        for m in answer.json()["matches"]:
            said = [r["en"] for r in m["reasons"] if r["factor"] == "distance"]
            if m["distance_km"] is None or not said or said[0].startswith("online"):
                continue
            found = KM.match(said[0])
            assert found, said
            assert float(found.group(1)) == m["distance_km"], (said[0], m["distance_km"])
            place = client.get(f"/api/v1/activities/{m['id']}", headers=headers).json()["location"]
            home = GeoPoint(me["home"]["lat"], me["home"]["lon"])
            true_km = haversine_km(home, GeoPoint(place["lat"], place["lon"]))
            assert abs(m["distance_km"] - true_km) <= 0.05 + 1e-9
            checked += 1
    assert checked >= 50


def test_organisers_see_bands_not_kilometres(demo: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = demo
    headers = {"Authorization": f"Bearer {tokens['org']}"}
    listed = [
        client.get(f"/api/v1/activities?limit=100&offset={o}", headers=headers).json() for o in (0, 100, 200)
    ]
    mine = [a["id"] for page in listed for a in page["items"] if a["organisation_id"] == "o00000"]
    assert mine
    bands = 0
    for activity_id in mine:
        answer = client.get(f"/api/v1/activities/{activity_id}/recommended-volunteers?k=10", headers=headers)
        assert answer.status_code == 200, answer.text
        for m in answer.json()["matches"]:
            assert "distance_km" not in m
            for r in m["reasons"]:
                if r["factor"] == "distance" and not r["en"].startswith("online"):
                    assert not KM.match(r["en"]) and m["distance_band"] in r["en"]
                    bands += 1
    assert bands > 0 and len(DISTANCE_BANDS_KM) > 2


def _inside(ring: np.ndarray, lon: float, lat: float) -> bool:
    """Ray casting: whether (lon, lat) lies inside the polygon ``ring``."""
    xs, ys = ring[:, 0], ring[:, 1]
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        if (ys[i] > lat) != (ys[j] > lat) and lon < (xs[j] - xs[i]) * (lat - ys[i]) / (ys[j] - ys[i]) + xs[i]:
            inside = not inside
        j = i
    return inside


def test_demo_homes_lie_in_the_districts_they_are_labelled_with() -> None:
    city = generate_city(3000, 200, 0, seed=7, as_of=AS_OF)
    lat, lon = city.volunteers.lat, city.volunteers.lon
    homes = np.isfinite(lat)
    assert (nearest_district(lat[homes], lon[homes]) == city.volunteer_district[homes]).all()
    doc = json.loads((Path(__file__).resolve().parents[2] / "data" / "districts.geojson").read_text("utf-8"))
    rings = {f["properties"]["name"]: np.array(f["geometry"]["coordinates"][0]) for f in doc["features"]}
    for i in np.flatnonzero(homes)[:400]:
        name = DISTRICTS[int(city.volunteer_district[i])][0]
        assert _inside(rings[name], float(lon[i]), float(lat[i])), (name, lat[i], lon[i])
    # West Lake is in 西湖区: nobody labelled 萧山区 lives within 2 km of it.
    xiaoshan = city.volunteer_district == [d[0] for d in DISTRICTS].index("萧山区")
    lake = GeoPoint(30.2500, 120.1400)
    assert min(haversine_km(lake, GeoPoint(float(a), float(b))) for a, b in
               zip(lat[xiaoshan & homes], lon[xiaoshan & homes], strict=True)) > 2  # fmt: skip
