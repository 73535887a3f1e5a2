"""Emergency calls: an organiser needs people for a shift at short notice. The best available
volunteers are ranked once (emergency mode: nobody asked too often lately), then asked a wave at
a time by the dispatcher until enough have a place or the call closes; each answers through a
signed link, or signed in, and an accept is a sign-up under the normal rules
(:mod:`matcher.store.calls`)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from api.auth import BadToken, Links
from api.live import Live
from matcher.matching.answers import MAX_K
from matcher.model.calendar import epoch_seconds
from matcher.model.errors import NotFoundError, ValidationError
from matcher.operations import allocation
from matcher.store.base import Store

MAX_WAVES = 10
"""Candidates ranked for a call: enough for this many waves."""


def open_call(
    live: Live,
    shift_id: str,
    *,
    needed: int | None,
    wave_size: int | None,
    wave_every_minutes: int,
    deadline_minutes: int,
    ask_cap: int,
    by: str,
    now: datetime,
) -> dict[str, Any]:
    """Rank the shift's best available volunteers and tell the first wave, in one transaction;
    ``needed`` defaults to the open places, ``wave_size`` to twice that (many say no)."""
    now_s = epoch_seconds(now)
    since = now_s - allocation.ASK_WINDOW_DAYS * 86400
    asked = live.store.feedback.invited_since(since)
    for v, n in live.store.calls.asked_since(since).items():
        asked[v] = asked.get(v, 0) + n
    with live.reading() as index:
        if not index.has_shift(shift_id):
            raise NotFoundError("shift", shift_id)
        left = index.places_left(shift_id)
        want = left if needed is None else needed
        if want < 1:
            raise ValidationError("needed", "the shift is full: say how many more people are needed")
        size = min(2 * want if wave_size is None else wave_size, MAX_K)
        plan = allocation.emergency(
            index, shift_id, now=now, asked=asked, ask_cap=ask_cap, page=min(MAX_K, size * MAX_WAVES),
            weights=live.weights(), distance_mode="band",
        )  # fmt: skip
        starts_s = int(index.shifts.start.data[index.shift_row(shift_id)])
    return live.store.calls.open(
        f"call_{secrets.token_hex(8)}", shift_id, needed=want, wave_size=size, wave_every_s=wave_every_minutes * 60,
        deadline_s=min(now_s + deadline_minutes * 60, starts_s), candidates=[p.volunteer_id for p in plan.assignments],
        by=by, now_s=now_s,
    )  # fmt: skip


def queue(
    store: Store, call_id: str, shift_id: str, candidates: list[str], wave_size: int, now_s: int
) -> dict[str, Any]:
    """A call over an already ranked list, its first wave told (what ``volmatch bench`` times:
    the outbox's part of a call, without the ranking)."""
    return store.calls.open(
        call_id, shift_id, needed=1, wave_size=wave_size, wave_every_s=600, deadline_s=now_s + 3600,
        candidates=candidates, by="bench", now_s=now_s,
    )  # fmt: skip


def status(live: Live, call_id: str) -> dict[str, Any]:
    return live.store.calls.status(call_id)


def shift_of(live: Live, call_id: str) -> str:
    return live.store.calls.shift_of(call_id)


def answer(live: Live, call_id: str, volunteer_id: str, accept: bool, now: datetime) -> dict[str, Any]:
    """The volunteer's answer; an accept is a sign-up (a place, or the waitlist when the places
    went to quicker answers), and this process's index follows at once."""
    said, placed = live.store.calls.answer(
        call_id, volunteer_id, accept, f"su_{secrets.token_hex(8)}", epoch_seconds(now), live.policy
    )
    if placed is not None:
        live.placed(placed)
    return said


def answer_by_link(live: Live, links: Links, token: str, accept: bool, now: datetime) -> dict[str, Any]:
    """An answer through the link in the message (no sign-in: the link is signed for this
    volunteer and call, and lapses an hour after the call closes)."""
    call_id, volunteer_id = _asked(links, token)
    return answer(live, call_id, volunteer_id, accept, now)


def details(live: Live, links: Links, token: str) -> dict[str, Any]:
    """What a call's link shows before the volunteer answers: the call and the shift."""
    call_id, volunteer_id = _asked(links, token)
    return live.store.calls.status(call_id) | {"volunteer_id": volunteer_id}


def _asked(links: Links, token: str) -> tuple[str, str]:
    """The call and the volunteer a link's token names (422 if it is not ours or has lapsed)."""
    try:
        claims = links.claims("call", token)
    except BadToken as e:
        raise ValidationError("token", f"this link is not valid or has expired ({e})") from e
    return str(claims["c"]), str(claims["v"])
