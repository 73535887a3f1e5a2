"""Service hours: approving a place's hours, corrections, hours reported by volunteers and
their approval, the ledger, and the earlier (imported) service a volunteer has done. Every
write is one transaction; a retry with the same idempotency key returns the first answer
(the second element of each result says whether it is such a replay)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any

from api.live import Live
from matcher.interchange.records import record_to_json
from matcher.model.calendar import epoch_seconds
from matcher.model.domain import ServiceRecord
from matcher.store.operations import Idempotency, LedgerEntry

Recorded = tuple[dict[str, Any], bool]
"""A ledger entry (or claim) as written, and whether it answers an earlier try with the same key."""

EARLIER_SHOWN = 20
"""Earlier service records listed on the volunteer's page (the newest)."""


def approve(
    live: Live,
    signup_id: str,
    hours: float | None,
    note: str,
    by: str,
    now: datetime,
    key: Idempotency | None,
) -> Recorded:
    """A place's hours approved (from its check times unless given): one ledger entry and one
    service record, once per place."""
    return live.change_signup(
        lambda: live.store.ops.approve_hours(signup_id, hours, note, by, epoch_seconds(now), key)
    )


def correct(
    live: Live,
    volunteer_id: str,
    hours: float,
    note: str,
    by: str,
    now: datetime,
    shift_id: str | None,
    key: Idempotency | None,
) -> Recorded:
    """A further ledger entry (negative takes hours away); entries are never edited."""
    return live.change_signup(
        lambda: live.store.ops.correct_hours(volunteer_id, hours, note, by, epoch_seconds(now), shift_id, key)
    )


def report(
    live: Live,
    claim_id: str,
    volunteer_id: str,
    activity_id: str,
    shift_id: str | None,
    day: date,
    hours: float,
    note: str,
    by: str,
    now: datetime,
    key: Idempotency | None,
) -> Recorded:
    """Hours of service done, pending the activity's organisers' approval."""
    return live.change_signup(
        lambda: live.store.ops.claim_hours(
            claim_id, volunteer_id, activity_id, shift_id, day, hours, note, by, epoch_seconds(now), key
        )
    )


def claim(live: Live, claim_id: str) -> dict[str, Any]:
    return live.store.ops.claim(claim_id)


def approve_claim(live: Live, claim_id: str, by: str, now: datetime, key: Idempotency | None) -> Recorded:
    return live.change_signup(lambda: live.store.ops.approve_claim(claim_id, by, epoch_seconds(now), key))


def ledger(live: Live, volunteer_id: str) -> list[LedgerEntry]:
    """The volunteer's approved hours, oldest first (their sum is the total)."""
    return live.store.ops.ledger(volunteer_id)


def service_records_of(live: Live, volunteer_id: str) -> list[ServiceRecord]:
    return live.store.service_records_of(volunteer_id)


def earlier_service(live: Live, volunteer_id: str, entries: list[LedgerEntry]) -> dict[str, Any]:
    """Service done before volmatch recorded hours (imported history): it feeds the ranking's
    past-service factor, so the volunteer sees it too, apart from the ledger's hours (it earns
    no stars: nobody in volmatch approved it). A record counts as earlier when its shift is
    neither in the ledger nor one the volunteer signed up for here, and (without a shift) it
    is not the record of an approved claim (a ``manual`` entry for the same activity and hours)."""
    here = {e.shift_id for e in entries} | {s.shift_id for s in live.store.ops.signups_of(volunteer_id)}
    claims = Counter((e.activity_id, round(e.hours, 4)) for e in entries if e.kind == "manual")
    earlier = []
    for r in live.store.service_records_of(volunteer_id):
        if r.shift_id is not None and r.shift_id in here:
            continue
        if r.shift_id is None and claims[(r.activity_id, round(r.hours, 4))] > 0:
            claims[(r.activity_id, round(r.hours, 4))] -= 1
            continue
        earlier.append(r)
    served = [r for r in earlier if r.attended]
    return {
        "hours": round(sum(r.hours for r in served), 2),
        "attended": len(served),
        "missed": len(earlier) - len(served),
        "activities": len({r.activity_id for r in served}),
        "latest": [
            record_to_json(r) for r in sorted(earlier, key=lambda r: r.date, reverse=True)[:EARLIER_SHOWN]
        ],
    }
