"""Two teams racing for the last places never split (issue 24): two teams of 3 sign up at the
same moment, from two threads with their own connections, for a shift with 5 places. One team
is confirmed whole, the other refused whole; the shift never holds more than 5. Fifty runs on
each store."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest

from matcher.model.domain import World
from matcher.model.vocabulary import OrganisationKind, OrganisationStatus
from matcher.operations.joining import Organisation
from matcher.store.connect import open_store
from matcher.store.operations import Policy, TeamRefused, TeamSignup
from matcher.store.organisations import Team
from tests.conftest import NOW, activity, saturday_shift, volunteer

RUNS = 50
NOW_S = int(NOW.timestamp())


def prepared(db: str) -> None:
    shifts = tuple(saturday_shift(f"r{i}", capacity=5, day=5, start=8, end=9) for i in range(RUNS))
    acts = tuple(activity(f"ra{i}", organisation_id="club", shifts=(shifts[i],)) for i in range(RUNS))
    people = tuple(volunteer(f"p{i}") for i in range(6))
    store = open_store(db)
    try:
        store.load_world(World(people, acts, ()))
        store.organisations.seed([Organisation("club", "club", OrganisationKind.ASSOCIATION, None,
                                               OrganisationStatus.APPROVED)])  # fmt: skip
        for p in people:
            store.organisations.apply("club", p.id, "", 0)
            store.organisations.decide_member("club", p.id, True, "test", 0)
        store.organisations.create_team(Team("red", "club", "red", "p0", ("p0", "p1", "p2")), 0)
        store.organisations.create_team(Team("blue", "club", "blue", "p3", ("p3", "p4", "p5")), 0)
    finally:
        store.close()


def race(db: str, shift_id: str) -> dict[str, Any]:
    """Both teams at once; what each got."""
    stores = [open_store(db), open_store(db)]
    start = threading.Barrier(2)
    got: dict[str, Any] = {}

    def go(i: int, team: str, members: tuple[str, ...]) -> None:
        request = TeamSignup(f"{shift_id}-{team}", team, team, shift_id, members, "test")
        start.wait()
        try:
            got[team] = stores[i].ops.sign_up_team(request, NOW_S, Policy())[0]
        except TeamRefused:
            got[team] = "refused"

    threads = [threading.Thread(target=go, args=(0, "red", ("p0", "p1", "p2"))),
               threading.Thread(target=go, args=(1, "blue", ("p3", "p4", "p5")))]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        roster = stores[0].ops.roster(shift_id, NOW_S, Policy())
        for s in roster:  # give the places up, so the next run's shift (at the same time) is free
            if s.status in ("confirmed", "waitlisted", "offered"):
                stores[0].ops.cancel(s.id, NOW_S, Policy())
    finally:
        for s in stores:
            s.close()
    got["statuses"] = Counter(s.status for s in roster)
    got["teams"] = {team: {s.status for s in roster if s.volunteer_id in members}
                    for team, members in (("red", {"p0", "p1", "p2"}), ("blue", {"p3", "p4", "p5"}))}  # fmt: skip
    return got


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def test_two_teams_racing_for_the_last_places_never_split(backend: str, request: pytest.FixtureRequest,
                                                           tmp_path: Any) -> None:  # fmt: skip
    db = (
        f"sqlite:///{tmp_path / 'race.db'}" if backend == "sqlite" else request.getfixturevalue("postgis_url")
    )
    prepared(db)
    winners = Counter()
    for i in range(RUNS):
        got = race(db, f"r{i}")
        assert got["statuses"]["confirmed"] == 3, got  # one team whole, never 5 split 3 + 2
        confirmed = [t for t in ("red", "blue") if got[t] == "confirmed"]
        assert len(confirmed) == 1, got
        loser = "blue" if confirmed == ["red"] else "red"
        assert got[loser] == "refused", got
        assert got["teams"][confirmed[0]] == {"confirmed"}
        assert got["teams"][loser] == set(), got
        winners[confirmed[0]] += 1
    assert sum(winners.values()) == RUNS
