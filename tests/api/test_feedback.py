"""The feedback log and learned models through the HTTP API, on both stores: every answer served
is logged with its parts and model, the sign-up flow's outcomes follow it, the two together
label training examples, and an admin switches the ranking model for every worker."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.live import Live
from matcher.learning import training as learning
from matcher.store.connect import open_store
from tests.api.test_signups import Clock, serve
from tests.conftest import CST

Api = tuple[TestClient, dict[str, dict[str, str]], Clock]


@pytest.fixture
def api(db: str) -> Iterator[Api]:
    clock = Clock()
    client, heads = serve(db, clock)
    with client:
        yield client, heads, clock


def live(client: TestClient) -> Live:
    service: Live = client.app.state.live  # type: ignore[attr-defined]
    return service


def test_an_answer_and_what_followed_become_a_labelled_example(api: Api) -> None:
    client, h, clock = api
    shown = client.get("/api/v1/activities/a1/recommended-volunteers?shift_id=s1&k=3", headers=h["o1"]).json()
    assert shown["model_version"] == "default" and len(shown["served_id"]) == 32
    ranked = [m["id"] for m in shown["matches"]]
    assert ranked == ["v1", "v2", "v3"]
    clock.now += timedelta(minutes=5)
    invite = client.post("/api/v1/shifts/s1/signups", headers=h["o1"], json={"volunteer_id": "v2"})
    assert invite.status_code == 201, invite.text
    declined = client.post("/api/v1/shifts/s1/signups", headers=h["o1"], json={"volunteer_id": "v3"}).json()
    assert client.post(f"/api/v1/signups/{declined['id']}/decline", headers=h["v3"]).status_code == 200
    clock.now += timedelta(minutes=5)
    taken = client.post(f"/api/v1/signups/{invite.json()['id']}/accept", headers=h["v2"])
    assert taken.json()["status"] == "confirmed"
    start = datetime(2026, 12, 5, 8, tzinfo=CST)
    assert (
        client.post(
            f"/api/v1/signups/{taken.json()['id']}/check-in", headers=h["o1"], json={"at": start.isoformat()}
        ).status_code
        == 200
    )
    assert live(client).feedback.flush() == 1
    served, outcomes = live(client).store.feedback.frames()
    assert served["volunteer_id"].tolist() == ranked
    assert served["rank"].tolist() == [1, 2, 3]
    assert served["shift_id"].tolist() == ["s1"] * 3
    assert served["score"].tolist() == [m["score"] for m in shown["matches"]]
    assert served[list(learning.FACTORS)].to_dict("records") == [m["parts"] for m in shown["matches"]]
    assert sorted(zip(outcomes["volunteer_id"], outcomes["kind"], strict=True)) == [
        ("v2", "accepted"),
        ("v2", "attended"),
        ("v2", "invited"),
        ("v2", "signed_up"),
        ("v3", "declined"),
        ("v3", "invited"),
    ]
    labelled = learning.examples(served, outcomes)
    assert dict(zip(labelled["volunteer_id"], labelled["label"], strict=True)) == {"v1": 0, "v2": 1, "v3": 0}


def test_views_and_ratings_are_recorded_for_those_who_may_give_them(api: Api) -> None:
    client, h, _ = api
    viewed = {"kind": "viewed", "volunteer_id": "v1", "shift_id": "s1"}
    assert client.post("/api/v1/feedback", headers=h["v1"], json=viewed).status_code == 201
    assert client.post("/api/v1/feedback", headers=h["v2"], json=viewed).status_code == 404  # not theirs
    assert client.post("/api/v1/feedback", headers=h["o2"], json=viewed).status_code == 403  # not their shift
    rating = {"kind": "rating", "volunteer_id": "v1", "shift_id": "s1", "value": 5}
    assert client.post("/api/v1/feedback", headers=h["o1"], json=rating).status_code == 409  # no place held
    assert client.post("/api/v1/shifts/s1/signups", headers=h["v1"]).status_code == 201
    assert client.post("/api/v1/feedback", headers=h["v1"], json=rating).status_code == 403
    assert client.post("/api/v1/feedback", headers=h["o1"], json=rating | {"value": 9}).status_code == 422
    assert client.post("/api/v1/feedback", headers=h["o1"], json=rating | {"value": None}).status_code == 422
    assert client.post("/api/v1/feedback", headers=h["o1"], json=rating).status_code == 201
    _, outcomes = live(client).store.feedback.frames()
    got = outcomes[outcomes["kind"].isin(["viewed", "rating"])]
    assert got[["kind", "volunteer_id", "account_id"]].to_dict("records") == [
        {"kind": "viewed", "volunteer_id": "v1", "account_id": "acct_v1"},
        {"kind": "rating", "volunteer_id": "v1", "account_id": "acct_o1"},
    ]
    assert got["value"].isna().tolist() == [True, False] and got["value"].iloc[1] == 5.0


def _distance_only_model(created: datetime) -> learning.Model:
    """A linear model fitted on outcomes where only closeness mattered."""
    rows = []
    for q in range(200):
        for r, distance in enumerate((0.9, 0.6, 0.3)):
            rows.append(
                {"query": f"q{q}", "time": float(q), "rank": r + 1, "skills": 0.5 + 0.1 * r,
                 "distance": distance, "availability": 0.5, "past_service": 0.3,
                 "label": int(distance > 0.5 and (q + r) % 3 != 0)}
            )  # fmt: skip
    return learning.fit(pd.DataFrame(rows), kind="linear", created=created)


def test_an_activated_model_ranks_in_every_worker_and_can_be_withdrawn(api: Api, db: str) -> None:
    client, h, _ = api
    model = _distance_only_model(datetime(2026, 11, 29, tzinfo=UTC))
    assert model.weights is not None
    other = Live(open_store(db), live(client).taxonomy, live(client).index.as_of)  # a second worker
    try:
        live(client).store.feedback.save_model(model, 1.0)
        listed = client.get("/api/v1/models", headers=h["ad"]).json()
        assert listed["active"] == "default"
        assert [m["version"] for m in listed["models"]] == [model.version]
        assert listed["models"][0]["metrics"]["auc"] > 0.5
        assert client.post("/api/v1/models/nope/activate", headers=h["ad"]).status_code == 404
        assert client.post(f"/api/v1/models/{model.version}/activate", headers=h["ad"]).json() == {
            "active": model.version
        }
        shown = client.get("/api/v1/activities/a1/recommended-volunteers?shift_id=s1", headers=h["o1"]).json()
        assert shown["model_version"] == model.version
        weights = model.weights.normalised()
        for m in shown["matches"]:  # scores are the learned weights' totals
            assert m["score"] == pytest.approx(sum(weights[f] * m["parts"][f] for f in weights), abs=1e-3)
        other.refresh(force=True)
        assert other.model_version == model.version
        assert client.post("/api/v1/models/deactivate", headers=h["ad"]).json() == {"active": "default"}
        other.refresh(force=True)
        assert other.model_version == "default"
    finally:
        other.close()
        other.store.close()


def test_a_boosted_model_reorders_the_candidates_and_one_needing_more_is_refused(api: Api) -> None:
    client, h, _ = api
    created = datetime(2026, 11, 29, tzinfo=UTC)
    rows = []
    for q in range(200):
        for r, distance in enumerate((0.9, 0.6, 0.3)):
            rows.append(
                {
                    "query": f"q{q}",
                    "time": float(q),
                    "rank": r + 1,
                    "skills": 0.5,
                    "distance": distance,
                    "availability": 0.5,
                    "past_service": 0.3,
                    "distance_km": 3.0 * r,
                    "label": int(distance < 0.5 or (q + r) % 4 == 0),
                }
            )  # fmt: skip  (here people prefer what is far: the reverse of the defaults)
    frame = pd.DataFrame(rows)
    boosted = learning.fit(frame, kind="boosted", created=created)
    needy = learning.fit(
        frame, kind="boosted", created=created + timedelta(seconds=1), extra=("distance_km",)
    )
    store = live(client).store
    store.feedback.save_model(boosted, 1.0)
    store.feedback.save_model(needy, 2.0)
    refused = client.post(f"/api/v1/models/{needy.version}/activate", headers=h["ad"])
    assert refused.status_code == 422 and "distance_km" in refused.text
    assert client.post(f"/api/v1/models/{boosted.version}/activate", headers=h["ad"]).status_code == 200
    shown = client.get("/api/v1/activities/a1/recommended-volunteers?shift_id=s1", headers=h["o1"]).json()
    assert shown["model_version"] == boosted.version
    parts = pd.DataFrame([m["parts"] for m in shown["matches"]])
    expected = boosted.predict(parts)
    scores = [m["score"] for m in shown["matches"]]
    assert scores == pytest.approx(expected.tolist(), abs=1e-4)  # each its model probability
    assert scores == sorted(scores, reverse=True)  # and the list in the model's order
