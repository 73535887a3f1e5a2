"""The audit log: reads of personal data by others are recorded, admins can query them, nobody
can change them; consent to location use is recorded, and withdrawing it takes the volunteer
out of location-based matching at once."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from matcher.store.connect import open_store
from tests.api import test_http
from tests.api.test_http import auth

app_client = test_http.app_client  # the app on each backend, with an account per role

Client = tuple[TestClient, dict[str, str], str]


def entries(client: TestClient, tokens: dict[str, str], **query: str) -> list[dict[str, Any]]:
    r = client.get("/api/v1/audit", params=query, headers=auth(tokens, "admin"))
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["entries"]
    return found


def recommended(client: TestClient, tokens: dict[str, str]) -> list[str]:
    r = client.get("/api/v1/activities/a1/recommended-volunteers?k=10", headers=auth(tokens, "organiser"))
    assert r.status_code == 200, r.text
    return [m["id"] for m in r.json()["matches"]]


def test_reads_by_others_are_recorded_and_only_admins_query_them(app_client: Client) -> None:
    client, tokens, _ = app_client
    assert client.get("/api/v1/volunteers/v1", headers=auth(tokens, "volunteer")).status_code == 200
    assert entries(client, tokens, subject="v1") == []  # reading one's own record: not an event
    assert client.get("/api/v1/volunteers/v1", headers=auth(tokens, "admin")).status_code == 200
    assert client.get("/api/v1/volunteers/v1/export", headers=auth(tokens, "admin")).status_code == 200
    assert client.get("/api/v1/volunteers/v1/hours", headers=auth(tokens, "admin")).status_code == 200
    assert "v1" in recommended(client, tokens)  # shown to the organiser (before signing up)
    assert client.post("/api/v1/shifts/s1/signups", headers=auth(tokens, "volunteer")).status_code == 201
    assert client.get("/api/v1/shifts/s1/roster", headers=auth(tokens, "organiser")).status_code == 200
    assert client.get("/api/v1/export", headers=auth(tokens, "admin")).status_code == 200

    about_v1 = entries(client, tokens, subject="v1")
    seen = [(e["action"], e["actor"]) for e in about_v1]
    assert ("read.profile", "acct_ad") in seen and ("read.export", "acct_ad") in seen
    assert ("read.hours", "acct_ad") in seen and ("read.roster", "acct_o1") in seen
    assert ("shown.ranking", "acct_o1") in seen  # from the feedback log: who was shown whom
    assert ("export.all", "acct_ad") in seen  # a bulk export held everyone's data
    assert [e["at_s"] for e in about_v1] == sorted((e["at_s"] for e in about_v1), reverse=True)
    assert [e["action"] for e in entries(client, tokens, action="export.all")] == ["export.all"]
    by_organiser = entries(client, tokens, actor="acct_o1")
    assert {e["action"] for e in by_organiser} == {"read.roster"}  # rankings: in the subject's view
    for role in ("volunteer", "organiser", "analyst"):
        assert client.get("/api/v1/audit", headers=auth(tokens, role)).status_code == 403
    # Ids and what was read, never the data itself.
    text = str(entries(client, tokens))
    assert "13800000000" not in text and "v1@example.org" not in text


def test_the_log_cannot_be_changed_or_emptied(app_client: Client) -> None:
    client, tokens, db = app_client
    assert client.get("/api/v1/volunteers/v1", headers=auth(tokens, "admin")).status_code == 200
    store: Any = open_store(db)
    try:
        for statement in ("UPDATE audit_log SET actor = 'nobody'", "DELETE FROM audit_log"):
            with pytest.raises(Exception, match="append-only"), store._ops_tx() as tx:
                tx.run(statement)
        if db.startswith("postgresql"):
            with pytest.raises(Exception, match="append-only"), store._ops_tx() as tx:
                tx.run("TRUNCATE audit_log")
    finally:
        store.close()
    assert [e["actor"] for e in entries(client, tokens, subject="v1")] == ["acct_ad"]


def test_withdrawing_location_consent_takes_the_volunteer_out_of_matching(app_client: Client) -> None:
    client, tokens, _ = app_client
    me = auth(tokens, "volunteer")
    assert "v1" in recommended(client, tokens)
    unrecorded = client.get("/api/v1/volunteers/v1/consent", headers=me).json()
    assert unrecorded == {"volunteer_id": "v1", "location": True, "since_s": None, "recorded": False}

    withdrawn = client.put("/api/v1/volunteers/v1/consent", json={"location": False}, headers=me)
    assert withdrawn.status_code == 200 and withdrawn.json()["location"] is False
    assert withdrawn.json()["recorded"] is True
    assert "v1" not in recommended(client, tokens)  # at once, on the next question
    assert client.get("/api/v1/volunteers/v1", headers=me).json()["home"] is None
    again = client.patch("/api/v1/volunteers/v1", json={"home": {"lat": 30.26, "lon": 120.14}}, headers=me)
    assert again.status_code == 409 and "consent" in again.text  # no home without consent
    assert client.get("/api/v1/volunteers/v2/consent", headers=me).status_code == 404  # others': no
    # Nor through an admin's bulk import: the whole document is refused, naming the volunteer.
    record = client.get("/api/v1/volunteers/v1", headers=me).json() | {"home": {"lat": 30.26, "lon": 120.14}}
    imported = client.post("/api/v1/import", json={"volunteers": [record]}, headers=auth(tokens, "admin"))
    assert imported.status_code == 422 and "v1" in imported.text and "consent" in imported.text
    assert client.get("/api/v1/volunteers/v1", headers=me).json()["home"] is None

    assert client.put("/api/v1/volunteers/v1/consent", json={"location": True}, headers=me).status_code == 200
    moved = client.patch("/api/v1/volunteers/v1", json={"home": {"lat": 30.26, "lon": 120.14}}, headers=me)
    assert moved.status_code == 200 and "v1" in recommended(client, tokens)
    consents = [
        e["action"] for e in entries(client, tokens, subject="v1") if e["action"].startswith("consent")
    ]
    assert consents == ["consent.location.given", "consent.location.withdrawn"]  # newest first
    bad = client.put("/api/v1/volunteers/v1/consent", json={"location": "yes"}, headers=me)
    assert bad.status_code == 422
