"""Places on shifts: signing up (a place or the waitlist), invitations, cancelling, offers,
check-in and check-out, no-shows, and the roster. The core's hard rules are checked against
the index; the database decides places (under a lock on the volunteer's row), so concurrent
sign-ups never overbook a shift or pass the overlap rule twice."""

from __future__ import annotations

import secrets
from datetime import datetime

from api.live import Live
from matcher.matching.ranking import why_not
from matcher.model.calendar import epoch_seconds
from matcher.model.errors import ConflictError, NotFoundError
from matcher.store.operations import Signup


def shift_activity(live: Live, shift_id: str) -> str:
    """The activity a shift belongs to (404 for an unknown shift)."""
    with live.reading() as index:
        if not index.has_shift(shift_id):
            raise NotFoundError("shift", shift_id)
        return index.activity_of_shift(shift_id)


def is_shift(live: Live, shift_id: str) -> bool:
    with live.reading() as index:
        return index.has_shift(shift_id)


def is_activity(live: Live, activity_id: str) -> bool:
    with live.reading() as index:
        return index.has_activity(activity_id)


def shift_times(live: Live, shift_id: str) -> tuple[int, int]:
    """When the shift starts and ends (seconds since 1970, UTC)."""
    with live.reading() as index:
        row = index.shift_row(shift_id)
        return int(index.shifts.start.data[row]), int(index.shifts.end.data[row])


def places_left(live: Live, shift_id: str) -> int | None:
    """Places still free on the shift (None: not an open shift)."""
    with live.reading() as index:
        return index.places_left(shift_id) if index.has_shift(shift_id) else None


def sign_up(live: Live, shift_id: str, volunteer_id: str, now: datetime) -> Signup:
    """A place on the shift, or a place on its waitlist, if the core's hard rules allow."""
    return _enrol(live, "sign up", shift_id, volunteer_id, now)


def invite(live: Live, shift_id: str, volunteer_id: str, now: datetime) -> Signup:
    """An organiser's invitation, if the volunteer could take the shift."""
    return _enrol(live, "invite", shift_id, volunteer_id, now)


def _enrol(live: Live, what: str, shift_id: str, volunteer_id: str, now: datetime) -> Signup:
    with live.reading() as index:
        if not index.has_shift(shift_id):
            raise NotFoundError("shift", shift_id)
        if not index.has_volunteer(volunteer_id):
            raise NotFoundError("volunteer", volunteer_id)
        blocked = why_not(index, volunteer_id, shift_id)
        if blocked is not None:
            raise ConflictError(f"cannot {what}: {blocked.en} ({blocked.zh})")
    # The write outside both locks: the database decides places and refuses a place that
    # overlaps one the volunteer holds (under a lock on the volunteer's row), so a sign-up
    # racing this one, here or in another process, cannot pass the overlap rule too.
    ident, now_s = f"su_{secrets.token_hex(8)}", epoch_seconds(now)
    if what == "invite":  # an invitation holds no place: nothing changes in the index
        return live.store.ops.invite(ident, shift_id, volunteer_id, now_s)
    return live.placed(live.store.ops.sign_up_placed(ident, shift_id, volunteer_id, now_s, live.policy))


def cancel(live: Live, signup_id: str, now: datetime, volunteer_id: str | None = None) -> Signup:
    """Give up a place; with ``volunteer_id``, only that volunteer's sign-up (another's is not
    found). A freed place is offered to the first on the waitlist."""
    placed = live.store.ops.cancel_placed(
        signup_id, epoch_seconds(now), live.policy, volunteer_id=volunteer_id
    )
    return live.placed(placed)


def signup(live: Live, signup_id: str) -> Signup:
    return live.store.ops.signup(signup_id)


def signups_of(live: Live, volunteer_id: str) -> list[Signup]:
    return live.store.ops.signups_of(volunteer_id)


def accept(live: Live, s: Signup, now: datetime) -> Signup:
    """Take a place offered from the waitlist while the offer holds, or accept an invitation
    (a place if one is free, else the waitlist; the hard rules apply)."""
    if s.status == "invited":
        return sign_up(live, s.shift_id, s.volunteer_id, now)
    return live.change_signup(lambda: live.store.ops.accept(s.id, epoch_seconds(now), live.policy))


def decline(live: Live, signup_id: str, now: datetime) -> Signup:
    return live.change_signup(lambda: live.store.ops.decline(signup_id, epoch_seconds(now)))


def check(live: Live, signup_id: str, which: str, at_s: int) -> Signup:
    """Record arrival (``which="in"``) or departure (``"out"``) at ``at_s``."""
    return live.change_signup(lambda: live.store.ops.check(signup_id, which, at_s))


def no_show(live: Live, signup_id: str, now: datetime, by: str) -> Signup:
    return live.change_signup(lambda: live.store.ops.mark_no_show(signup_id, epoch_seconds(now), by))


def roster(live: Live, shift_id: str, now: datetime) -> list[Signup]:
    """Everyone signed up for the shift, in order of arrival (offers past their time expire)."""
    return live.store.ops.roster(shift_id, epoch_seconds(now), live.policy)
