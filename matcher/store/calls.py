"""Emergency calls: an organiser needs people for a shift at short notice. The best available
volunteers (ranked when the call is made) are asked a wave at a time, each wave an urgent
message in the outbox, widening every ``wave_every_s`` until enough have a confirmed place or
the deadline passes. A volunteer's accept signs them up through the normal rules in the same
transaction (the database decides the places: accepts beyond them are waitlisted, never
overbooked). One SQL for both stores."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from matcher.model.errors import ConflictError, NotFoundError, ValidationError
from matcher.model.vocabulary import MessageKind
from matcher.store.operations import Operations, Placed, Policy
from matcher.store.outbox import EACH, tell_many
from matcher.store.tx import Tx

_CALL = (
    "SELECT c.id, c.shift_id, c.needed, c.wave_size, c.wave_every_s, c.deadline_s, c.candidates, c.waves, "
    "c.next_wave_s, c.created_by, c.created_s, c.closed_s, s.starts_utc, a.title FROM emergency_calls c "
    "JOIN shifts s ON s.id = c.shift_id JOIN activities a ON a.id = s.activity_id"
)
"""A call with its shift's start and title (one read)."""


class Calls:
    def __init__(self, begin: Callable[[], AbstractContextManager[Tx]], ops: Operations) -> None:
        self._begin = begin
        self._ops = ops

    def open(
        self,
        call_id: str,
        shift_id: str,
        *,
        needed: int,
        wave_size: int,
        wave_every_s: int,
        deadline_s: int,
        candidates: list[str],
        by: str,
        now_s: int,
    ) -> dict[str, Any]:
        """The call, and its first wave told, in one transaction."""
        if not candidates:
            raise ConflictError("nobody available to ask for this shift")
        with self._begin() as tx:
            row = tx.one("SELECT starts_utc FROM shifts WHERE id = %s FOR UPDATE", (shift_id,))
            if row is None:
                raise NotFoundError("shift", shift_id)
            if deadline_s <= now_s or deadline_s > int(row[0]):
                raise ValidationError(
                    "deadline_minutes", "the call must close after now and by the shift's start"
                )
            tx.run(
                "INSERT INTO emergency_calls (id, shift_id, needed, wave_size, wave_every_s, deadline_s, candidates, "
                "next_wave_s, created_by, created_s) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (call_id, shift_id, needed, wave_size, wave_every_s, deadline_s, json.dumps(candidates),
                 now_s, by, now_s),
            )  # fmt: skip
            self._wave(tx, self._get(tx, call_id), now_s)
            return self._status(tx, call_id)

    def widen(self, now_s: int) -> int:
        """Every open call whose next wave is due: closed if filled or past its deadline, else
        its next wave told. Returns how many waves were sent."""
        sent = 0
        with self._begin() as tx:
            due = tx.all(
                "SELECT id FROM emergency_calls WHERE closed_s IS NULL AND next_wave_s <= %s "
                "ORDER BY next_wave_s LIMIT 100 FOR UPDATE SKIP LOCKED",
                (now_s,),
            )
            for (call_id,) in due:
                sent += self._wave(tx, self._get(tx, str(call_id)), now_s)
        return sent

    def _wave(self, tx: Tx, call: dict[str, Any], now_s: int) -> int:
        """The call's next wave, unless it is filled, past its deadline (closed) or has asked
        everyone (kept open for answers until the deadline)."""
        if self._confirmed(tx, call) >= call["needed"] or now_s >= call["deadline_s"]:
            tx.run("UPDATE emergency_calls SET closed_s = %s WHERE id = %s", (now_s, call["id"]))
            return 0
        wave = call["waves"] + 1
        start = call["waves"] * call["wave_size"]
        asked = call["candidates"][start : start + call["wave_size"]]
        if not asked:
            tx.run(
                "UPDATE emergency_calls SET next_wave_s = %s WHERE id = %s", (call["deadline_s"], call["id"])
            )
            return 0
        tx.run(
            f"INSERT INTO call_asks (call_id, volunteer_id, wave, asked_s) SELECT %s, j.value, %s, %s FROM {EACH} "
            "WHERE TRUE ON CONFLICT DO NOTHING",
            (call["id"], wave, now_s, json.dumps(asked)),
        )
        tell_many(
            tx, asked, MessageKind.EMERGENCY_CALL, now_s, f"call:{call['id']}",
            shift_id=call["shift_id"], detail={"call_id": call["id"], "until_s": call["deadline_s"],
                                               "starts_s": call["starts_s"], "wave": wave}, urgent=True,
        )  # fmt: skip
        tx.run(
            "UPDATE emergency_calls SET waves = %s, next_wave_s = %s WHERE id = %s",
            (wave, min(now_s + call["wave_every_s"], call["deadline_s"]), call["id"]),
        )
        return 1

    def answer(
        self, call_id: str, volunteer_id: str, accepted: bool, signup_id: str, now_s: int, policy: Policy
    ) -> tuple[dict[str, Any], Placed | None]:
        """A volunteer asked by the call accepts (signed up by the normal rules: a place if one
        is free, else the waitlist) or declines. Answering again keeps the first answer."""
        with self._begin() as tx:
            call = self._get(tx, call_id)
            ask = tx.one(
                "SELECT answer, signup_status FROM call_asks WHERE call_id = %s AND volunteer_id = %s",
                (call_id, volunteer_id),
            )
            if ask is None:
                raise NotFoundError("emergency call for this volunteer", call_id)
            if ask[0] is not None:
                return {"call_id": call_id, "answer": ask[0], "signup_status": ask[1]}, None
            if now_s >= call["deadline_s"]:
                raise ConflictError("this call has closed")
            placed = None
            status = None
            if accepted:
                s = self._ops.sign_up_in(tx, signup_id, call["shift_id"], volunteer_id, now_s, policy)
                placed, status = s, s.signup.status.value
            tx.run(
                "UPDATE call_asks SET answer = %s, answered_s = %s, signup_status = %s WHERE call_id = %s "
                "AND volunteer_id = %s",
                ("accepted" if accepted else "declined", now_s, status, call_id, volunteer_id),
            )
            if accepted and self._confirmed(tx, call) >= call["needed"]:
                tx.run(
                    "UPDATE emergency_calls SET closed_s = %s WHERE id = %s AND closed_s IS NULL",
                    (now_s, call_id),
                )
        answer = {
            "call_id": call_id,
            "answer": "accepted" if accepted else "declined",
            "signup_status": status,
        }
        return answer, placed

    def status(self, call_id: str) -> dict[str, Any]:
        with self._begin() as tx:
            return self._status(tx, call_id)

    def shift_of(self, call_id: str) -> str:
        with self._begin() as tx:
            return str(self._get(tx, call_id)["shift_id"])

    def asked_since(self, since_s: int) -> dict[str, int]:
        """How often each volunteer was asked by calls since ``since_s`` (the ask cap counts these)."""
        with self._begin() as tx:
            rows = tx.all(
                "SELECT volunteer_id, count(*) FROM call_asks WHERE asked_s >= %s GROUP BY volunteer_id",
                (since_s,),
            )
        return {str(r[0]): int(r[1]) for r in rows}

    def _status(self, tx: Tx, call_id: str) -> dict[str, Any]:
        """What the organiser sees: asked by wave, how the messages went out by channel and
        status, the answers and the places they became (counts only)."""
        call = self._get(tx, call_id)
        waves = tx.all(
            "SELECT wave, count(*) FROM call_asks WHERE call_id = %s GROUP BY wave ORDER BY wave", (call_id,)
        )
        answers = tx.all(
            "SELECT coalesce(answer, 'unanswered'), coalesce(signup_status, ''), count(*) FROM call_asks "
            "WHERE call_id = %s GROUP BY answer, signup_status",
            (call_id,),
        )
        sent = tx.all(
            "SELECT d.channel, d.status, count(*) FROM deliveries d JOIN messages m ON m.id = d.message_id "
            "WHERE m.event_key LIKE %s AND m.kind = 'emergency_call' GROUP BY d.channel, d.status",
            (f"call:{call_id}:%",),
        )
        deliveries: dict[str, dict[str, int]] = {}
        for channel, status, n in sent:
            deliveries.setdefault(str(channel), {})[str(status)] = int(n)
        by_answer = {"accepted": 0, "declined": 0, "unanswered": 0}
        placed = {"confirmed": 0, "waitlisted": 0}
        for answer, status, n in answers:
            by_answer[str(answer)] += int(n)
            if status in placed:
                placed[str(status)] += int(n)
        return {
            "call_id": call_id,
            "shift_id": call["shift_id"],
            "needed": call["needed"],
            "title": call["title"],
            "starts_s": call["starts_s"],
            "filled": self._confirmed(tx, call),
            "waves": [{"wave": int(w), "asked": int(n)} for w, n in waves],
            "asked": sum(int(n) for _, n in waves),
            "answers": by_answer,
            "places": placed,
            "deliveries": deliveries,
            "deadline_s": call["deadline_s"],
            "next_wave_s": None if call["closed_s"] is not None else call["next_wave_s"],
            "closed_s": call["closed_s"],
        }

    @staticmethod
    def _confirmed(tx: Tx, call: dict[str, Any]) -> int:
        """Places confirmed through this call's accepts."""
        row = tx.one(
            "SELECT count(*) FROM call_asks a JOIN signups s ON s.volunteer_id = a.volunteer_id AND s.shift_id = %s "
            "WHERE a.call_id = %s AND a.answer = 'accepted' AND s.status = 'confirmed'",
            (call["shift_id"], call["id"]),
        )
        return int(row[0]) if row else 0

    @staticmethod
    def _get(tx: Tx, call_id: str) -> dict[str, Any]:
        r = tx.one(f"{_CALL} WHERE c.id = %s", (call_id,))
        if r is None:
            raise NotFoundError("emergency call", call_id)
        return {
            "id": str(r[0]), "shift_id": str(r[1]), "needed": int(r[2]), "wave_size": int(r[3]),
            "wave_every_s": int(r[4]), "deadline_s": int(r[5]), "candidates": json.loads(r[6]),
            "waves": int(r[7]), "next_wave_s": int(r[8]), "created_by": str(r[9]), "created_s": int(r[10]),
            "closed_s": None if r[11] is None else int(r[11]), "starts_s": int(r[12]), "title": str(r[13]),
        }  # fmt: skip
