"""The people of ``make load``: organisers and volunteers using the service at once.

Half the simulated users act for organisers, half for volunteers. Each simulated user stands
for a share of the accounts (every organisation's and the 2,000 volunteers' of the plan) and
acts for one of them, chosen at random, at each step, with that account's own token: the
questions spread over the city as they would with thousands of people, rather than a few
people asking again and again what the service has just answered. What they do, by weight:

- organisers: suggested volunteers for a shift of one of their postings (7), the posting or a
  shift's roster (3);
- volunteers: their recommended activities (7), their hours (1), and a write (2): sign up for a
  shift they were just recommended, or cancel the sign-up they hold.

Overall: 70 % recommendations, 20 % reads, 10 % writes. Each user sends
``VOLMATCH_LOAD_USER_RATE`` requests a second on average, at the times of a Poisson process
(:func:`poisson_arrivals`), so the offered rate is users x that rate and the requests of all
users together arrive as those of many independent people do. (Locust's ``constant_throughput``
starts every user at the same moment and keeps them in step: the service then gets all users'
requests at once, a burst every period, and latency measures the burst, not the service.) A sign-up the rules refuse (409: an overlapping shift, say) is a correct
answer and is counted apart, not as an error. ``scripts/load.py`` writes the plan this reads
(``VOLMATCH_LOAD_PLAN``: tokens, ids, how many users there are) and runs it.
"""

from __future__ import annotations

import json
import os
import random
import time
from typing import Any

from locust import User, events, task
from locust.contrib.fasthttp import FastHttpUser

with open(os.environ["VOLMATCH_LOAD_PLAN"], encoding="utf-8") as _plan:
    PLAN: dict[str, Any] = json.load(_plan)
RATE = float(os.environ.get("VOLMATCH_LOAD_USER_RATE", "6"))
refused = {"sign-ups refused by the rules (409)": 0}
samples: list[tuple[float, str, float, int]] = []  # (finished at, kind, ms, 1 if it failed)


def _shares(accounts: list[dict[str, Any]], users: int, seed: int) -> list[list[dict[str, Any]]]:
    """The accounts dealt out to ``users`` simulated users (each gets at least one)."""
    shuffled = list(accounts)
    random.Random(seed).shuffle(shuffled)
    users = max(1, min(users, len(shuffled)))
    return [shuffled[i::users] for i in range(users)]


_organisers = _shares(PLAN["organisers"], PLAN["users"] // 2, 1)
_volunteers = _shares(PLAN["volunteers"], PLAN["users"] - PLAN["users"] // 2, 2)


@events.request.add_listener
def _sample(name: str, response_time: float, exception: BaseException | None = None, **_: Any) -> None:
    samples.append((time.time(), name, response_time, 0 if exception is None else 1))


@events.quitting.add_listener
def _report(**_: Any) -> None:
    """Every request's time and outcome, so that the warm-up can be left out of latencies as
    well as of the rate (locust's own percentiles cover the whole run)."""
    with open(PLAN["refusals_file"], "w", encoding="utf-8") as f:
        json.dump(refused, f)
    with open(PLAN["samples_file"], "w", encoding="utf-8") as f:
        json.dump(samples, f)


def poisson_arrivals(user: User) -> float:
    """Seconds until the user's next request: the gaps between request starts are exponential
    with mean 1 / ``RATE``, from a random first moment, so each user's requests, and all users'
    together, arrive as a Poisson process. A user whose answer came late keeps to the schedule
    (the next request goes at once), so the offered rate stays what was asked for."""
    due = getattr(user, "next_at", time.monotonic()) + random.expovariate(RATE)
    user.next_at = due
    return max(0.0, due - time.monotonic())


def _bearer(account: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {account['token']}"}


class Organiser(FastHttpUser):
    weight = 1
    wait_time = poisson_arrivals

    def on_start(self) -> None:
        time.sleep(poisson_arrivals(self))  # gevent's sleep: each user begins at its own moment
        self.accounts = _organisers.pop() if _organisers else random.choice(_shares(PLAN["organisers"], 1, 1))

    def _shift(self) -> tuple[dict[str, str], str, str]:
        """An organiser of this user's share, and one of their postings' shifts."""
        me = random.choice(self.accounts)
        activity, shift = random.choice(me["shifts"])
        return _bearer(me), activity, shift

    @task(7)
    def suggested_volunteers(self) -> None:
        headers, activity, shift = self._shift()
        self.client.get(
            f"/api/v1/activities/{activity}/recommended-volunteers?k=10&shift_id={shift}",
            headers=headers,
            name="recommend: volunteers for a shift",
        )

    @task(2)
    def posting(self) -> None:
        headers, activity, _ = self._shift()
        self.client.get(f"/api/v1/activities/{activity}", headers=headers, name="read: a posting")

    @task(1)
    def roster(self) -> None:
        headers, _, shift = self._shift()
        self.client.get(f"/api/v1/shifts/{shift}/roster", headers=headers, name="read: a roster")


class Volunteer(FastHttpUser):
    weight = 1
    wait_time = poisson_arrivals

    def on_start(self) -> None:
        time.sleep(poisson_arrivals(self))
        self.accounts = _volunteers.pop() if _volunteers else random.choice(_shares(PLAN["volunteers"], 1, 2))
        self.offered: dict[str, list[str]] = {}  # volunteer id -> shift ids from their last recommendations
        self.held: dict[str, str] = {}  # volunteer id -> the sign-up they hold

    def _me(self) -> tuple[str, dict[str, str]]:
        me = random.choice(self.accounts)
        return me["id"], _bearer(me)

    @task(7)
    def recommended_activities(self, me: tuple[str, dict[str, str]] | None = None) -> None:
        ident, headers = me or self._me()
        with self.client.get(
            f"/api/v1/volunteers/{ident}/recommended-activities?k=10",
            headers=headers,
            name="recommend: activities for me",
            catch_response=True,
        ) as r:
            if r.status_code == 200:
                self.offered[ident] = [m["shift_id"] for m in r.json()["matches"] if m.get("shift_id")]
                r.success()

    @task(1)
    def my_hours(self) -> None:
        ident, headers = self._me()
        self.client.get(f"/api/v1/volunteers/{ident}/hours", headers=headers, name="read: my hours")

    @task(2)
    def sign_up_or_cancel(self) -> None:
        ident, headers = self._me()
        held = self.held.pop(ident, None)
        if held is not None:
            self.client.post(f"/api/v1/signups/{held}/cancel", headers=headers, name="write: cancel")
            return
        offered = self.offered.get(ident)
        if not offered:
            self.recommended_activities((ident, headers))
            return
        shift = random.choice(offered)
        with self.client.post(
            f"/api/v1/shifts/{shift}/signups", headers=headers, name="write: sign up", catch_response=True
        ) as r:
            if r.status_code == 201:
                self.held[ident] = r.json()["id"]
                r.success()
            elif r.status_code == 409:
                r.success()  # the rules said no (already signed up, overlapping): a right answer
                refused["sign-ups refused by the rules (409)"] += 1
                offered.remove(shift)
            else:
                r.failure(f"{r.status_code}: {r.text[:200]}")
