"""The people of ``make load``: organisers and volunteers using the service at once.

Half the simulated users are organisers, half volunteers, each with their own token (so each
stays inside its request budget, as real people do). What they do, by weight:

- organisers: suggested volunteers for a shift of one of their postings (7), the posting or a
  shift's roster (3);
- volunteers: their recommended activities (7), their hours (1), and a write (2): sign up for a
  shift they were just recommended, or cancel the sign-up they hold.

Overall: 70 % recommendations, 20 % reads, 10 % writes. Each user aims at
``VOLMATCH_LOAD_USER_RATE`` requests a second (``constant_throughput``), so the offered rate is
users x that rate. A sign-up the rules refuse (409: an overlapping shift, say) is a correct
answer and is counted apart, not as an error. ``scripts/load.py`` writes the plan this reads
(``VOLMATCH_LOAD_PLAN``: tokens, ids) and runs it.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

from locust import constant_throughput, events, task
from locust.contrib.fasthttp import FastHttpUser

with open(os.environ["VOLMATCH_LOAD_PLAN"], encoding="utf-8") as _plan:
    PLAN: dict[str, Any] = json.load(_plan)
RATE = float(os.environ.get("VOLMATCH_LOAD_USER_RATE", "6"))
_organisers = list(PLAN["organisers"])
_volunteers = list(PLAN["volunteers"])
random.Random(1).shuffle(_organisers)
random.Random(2).shuffle(_volunteers)
refused = {"sign-ups refused by the rules (409)": 0}


@events.quitting.add_listener
def _report_refusals(**_: Any) -> None:
    with open(PLAN["refusals_file"], "w", encoding="utf-8") as f:
        json.dump(refused, f)


class Organiser(FastHttpUser):
    weight = 1
    wait_time = constant_throughput(RATE)

    def on_start(self) -> None:
        me = _organisers.pop() if _organisers else random.choice(PLAN["organisers"])
        self.headers = {"Authorization": f"Bearer {me['token']}"}
        self.shifts: list[list[str]] = me["shifts"]  # [activity_id, shift_id]

    @task(7)
    def suggested_volunteers(self) -> None:
        activity, shift = random.choice(self.shifts)
        self.client.get(
            f"/api/v1/activities/{activity}/recommended-volunteers?k=10&shift_id={shift}",
            headers=self.headers,
            name="recommend: volunteers for a shift",
        )

    @task(2)
    def posting(self) -> None:
        activity, _ = random.choice(self.shifts)
        self.client.get(f"/api/v1/activities/{activity}", headers=self.headers, name="read: a posting")

    @task(1)
    def roster(self) -> None:
        _, shift = random.choice(self.shifts)
        self.client.get(f"/api/v1/shifts/{shift}/roster", headers=self.headers, name="read: a roster")


class Volunteer(FastHttpUser):
    weight = 1
    wait_time = constant_throughput(RATE)

    def on_start(self) -> None:
        me = _volunteers.pop() if _volunteers else random.choice(PLAN["volunteers"])
        self.id = me["id"]
        self.headers = {"Authorization": f"Bearer {me['token']}"}
        self.offered: list[str] = []  # shift ids from the last recommendations
        self.held: str | None = None  # the sign-up this user holds

    @task(7)
    def recommended_activities(self) -> None:
        with self.client.get(
            f"/api/v1/volunteers/{self.id}/recommended-activities?k=10",
            headers=self.headers,
            name="recommend: activities for me",
            catch_response=True,
        ) as r:
            if r.status_code == 200:
                self.offered = [m["shift_id"] for m in r.json()["matches"] if m.get("shift_id")]
                r.success()

    @task(1)
    def my_hours(self) -> None:
        self.client.get(f"/api/v1/volunteers/{self.id}/hours", headers=self.headers, name="read: my hours")

    @task(2)
    def sign_up_or_cancel(self) -> None:
        if self.held is not None:
            self.client.post(f"/api/v1/signups/{self.held}/cancel", headers=self.headers, name="write: cancel")
            self.held = None
            return
        if not self.offered:
            self.recommended_activities()
            return
        shift = random.choice(self.offered)
        with self.client.post(
            f"/api/v1/shifts/{shift}/signups", headers=self.headers, name="write: sign up", catch_response=True
        ) as r:
            if r.status_code == 201:
                self.held = r.json()["id"]
                r.success()
            elif r.status_code == 409:
                r.success()  # the rules said no (already signed up, overlapping): a right answer
                refused["sign-ups refused by the rules (409)"] += 1
                self.offered.remove(shift)
            else:
                r.failure(f"{r.status_code}: {r.text[:200]}")
