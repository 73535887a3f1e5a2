"""A canary volunteer's precise home, phone and e-mail reach only the canary and admins: never
another caller's response, never a log line.

The real server runs (two worker processes, its own log file). The canary uses the service as a
volunteer does, their coordinates and contacts in bodies and in query strings; everyone else
then reads every GET route of the API, with the canary's ids wherever a route takes one, plus
the console's pages, and plans a campaign that includes the canary. Every response to someone
else, and every line the server logged, is searched for the canary's values.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from api.auth import issue_token, utcnow
from matcher.model.domain import GeoPoint, World
from matcher.model.geo import matching_cell
from matcher.store.base import Account
from matcher.store.connect import open_store
from tests.api.served import Served, role_accounts
from tests.api.test_served_operations import next_saturday
from tests.conftest import activity, volunteer

SECRET = "k" * 40
HOME = GeoPoint(30.271828, 120.314159)
MOVED = GeoPoint(30.262831, 120.318530)
PHONE, EMAIL = "13912345678", "canary.7f3a@example.org"
SECRETS = (PHONE, EMAIL, "30.27182", "120.31415", "30.26283", "120.31853")
pytestmark = pytest.mark.slow


def test_the_canarys_home_and_contacts_reach_nobody_else_and_no_log(tmp_path: Path) -> None:
    for point in (HOME, MOVED):  # the cell centres the others see do not look like the secrets
        cell = matching_cell(point)
        assert not any(s in f"{cell.lat:.6f} {cell.lon:.6f}" for s in SECRETS)
    url = f"sqlite:///{tmp_path / 'canary.db'}"
    store = open_store(url)
    canary = volunteer("canary", home=HOME, phone=PHONE, email=EMAIL, district="西湖区", max_travel_km=20.0)
    other = volunteer("v2", home=GeoPoint(30.25, 120.30), max_travel_km=20.0)
    store.load_world(
        World(
            (canary, other), (activity("a1", location=GeoPoint(30.26, 120.31), shifts=(next_saturday(5),)),)
        )
    )
    accounts = role_accounts("v2") | {
        "canary": Account("acct_canary", "canary", "volunteer", volunteer_id="canary")
    }
    for a in accounts.values():
        store.create_account(a)
    store.close()
    h = {
        k: {"Authorization": f"Bearer {issue_token(a, SECRET, now=utcnow(), ttl_hours=1)}"}
        for k, a in accounts.items()
    }
    log = tmp_path / "serve.log"

    with Served(url, SECRET, log) as server, httpx.Client(base_url=server.base, timeout=30) as client:
        # The canary uses the service: their home and contacts go in bodies and query strings.
        own = client.get("/api/v1/volunteers/canary", headers=h["canary"])
        assert own.status_code == 200 and PHONE in own.text  # they see their own data
        moved = {"home": {"lat": MOVED.lat, "lon": MOVED.lon}, "phone": PHONE, "email": EMAIL}
        assert client.patch("/api/v1/volunteers/canary", json=moved, headers=h["canary"]).status_code == 200
        bad = client.patch(
            "/api/v1/volunteers/canary",
            json={"home": {"lat": 91, "lon": MOVED.lon}, "phone": PHONE},
            headers=h["canary"],
        )
        assert bad.status_code == 422
        near = client.get(
            f"/api/v1/activities?near={MOVED.lat},{MOVED.lon}&radius_km=10", headers=h["canary"]
        )
        assert near.status_code == 200
        assert (
            client.get("/api/v1/volunteers/canary/recommended-activities", headers=h["canary"]).status_code
            == 200
        )
        assert client.get("/api/v1/volunteers/canary/export", headers=h["canary"]).status_code == 200
        signup = client.post("/api/v1/shifts/s1/signups", headers=h["canary"])
        assert signup.status_code == 201, signup.text
        ids = {
            "volunteer_id": "canary",
            "activity_id": "a1",
            "shift_id": "s1",
            "signup_id": signup.json()["id"],
            "claim_id": "none",
            "version": "none",
            "need_id": "none",
            "allocation_id": "none",
            "kind": "reminder",
            "call_id": "none",
            "token": "none",
            "organisation_id": "o1",
            "team_id": "none",
            "station_id": "none",
            "code": "none",
        }
        # Everyone else reads everything they can.
        seen: list[tuple[str, str, int, str]] = []
        plan = client.post("/api/v1/allocations", json={"activity_ids": ["a1"]}, headers=h["organiser"])
        assert plan.status_code in (200, 201), plan.text
        seen.append(("organiser", "POST /api/v1/allocations", plan.status_code, plan.text))
        ids["allocation_id"] = plan.json()["id"]
        schema = client.get("/openapi.json").json()
        for path, ops in schema["paths"].items():
            if "get" not in ops:
                continue
            for role in ("volunteer", "organiser", "analyst"):
                r = client.get(path.format(**ids), headers=h[role])
                assert r.status_code < 500, (path, role, r.text)
                seen.append((role, path, r.status_code, r.text))
        for role in ("volunteer", "organiser", "analyst"):
            cookie = {"Cookie": "vm_session=" + h[role]["Authorization"].removeprefix("Bearer ")}
            for page in (
                "/",
                "/me",
                "/me/profile",
                "/org",
                "/org/shifts/s1",
                "/org/activities/a1",
                "/analytics",
            ):
                r = client.get(page, headers=cookie)
                seen.append((role, page, r.status_code, r.text))
            plan_page = client.get(f"/org/allocations/{ids['allocation_id']}", headers=cookie)
            seen.append((role, "/org/allocations/{id}", plan_page.status_code, plan_page.text))
        assert sum(1 for s in seen if s[2] == 200) >= 25  # the walk read real answers, not refusals
        roster = next(s for s in seen if s[0] == "organiser" and s[1].endswith("/roster"))
        assert roster[2] == 200 and "canary" in roster[3]  # the organiser sees the canary's sign-up ...
        for role, path, status, text in seen:
            for secret in SECRETS:  # ... but none of their private values, anywhere
                assert secret not in text, (role, path, status, secret)

    logged = log.read_text()
    for secret in SECRETS:
        assert secret not in logged, (secret, [line for line in logged.splitlines() if secret in line][:3])
    assert "GET /api/v1/activities?…" in logged and "/api/v1/volunteers/canary" in logged  # the log is there
