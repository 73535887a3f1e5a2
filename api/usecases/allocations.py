"""Campaigns: many shifts filled at once (optimally, fairly, within every limit) or one shift
in an emergency, saved as a draft plan, and accepted as invitations in one transaction."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np

from api.live import Live
from matcher.matching.ranking import why_not
from matcher.model.calendar import epoch_seconds
from matcher.model.errors import NotFoundError, ValidationError
from matcher.operations import allocation

MAX_CAMPAIGN_SHIFTS = 2_000
"""Shifts one allocation request may plan (ranking their candidates holds this worker's index
for about 3 ms a shift); larger campaigns go through ``volmatch allocate``."""


def campaign(
    live: Live,
    *,
    now: datetime,
    activity_ids: list[str],
    shift_ids: list[str],
    per_place: int = allocation.CANDIDATES_PER_PLACE,
    minimum: dict[str, int] | None = None,
    priority: dict[str, float] | None = None,
    organisation: str | None = None,
    starts_from: datetime | None = None,
    starts_to: datetime | None = None,
    limit: int | None = MAX_CAMPAIGN_SHIFTS,
    banded: bool = True,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> tuple[list[allocation.Slot], list[allocation.Pair]]:
    """A campaign's shifts and their ranked candidates (:func:`matcher.operations.allocation.campaign`),
    ranked as recommendations are (the active model; distances as bands unless ``banded`` is
    off, for admins). The shifts: those listed, the open ones of the activities listed and (by
    name) of ``organisation``, starting in [``starts_from``, ``starts_to``); at most ``limit``."""
    with live.reading() as index:
        if organisation is not None:
            code = index.organisations.get(organisation)
            if code is None:
                raise NotFoundError("organisation", organisation)
            rows = np.flatnonzero((index.activities.org.data == code) & index.activities.alive.data)
            activity_ids = [*activity_ids, *(index.activities.ids[int(r)] for r in rows)]
        ids = allocation.campaign_shifts(index, now=now, activity_ids=activity_ids, shift_ids=shift_ids)
        lo = -np.inf if starts_from is None else starts_from.timestamp()
        hi = np.inf if starts_to is None else starts_to.timestamp()
        ids = [s for s in ids if lo <= index.shifts.start.data[index.shift_row(s)] < hi]
        if limit is not None and len(ids) > limit:
            raise ValidationError(
                "shift_ids", f"{len(ids):,} shifts: at most {limit:,} in one request "
                "(plan larger campaigns with `volmatch allocate`)",
            )  # fmt: skip
        return allocation.campaign(
            index, ids, now=now, per_place=per_place, weights=live.weights(),
            distance_mode="band" if banded else "exact", minimum=minimum, priority=priority, progress=progress,
        )  # fmt: skip


def emergency(live: Live, shift_id: str, *, now: datetime, ask_cap: int, page: int | None) -> allocation.Plan:
    """:func:`matcher.operations.allocation.emergency`, counting each volunteer's invitations in
    the feedback log over the last week."""
    asked = live.store.feedback.invited_since(epoch_seconds(now) - allocation.ASK_WINDOW_DAYS * 86400)
    with live.reading() as index:
        return allocation.emergency(
            index, shift_id, now=now, asked=asked, ask_cap=ask_cap, page=page,
            weights=live.weights(), distance_mode="band",
        )  # fmt: skip


def save(
    live: Live,
    organisation: str | None,
    by: str,
    request: dict[str, Any],
    plan: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """A draft plan kept with the request it answers."""
    return live.store.allocations.save(
        f"al_{secrets.token_hex(8)}", organisation, by, request, plan, epoch_seconds(now)
    )


def get(live: Live, allocation_id: str) -> dict[str, Any]:
    return live.store.allocations.get(allocation_id)


def accept(live: Live, allocation_id: str, now: datetime) -> dict[str, Any]:
    """Invite everyone a saved plan assigns, in one transaction, except those the core's hard
    rules now rule out (they signed up elsewhere since, the shift started, ...): those are
    listed as skipped with the reason. Accepting again changes nothing."""
    record = live.store.allocations.get(allocation_id)
    if record["status"] == "accepted":
        return record
    now_s = epoch_seconds(now)
    invitations: list[tuple[str, str, str]] = []
    skipped: list[dict[str, str]] = []
    with live.reading():
        for a in record["assignments"]:
            shift_id, volunteer_id = a["shift_id"], a["volunteer_id"]
            reason = _why_not_invite(live, shift_id, volunteer_id, now_s)
            if reason is None:
                invitations.append((f"su_{secrets.token_hex(8)}", shift_id, volunteer_id))
            else:
                skipped.append({"shift_id": shift_id, "volunteer_id": volunteer_id, "reason": reason})
    # Invitations hold no place (accepting one is checked in the database), so the write need
    # not hold the index.
    accepted = live.store.allocations.accept(allocation_id, invitations, skipped, now_s)
    live.refresh(force=True)
    return accepted


def _why_not_invite(live: Live, shift_id: str, volunteer_id: str, now_s: int) -> str | None:
    index = live.index
    if not index.has_shift(shift_id):
        return "the shift was withdrawn"
    if int(index.shifts.start.data[index.shift_row(shift_id)]) <= now_s:
        return "the shift has started"
    if not index.has_volunteer(volunteer_id):
        return "the volunteer is no longer registered"
    blocked = why_not(index, volunteer_id, shift_id)
    return None if blocked is None else blocked.en
