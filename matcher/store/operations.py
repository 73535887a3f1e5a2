"""Sign-ups, the waitlist, attendance and the hours ledger: one definition of the rules and their
SQL for both stores.

Every operation on a shift's places runs in one transaction that first locks the shift
(PostgreSQL: ``SELECT ... FOR UPDATE`` on its row; SQLite: the store's ``BEGIN IMMEDIATE``), then
counts and writes: concurrent sign-ups for the last places never confirm more than the shift's
capacity (RELIABILITY.md: "count, then insert" without the lock overbooks).

- An organiser may invite a volunteer (``invited``: no place held yet); the volunteer accepts,
  which signs them up as above, or ``declined``.
- A place is held by a ``confirmed`` sign-up or an ``offered`` one (a place that freed up, offered
  to the first on the waitlist until ``offered_until_s``; an offer not accepted in time
  ``expired`` and passes on to the next). Others wait (``waitlisted``) in order of arrival
  (``seq``).
- Cancelling before the cut-off frees the place (``cancelled``); later it is a
  ``late_cancelled``, which frees the place too but is on record. ``no_show``: marked after the
  shift by the organiser.
- The hours ledger is append-only (the PostgreSQL table refuses updates and deletes): an
  organiser's approval of a sign-up's hours is one ``attendance`` entry (at most one per
  volunteer and shift, whatever the client sends) that also becomes a service record for the
  past-service factor; a ``correction`` is a further entry, negative to take hours away. A
  volunteer's total is the sum of their entries.
- A write sent with an ``Idempotency-Key`` stores the request's hash and its answer in the same
  transaction: a retry of the same request gets the same answer and writes nothing; the same
  key with another request is refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from matcher.model.domain import ServiceRecord
from matcher.model.errors import ConflictError, MatcherError, NotFoundError, ValidationError
from matcher.model.vocabulary import OUTCOMES, MessageKind, SignupStatus
from matcher.operations.joining import ADULT_AGE, is_minor
from matcher.operations.recognition import NATIONAL_STARS, Tiers
from matcher.store.organisations import audience_refusal
from matcher.store.outbox import drop_reminders, remind, tell, tell_volunteer
from matcher.store.tx import Tx

HOLDING = ("confirmed", "offered")
ACTIVE = ("confirmed", "offered", "waitlisted")


@dataclass(frozen=True)
class Placed:
    """A sign-up as an operation left it, and the places of its shift then, read in the same
    transaction: who holds a confirmed place and how many are held (offers too), what the
    matching index keeps of the shift."""

    signup: Signup
    confirmed: list[str]
    taken: int


@dataclass(frozen=True)
class Signup:
    id: str
    shift_id: str
    volunteer_id: str
    status: SignupStatus
    seq: int
    created_s: int
    offered_until_s: int | None = None
    checked_in_s: int | None = None
    checked_out_s: int | None = None
    position: int | None = None  # on the waitlist, 1 = next to be offered a place

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TeamSignup:
    """A team leader's request: these members of the team, on this shift, together."""

    id: str
    team_id: str
    team_name: str
    shift_id: str
    members: tuple[str, ...]
    by: str


class TeamRefused(ConflictError):
    """A team sign-up refused whole: ``failed`` maps each member who may not go to why (the
    key "" for the shift itself: too few places)."""

    def __init__(self, failed: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" if k else v for k, v in failed.items()))
        self.failed = failed


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    volunteer_id: str
    activity_id: str | None
    shift_id: str | None
    kind: str
    hours: float
    note: str
    recorded_by: str
    recorded_s: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Idempotency:
    """An ``Idempotency-Key`` as sent by an account, with a hash of the request it came with."""

    account_id: str
    key: str
    request_hash: str

    def __post_init__(self) -> None:
        if not 1 <= len(self.key) <= 200 or not self.key.isprintable():
            raise ValidationError("Idempotency-Key", "must be 1 to 200 printable characters")


@dataclass(frozen=True)
class Policy:
    """The association's rules for places: how long before a shift a cancellation still counts
    as on time, and how long an offered place is held for the volunteer it was offered to."""

    cancel_cutoff_s: int = 24 * 3600
    offer_hold_s: int = 2 * 3600
    tier_hours: tuple[float, ...] = NATIONAL_STARS
    """Approved hours at which each star is reached (a volunteer is told when they reach one)."""


CHECK_IN_OPENS_S = 3600
"""Check-in opens an hour before a shift starts (for organisers recording arrivals too)."""


_SIGNUP = (
    "SELECT id, shift_id, volunteer_id, status, seq, created_s, offered_until_s, checked_in_s, checked_out_s "
    "FROM signups"
)
_LEDGER = "SELECT id, volunteer_id, activity_id, shift_id, kind, hours, note, recorded_by, recorded_s FROM hours_ledger"


class Operations:
    """The operations on places and hours, over a store's transactions (``begin``); a unique
    index violated in one raises one of ``unique_violation``."""

    def __init__(
        self,
        begin: Callable[[], AbstractContextManager[Tx]],
        unique_violation: tuple[type[BaseException], ...],
    ) -> None:
        self._begin = begin
        self._unique = unique_violation
        self.tier_hours: tuple[float, ...] = NATIONAL_STARS
        """The association's star tiers (set by the service from its :class:`Policy`)."""

    # ------------------------------------------------------------------ places

    def sign_up(self, signup_id: str, shift_id: str, volunteer_id: str, now_s: int, policy: Policy) -> Signup:
        """A place on the shift if one is free, else a place on its waitlist. Signing up again
        while signed up returns the sign-up as it is; after a cancellation it starts afresh
        (at the end of the waitlist if the shift is full)."""
        return self.sign_up_placed(signup_id, shift_id, volunteer_id, now_s, policy).signup

    def sign_up_placed(
        self, signup_id: str, shift_id: str, volunteer_id: str, now_s: int, policy: Policy
    ) -> Placed:
        """:meth:`sign_up`, with the shift's places as it leaves them."""
        with self._begin() as tx:
            return Placed(
                self._sign_up(tx, signup_id, shift_id, volunteer_id, now_s, policy),
                *self._places(tx, shift_id),
            )

    def sign_up_in(
        self, tx: Tx, signup_id: str, shift_id: str, volunteer_id: str, now_s: int, policy: Policy
    ) -> Placed:
        """:meth:`sign_up_placed` within the caller's transaction (an emergency call's accept,
        recorded with it: :mod:`matcher.store.calls`)."""
        return Placed(
            self._sign_up(tx, signup_id, shift_id, volunteer_id, now_s, policy), *self._places(tx, shift_id)
        )

    def _sign_up(
        self, tx: Tx, signup_id: str, shift_id: str, volunteer_id: str, now_s: int, policy: Policy
    ) -> Signup:
        refused = self._refusal(tx, volunteer_id, shift_id, now_s)  # read before the shift's lock
        starts_s, capacity = self._lock_shift(tx, shift_id)
        if starts_s <= now_s:
            raise ValidationError("shift_id", "the shift has started: sign-ups are closed")
        self._settle(tx, shift_id, now_s, capacity, policy)
        old = tx.one(f"{_SIGNUP} WHERE shift_id = %s AND volunteer_id = %s", (shift_id, volunteer_id))
        if old is not None and old[3] in ACTIVE:
            return self._with_position(tx, _signup(old))
        self._no_overlap(tx, volunteer_id, shift_id)
        if refused is not None:
            raise refused
        status = "confirmed" if self._holding(tx, shift_id) < capacity else "waitlisted"
        signup_id = self._enter(tx, signup_id, old, shift_id, volunteer_id, status, now_s)
        self._book(tx, volunteer_id, shift_id, status == "confirmed")
        if old is not None and old[3] == "invited":
            insert_outcome(tx, "accepted", volunteer_id, shift_id, now_s)
        insert_outcome(tx, "signed_up", volunteer_id, shift_id, now_s)
        self._log(tx, "shift", shift_id)
        placed = self._with_position(tx, self._get(tx, signup_id))
        told = MessageKind.SIGNUP_CONFIRMED if status == "confirmed" else MessageKind.SIGNUP_WAITLISTED
        tell(tx, placed, told, now_s, {"position": placed.position})
        if status == "confirmed":
            remind(tx, placed, now_s)
        return placed

    def sign_up_team(
        self, team: TeamSignup, now_s: int, policy: Policy
    ) -> tuple[str, list[Signup], list[str], int]:
        """Every member named gets a place, or none does: in one transaction under the shift's
        lock, each member is checked (not already on the shift, no overlapping place, a
        guardian's consent for a minor, the activity's audience), then the places left are
        counted. Enough for all: all confirmed. Too few: :class:`TeamRefused` naming the
        shortfall, so two teams racing for the last places never split. (A team does not wait:
        freed places are offered one person at a time, which would split it.) Returns (status,
        the sign-ups, and the shift's places as :class:`Placed` has them). A team signed up
        before gets its sign-up back as it is."""
        with self._begin() as tx:
            starts_s, capacity = self._lock_shift(tx, team.shift_id)
            if starts_s <= now_s:
                raise ValidationError("shift_id", "the shift has started: sign-ups are closed")
            self._settle(tx, team.shift_id, now_s, capacity, policy)
            old = tx.one("SELECT status, members FROM team_signups WHERE team_id = %s AND shift_id = %s",
                         (team.team_id, team.shift_id))  # fmt: skip
            if old is not None:
                members = json.loads(str(old[1]))
                marks = ", ".join(["%s"] * len(members))
                found = tx.all(
                    f"{_SIGNUP} WHERE shift_id = %s AND volunteer_id IN ({marks})", (team.shift_id, *members)
                )
                return (str(old[0]), [self._with_position(tx, _signup(r)) for r in found],
                        *self._places(tx, team.shift_id))  # fmt: skip
            failed: dict[str, str] = {}
            for vid in team.members:
                held = tx.one(f"{_SIGNUP} WHERE shift_id = %s AND volunteer_id = %s", (team.shift_id, vid))
                try:
                    if held is not None and held[3] in ACTIVE:
                        raise ConflictError(f"already {held[3]} on this shift")
                    self._no_overlap(tx, vid, team.shift_id)
                    refused = self._refusal(tx, vid, team.shift_id, now_s)
                    if refused is not None:
                        raise refused
                except (ConflictError, ValidationError) as e:
                    failed[vid] = e.message if isinstance(e, ValidationError) else str(e)
            if failed:
                raise TeamRefused(failed)
            free = capacity - self._holding(tx, team.shift_id)
            if free < len(team.members):
                raise TeamRefused({"": f"{max(0, free)} places left for a team of {len(team.members)}"})
            tx.run(
                "INSERT INTO team_signups (id, team_id, shift_id, status, members, created_by, created_s) "
                "VALUES (%s, %s, %s, 'confirmed', %s, %s, %s)",
                (team.id, team.team_id, team.shift_id, json.dumps(list(team.members)), team.by, now_s),
            )
            placed = []
            for i, vid in enumerate(team.members):
                prior = tx.one(f"{_SIGNUP} WHERE shift_id = %s AND volunteer_id = %s", (team.shift_id, vid))
                ident = self._enter(tx, f"{team.id}_{i}", prior, team.shift_id, vid, "confirmed", now_s)
                self._book(tx, vid, team.shift_id, True)
                insert_outcome(tx, "signed_up", vid, team.shift_id, now_s)
                one = self._get(tx, ident)
                tell(tx, one, MessageKind.SIGNUP_CONFIRMED, now_s, {"team": team.team_name})
                remind(tx, one, now_s)
                placed.append(one)
            self._log(tx, "shift", team.shift_id)
            return ("confirmed", placed, *self._places(tx, team.shift_id))

    @staticmethod
    def _refusal(tx: Tx, volunteer_id: str, shift_id: str, now_s: int) -> MatcherError | None:
        """What refuses the volunteer a place by the rules kept with the records rather than in
        the index: a minor needs a guardian's consent on record, and an activity open to an
        organisation's members takes only them. One query; members are looked up only for a
        members-only activity (few)."""
        row = tx.one(
            "SELECT v.birth_date, (SELECT count(*) FROM guardians g WHERE g.volunteer_id = v.id), "
            "(SELECT count(*) FROM activity_audiences a JOIN shifts s ON s.activity_id = a.activity_id "
            "WHERE s.id = %s) FROM volunteers v WHERE v.id = %s",
            (shift_id, volunteer_id),
        )
        if row is None:
            return None
        born = row[0] if row[0] is None or isinstance(row[0], date) else date.fromisoformat(str(row[0]))
        if is_minor(born, datetime.fromtimestamp(now_s, UTC).date()) and not int(row[1]):
            return ValidationError(
                "guardian",
                f"a volunteer under {ADULT_AGE} needs a guardian's consent on record before taking a place: "
                "add it to the profile (PUT /api/v1/volunteers/{id}/identity)",
            )
        refused = audience_refusal(tx, volunteer_id, shift_id) if int(row[2]) else None
        if refused is not None:
            return ConflictError(f"this activity is {refused}: ask to join the organisation first")
        return None

    def invite(self, signup_id: str, shift_id: str, volunteer_id: str, now_s: int) -> Signup:
        """An organiser's invitation: recorded, no place held until the volunteer accepts. A
        volunteer already signed up (or invited) keeps their sign-up as it is."""
        with self._begin() as tx:
            return self.invite_in(tx, signup_id, shift_id, volunteer_id, now_s)

    def invite_in(self, tx: Tx, signup_id: str, shift_id: str, volunteer_id: str, now_s: int) -> Signup:
        """:meth:`invite` within the caller's transaction (a campaign plan's invitations are
        sent together: :mod:`matcher.store.allocations`)."""
        starts_s, _ = self._lock_shift(tx, shift_id)
        if starts_s <= now_s:
            raise ValidationError("shift_id", "the shift has started: no more invitations")
        old = tx.one(f"{_SIGNUP} WHERE shift_id = %s AND volunteer_id = %s", (shift_id, volunteer_id))
        if old is not None and old[3] in (*ACTIVE, "invited"):
            return self._with_position(tx, _signup(old))
        refused = audience_refusal(tx, volunteer_id, shift_id)  # a minor's guardian is asked at accepting
        if refused is not None:
            raise ConflictError(f"this activity is {refused}: invite its members")
        signup_id = self._enter(tx, signup_id, old, shift_id, volunteer_id, "invited", now_s)
        insert_outcome(tx, "invited", volunteer_id, shift_id, now_s)
        invited = self._get(tx, signup_id)
        tell(tx, invited, MessageKind.INVITED, now_s)
        return invited

    def decline(self, signup_id: str, now_s: int) -> Signup:
        with self._begin() as tx:
            s = self._get(tx, signup_id)
            if s.status != "invited":
                raise ConflictError(f"sign-up {signup_id!r} is {s.status}: only an invitation is declined")
            tx.run("UPDATE signups SET status = 'declined' WHERE id = %s", (signup_id,))
            insert_outcome(tx, "declined", s.volunteer_id, s.shift_id, now_s)
            return self._get(tx, signup_id)

    def cancel(self, signup_id: str, now_s: int, policy: Policy) -> Signup:
        """Give up a place (or a place on the waitlist); a freed place is offered to the first
        on the waitlist."""
        return self.cancel_placed(signup_id, now_s, policy).signup

    def cancel_placed(
        self, signup_id: str, now_s: int, policy: Policy, *, volunteer_id: str | None = None
    ) -> Placed:
        """:meth:`cancel`, with the shift's places as it leaves them; with ``volunteer_id``, only
        that volunteer's sign-up (another's is not found: nothing about it leaks)."""
        with self._begin() as tx:
            s = self._get(tx, signup_id)
            if volunteer_id is not None and s.volunteer_id != volunteer_id:
                raise NotFoundError("sign-up", signup_id)
            return Placed(self._cancel(tx, s, now_s, policy), *self._places(tx, s.shift_id))

    def _cancel(self, tx: Tx, s: Signup, now_s: int, policy: Policy) -> Signup:
        signup_id = s.id
        starts_s, capacity = self._lock_shift(tx, s.shift_id)
        if s.status not in ACTIVE:
            raise ConflictError(f"sign-up {signup_id!r} is {s.status}: nothing to cancel")
        if starts_s <= now_s and s.status in HOLDING:
            raise ConflictError("the shift has started: ask the organiser to mark attendance instead")
        late = s.status == "confirmed" and starts_s - now_s < policy.cancel_cutoff_s
        status = "late_cancelled" if late else "cancelled"
        tx.run("UPDATE signups SET status = %s, offered_until_s = NULL WHERE id = %s", (status, signup_id))
        self._book(tx, s.volunteer_id, s.shift_id, False)
        insert_outcome(tx, "cancelled", s.volunteer_id, s.shift_id, now_s)
        drop_reminders(tx, signup_id, now_s)
        self._settle(tx, s.shift_id, now_s, capacity, policy)
        self._log(tx, "shift", s.shift_id)
        return self._get(tx, signup_id)

    def accept(self, signup_id: str, now_s: int, policy: Policy) -> Signup:
        """Take an offered place while the offer holds."""
        with self._begin() as tx:
            s = self._get(tx, signup_id)
            _, capacity = self._lock_shift(tx, s.shift_id)
            self._settle(tx, s.shift_id, now_s, capacity, policy)
            s = self._get(tx, signup_id)
            if s.status == "confirmed":
                return s
            if s.status != "offered":
                raise ConflictError(f"sign-up {signup_id!r} is {s.status}: there is no offer to accept")
            self._no_overlap(tx, s.volunteer_id, s.shift_id)
            tx.run(
                "UPDATE signups SET status = 'confirmed', offered_until_s = NULL WHERE id = %s", (signup_id,)
            )
            self._book(tx, s.volunteer_id, s.shift_id, True)
            insert_outcome(tx, "accepted", s.volunteer_id, s.shift_id, now_s)
            self._log(tx, "shift", s.shift_id)
            taken = self._get(tx, signup_id)
            tell(tx, taken, MessageKind.SIGNUP_CONFIRMED, now_s)
            remind(tx, taken, now_s)
            return taken

    def roster(self, shift_id: str, now_s: int, policy: Policy) -> list[Signup]:
        """Everyone signed up for the shift, places first, then the waitlist in order."""
        with self._begin() as tx:
            _, capacity = self._lock_shift(tx, shift_id)
            self._settle(tx, shift_id, now_s, capacity, policy)
            found = [_signup(r) for r in tx.all(f"{_SIGNUP} WHERE shift_id = %s ORDER BY seq", (shift_id,))]
        waiting = [s for s in found if s.status == "waitlisted"]
        ahead = {s.id: i + 1 for i, s in enumerate(waiting)}
        return [_replace_position(s, ahead.get(s.id)) for s in found]

    def signup(self, signup_id: str) -> Signup:
        with self._begin() as tx:
            return self._with_position(tx, self._get(tx, signup_id))

    def signups_of(self, volunteer_id: str) -> list[Signup]:
        with self._begin() as tx:
            found = tx.all(f"{_SIGNUP} WHERE volunteer_id = %s ORDER BY created_s, id", (volunteer_id,))
            return [self._with_position(tx, _signup(r)) for r in found]

    def places(self, shift_id: str) -> tuple[list[str], int]:
        """Who holds a confirmed place on the shift, and how many places are held (offers too)."""
        with self._begin() as tx:
            return self._places(tx, shift_id)

    def places_of(self, shift_ids: Sequence[str]) -> dict[str, tuple[list[str], int]]:
        """:meth:`places` of many shifts, in two queries (what a process following the change
        log reads for the shifts whose places changed since it last looked)."""
        if not shift_ids:
            return {}
        wanted = sorted(set(shift_ids))
        marks = ", ".join(["%s"] * len(wanted))
        with self._begin() as tx:
            found = tx.all(
                f"SELECT shift_id, volunteer_id, status FROM signups WHERE shift_id IN ({marks}) "
                "AND status IN ('confirmed', 'offered')",
                tuple(wanted),
            )
            booked = tx.all(
                f"SELECT shift_id, volunteer_id FROM bookings WHERE shift_id IN ({marks})", tuple(wanted)
            )
        return _tally(
            wanted, [(r[0], r[1], "confirmed") for r in booked] + [(r[0], r[1], r[2]) for r in found]
        )

    @staticmethod
    def _places(tx: Tx, shift_id: str) -> tuple[list[str], int]:
        found = tx.all(
            "SELECT volunteer_id, status FROM signups WHERE shift_id = %s AND status IN ('confirmed', 'offered')",
            (shift_id,),
        )
        booked = tx.all("SELECT volunteer_id FROM bookings WHERE shift_id = %s", (shift_id,))
        held = [(shift_id, r[0], "confirmed") for r in booked] + [(shift_id, r[0], r[1]) for r in found]
        return _tally([shift_id], held)[shift_id]

    def service_record(self, ident: int) -> ServiceRecord | None:
        with self._begin() as tx:
            r = tx.one(
                "SELECT volunteer_id, activity_id, shift_id, date, hours, attended, rating "
                "FROM service_records WHERE id = %s",
                (ident,),
            )
        if r is None:
            return None
        day = r[3] if isinstance(r[3], date) else date.fromisoformat(str(r[3]))
        return ServiceRecord(str(r[0]), str(r[1]), day, float(r[4]), bool(r[5]), shift_id=r[2], rating=r[6])

    # ------------------------------------------------------------------ attendance

    def check(self, signup_id: str, which: str, at_s: int) -> Signup:
        """Record a check-in or check-out time (``which``: "in" or "out") on a confirmed place."""
        column = {"in": "checked_in_s", "out": "checked_out_s"}[which]
        with self._begin() as tx:
            s = self._get(tx, signup_id)
            if s.status != "confirmed":
                raise ConflictError(
                    f"sign-up {signup_id!r} is {s.status}: only a confirmed place is checked in"
                )
            if which == "in" and at_s < self._starts(tx, s.shift_id) - CHECK_IN_OPENS_S:
                raise ValidationError("at", "check-in opens an hour before the shift starts")
            if which == "out" and (s.checked_in_s is None or at_s <= s.checked_in_s):
                raise ValidationError("at", "check-out must come after a check-in")
            tx.run(f"UPDATE signups SET {column} = %s WHERE id = %s", (at_s, signup_id))
            if which == "in" and s.checked_in_s is None:
                insert_outcome(tx, "attended", s.volunteer_id, s.shift_id, at_s)
            return self._get(tx, signup_id)

    def mark_no_show(self, signup_id: str, now_s: int, by: str) -> Signup:
        """After the shift: the volunteer held a place and did not come (on their record)."""
        with self._begin() as tx:
            s = self._get(tx, signup_id)
            ends_s, activity_id, day = self._shift_facts(tx, s.shift_id)
            if now_s < ends_s:
                raise ConflictError("a no-show is marked after the shift ends")
            if s.status != "confirmed" or s.checked_in_s is not None:
                raise ConflictError(f"sign-up {signup_id!r} is {s.status}, checked in: not a no-show")
            tx.run("UPDATE signups SET status = 'no_show' WHERE id = %s", (signup_id,))
            self._sync_booking(tx, signup_id)
            insert_outcome(tx, "no_show", s.volunteer_id, s.shift_id, now_s)
            record = self._one(
                tx,
                "INSERT INTO service_records (volunteer_id, activity_id, shift_id, date, hours, attended) "
                "VALUES (%s, %s, %s, %s, 0, %s) RETURNING id",
                (s.volunteer_id, activity_id, s.shift_id, day, False),
            )
            self._log(tx, "record", str(record))
            self._log(tx, "shift", s.shift_id)
            return self._get(tx, signup_id)

    # ------------------------------------------------------------------ hours

    def approve_hours(
        self,
        signup_id: str,
        hours: float | None,
        note: str,
        by: str,
        now_s: int,
        key: Idempotency | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """The organiser's approval of a place's hours (from the check times unless given): one
        ``attendance`` entry in the ledger and one service record. Returns the entry and
        whether it is the answer to an earlier attempt with the same key."""
        return self._idempotent(key, now_s, lambda tx: self._approve(tx, signup_id, hours, note, by, now_s))

    def correct_hours(
        self,
        volunteer_id: str,
        hours: float,
        note: str,
        by: str,
        now_s: int,
        shift_id: str | None = None,
        key: Idempotency | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """A correction: a further entry (negative to take hours away); the total may not fall
        below zero."""
        if hours == 0 or not -24 <= hours <= 24:
            raise ValidationError("hours", "a correction is a non-zero number of hours from -24 to 24")
        if not note.strip():
            raise ValidationError("note", "say why the hours are corrected")
        return self._idempotent(
            key, now_s, lambda tx: self._correct(tx, volunteer_id, hours, note, by, now_s, shift_id)
        )

    def _approve(
        self, tx: Tx, signup_id: str, hours: float | None, note: str, by: str, now_s: int
    ) -> dict[str, Any]:
        s = self._get(tx, signup_id)
        if s.status != "confirmed":
            raise ConflictError(
                f"sign-up {signup_id!r} is {s.status}: hours are approved for a confirmed place"
            )
        _, activity_id, day = self._shift_facts(tx, s.shift_id)
        if now_s < self._starts(tx, s.shift_id):
            raise ValidationError(
                "hours", "the shift has not started yet: approve its hours once it has taken place"
            )
        if hours is None:
            if s.checked_in_s is None or s.checked_out_s is None:
                raise ValidationError("hours", "no check-in and check-out on record: give the hours")
            hours = round((s.checked_out_s - s.checked_in_s) / 3600.0, 2)
        if not 0 < hours <= 24:
            raise ValidationError("hours", "must be more than 0 and at most 24 for one shift")
        done = "SELECT 1 FROM hours_ledger WHERE volunteer_id = %s AND shift_id = %s AND kind = 'attendance'"
        if tx.one(done, (s.volunteer_id, s.shift_id)):
            raise ConflictError("this place's hours are approved already: record a correction to change them")
        entry = self._append(
            tx, s.volunteer_id, activity_id, s.shift_id, "attendance", hours, note, by, now_s
        )
        record = self._one(
            tx,
            "INSERT INTO service_records (volunteer_id, activity_id, shift_id, date, hours, attended) "
            "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (s.volunteer_id, activity_id, s.shift_id, day, hours, True),
        )
        self._log(tx, "record", str(record))
        return entry.to_json()

    def _correct(
        self, tx: Tx, volunteer_id: str, hours: float, note: str, by: str, now_s: int, shift_id: str | None
    ) -> dict[str, Any]:
        if tx.one("SELECT 1 FROM volunteers WHERE id = %s", (volunteer_id,)) is None:
            raise NotFoundError("volunteer", volunteer_id)
        total = float(
            self._one(
                tx,
                "SELECT coalesce(sum(hours), 0) FROM hours_ledger WHERE volunteer_id = %s",
                (volunteer_id,),
            )
        )
        if total + hours < -1e-9:
            raise ValidationError("hours", f"the total would fall below zero (it is {total:g} h)")
        return self._append(tx, volunteer_id, None, shift_id, "correction", hours, note, by, now_s).to_json()

    def claim_hours(
        self,
        claim_id: str,
        volunteer_id: str,
        activity_id: str,
        shift_id: str | None,
        day: date,
        hours: float,
        note: str,
        by: str,
        now_s: int,
        key: Idempotency | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Hours of service done, to be approved by the activity's organisers (``pending``)."""
        if not 0 < hours <= 24:
            raise ValidationError("hours", "must be more than 0 and at most 24 for one day")

        def work(tx: Tx) -> dict[str, Any]:
            if tx.one("SELECT 1 FROM volunteers WHERE id = %s", (volunteer_id,)) is None:
                raise NotFoundError("volunteer", volunteer_id)
            if (
                shift_id is not None
                and tx.one("SELECT 1 FROM shifts WHERE id = %s AND activity_id = %s", (shift_id, activity_id))
                is None
            ):
                raise ValidationError("shift_id", f"no shift {shift_id!r} of activity {activity_id!r}")
            tx.run(
                "INSERT INTO hour_claims (id, volunteer_id, activity_id, shift_id, date, hours, note, submitted_by, "
                "submitted_s, status) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 'pending')",
                (claim_id, volunteer_id, activity_id, shift_id, day.isoformat(), hours, note, by, now_s),
            )
            return self._claim(tx, claim_id)

        return self._idempotent(key, now_s, work)

    def claim(self, claim_id: str) -> dict[str, Any]:
        with self._begin() as tx:
            return self._claim(tx, claim_id)

    def approve_claim(
        self, claim_id: str, by: str, now_s: int, key: Idempotency | None = None
    ) -> tuple[dict[str, Any], bool]:
        """The claimed hours become a ledger entry (``attendance`` for a shift: once per volunteer
        and shift; else ``manual``) and a service record."""

        def work(tx: Tx) -> dict[str, Any]:
            c = self._claim(tx, claim_id)
            if c["status"] != "pending":
                raise ConflictError(f"hour claim {claim_id!r} is approved already")
            kind = "manual" if c["shift_id"] is None else "attendance"
            if kind == "attendance" and tx.one(
                "SELECT 1 FROM hours_ledger WHERE volunteer_id = %s AND shift_id = %s AND kind = 'attendance'",
                (c["volunteer_id"], c["shift_id"]),
            ):
                raise ConflictError(
                    "hours for this shift are approved already: record a correction to change them"
                )
            entry = self._append(
                tx, c["volunteer_id"], c["activity_id"], c["shift_id"], kind, c["hours"], c["note"], by, now_s
            )
            record = self._one(
                tx,
                "INSERT INTO service_records (volunteer_id, activity_id, shift_id, date, hours, attended) "
                "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                (c["volunteer_id"], c["activity_id"], c["shift_id"], c["date"], c["hours"], True),
            )
            self._log(tx, "record", str(record))
            tx.run(
                "UPDATE hour_claims SET status = 'approved', ledger_id = %s WHERE id = %s",
                (entry.id, claim_id),
            )
            return {**self._claim(tx, claim_id), "entry": entry.to_json()}

        return self._idempotent(key, now_s, work)

    def _claim(self, tx: Tx, claim_id: str) -> dict[str, Any]:
        row = tx.one(
            "SELECT id, volunteer_id, activity_id, shift_id, date, hours, note, submitted_by, submitted_s, status, "
            "ledger_id FROM hour_claims WHERE id = %s",
            (claim_id,),
        )
        if row is None:
            raise NotFoundError("hour claim", claim_id)
        names = (
            "id",
            "volunteer_id",
            "activity_id",
            "shift_id",
            "date",
            "hours",
            "note",
            "submitted_by",
            "submitted_s",
            "status",
            "ledger_id",
        )
        c = dict(zip(names, row, strict=True))
        c["hours"] = float(c["hours"])
        c["date"] = str(c["date"])
        return c

    def served_hours(
        self, since: date, organisations: Sequence[str] | None = None
    ) -> list[tuple[str, str, float]]:
        """Hours of service attended since a date, per day and activity category:
        ``(ISO date, category, hours)``; what demand history is read from. With
        ``organisations``, only their activities' hours."""
        only, params = "", [since.isoformat()]
        if organisations is not None:
            only = f"AND a.organisation_id IN ({', '.join(['%s'] * max(1, len(organisations)))}) "
            params.extend(organisations or [""])
        with self._begin() as tx:
            found = tx.all(
                "SELECT CAST(r.date AS TEXT), a.category, sum(r.hours) FROM service_records r "
                f"JOIN activities a ON a.id = r.activity_id WHERE r.attended AND r.date >= %s {only}"
                "GROUP BY CAST(r.date AS TEXT), a.category ORDER BY 1, 2",
                tuple(params),
            )
        return [(str(d), str(c), float(h)) for d, c, h in found]

    def ledger(self, volunteer_id: str) -> list[LedgerEntry]:
        with self._begin() as tx:
            return [
                _entry(r) for r in tx.all(f"{_LEDGER} WHERE volunteer_id = %s ORDER BY id", (volunteer_id,))
            ]

    def _idempotent(
        self, key: Idempotency | None, now_s: int, work: Callable[[Tx], dict[str, Any]]
    ) -> tuple[dict[str, Any], bool]:
        """Run ``work`` in a transaction, once per idempotency key: the key, the request's hash
        and the answer are stored in that same transaction, so an attempt whose answer was lost
        still happened exactly once, and a retry gets that answer back (``True``: a replay)."""
        if key is None:
            with self._begin() as tx:
                return work(tx), False
        try:
            with self._begin() as tx:
                stored = self._stored(tx, key)
                if stored is not None:
                    return stored, True
                answer = work(tx)
                tx.run(
                    "INSERT INTO idempotency_keys (account_id, key, request_hash, status, response, created_s) "
                    "VALUES (%s, %s, %s, %s, %s, %s)",
                    (key.account_id, key.key, key.request_hash, 201, json.dumps(answer), now_s),
                )
                return answer, False
        except self._unique:
            # Two attempts with the same key at once: the one that committed first stands.
            with self._begin() as tx:
                stored = self._stored(tx, key)
            if stored is None:
                raise ConflictError(
                    "a request with this Idempotency-Key is in progress: retry shortly"
                ) from None
            return stored, True

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _log(tx: Tx, kind: str, ident: str) -> None:
        """What changed, for every process serving from this store (``api.service.Live``)."""
        tx.run("INSERT INTO changes (kind, ident) VALUES (%s, %s)", (kind, ident))

    def _stored(self, tx: Tx, key: Idempotency) -> dict[str, Any] | None:
        row = tx.one(
            "SELECT request_hash, response FROM idempotency_keys WHERE account_id = %s AND key = %s",
            (key.account_id, key.key),
        )
        if row is None:
            return None
        if row[0] != key.request_hash:
            raise ValidationError("Idempotency-Key", "was used for a different request: use a new key")
        answer: dict[str, Any] = json.loads(row[1])
        return answer

    def _append(
        self,
        tx: Tx,
        volunteer_id: str,
        activity_id: str | None,
        shift_id: str | None,
        kind: str,
        hours: float,
        note: str,
        by: str,
        now_s: int,
    ) -> LedgerEntry:
        ident = self._one(
            tx,
            "INSERT INTO hours_ledger (volunteer_id, activity_id, shift_id, kind, hours, note, recorded_by, recorded_s) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (volunteer_id, activity_id, shift_id, kind, hours, note, by, now_s),
        )
        told = MessageKind.HOURS_CORRECTED if kind == "correction" else MessageKind.HOURS_APPROVED
        tell_volunteer(
            tx,
            volunteer_id,
            told,
            now_s,
            f"ledger:{ident}",
            shift_id=shift_id,
            detail={"hours": hours, "note": note},
        )
        self._tell_tier(tx, volunteer_id, hours, now_s)
        return LedgerEntry(int(ident), volunteer_id, activity_id, shift_id, kind, hours, note, by, now_s)

    def _tell_tier(self, tx: Tx, volunteer_id: str, hours: float, now_s: int) -> None:
        """The volunteer told when an entry takes their total past a star tier (each tier once,
        however their total moves afterwards)."""
        total = float(
            self._one(
                tx,
                "SELECT coalesce(sum(hours), 0) FROM hours_ledger WHERE volunteer_id = %s",
                (volunteer_id,),
            )
        )
        tiers = Tiers(self.tier_hours)
        before, after = tiers.standing(total - hours).stars, tiers.standing(total).stars
        if after > before:
            tell_volunteer(
                tx, volunteer_id, MessageKind.TIER_REACHED, now_s, f"tier:{volunteer_id}:{after}",
                detail={"stars": after, "hours": round(total, 2)},
            )  # fmt: skip

    def _enter(
        self,
        tx: Tx,
        signup_id: str,
        old: tuple[Any, ...] | None,
        shift_id: str,
        volunteer_id: str,
        status: str,
        now_s: int,
    ) -> str:
        """Put the volunteer on the shift's list with ``status``, last in order of arrival: a new
        sign-up, or their earlier one (cancelled, declined, ...) started afresh. Returns its id."""
        seq = int(
            self._one(tx, "SELECT coalesce(max(seq), 0) + 1 FROM signups WHERE shift_id = %s", (shift_id,))
        )
        if old is None:
            tx.run(
                "INSERT INTO signups (id, shift_id, volunteer_id, status, seq, created_s) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (signup_id, shift_id, volunteer_id, status, seq, now_s),
            )
            return signup_id
        tx.run(
            "UPDATE signups SET status = %s, seq = %s, created_s = %s, offered_until_s = NULL, "
            "checked_in_s = NULL, checked_out_s = NULL WHERE id = %s",
            (status, seq, now_s, old[0]),
        )
        return str(old[0])

    def _lock_shift(self, tx: Tx, shift_id: str) -> tuple[int, int]:
        row = tx.one("SELECT starts_utc, capacity FROM shifts WHERE id = %s FOR UPDATE", (shift_id,))
        if row is None:
            raise NotFoundError("shift", shift_id)
        return int(row[0]), int(row[1])

    def _no_overlap(self, tx: Tx, volunteer_id: str, shift_id: str) -> None:
        """Refuse a place that overlaps one the volunteer holds. The volunteer's row is locked
        first, so two sign-ups of one person for overlapping shifts, at the same moment and in
        different processes, cannot both pass (each locks only its own shift's row)."""
        tx.one("SELECT 1 FROM volunteers WHERE id = %s FOR UPDATE", (volunteer_id,))
        clash = tx.one(
            "SELECT b.shift_id FROM bookings b JOIN shifts o ON o.id = b.shift_id "
            "JOIN shifts n ON n.id = %s "
            "WHERE b.volunteer_id = %s AND b.shift_id <> n.id "
            "AND o.starts_utc < n.ends_utc AND o.ends_utc > n.starts_utc",
            (shift_id, volunteer_id),
        )
        if clash is not None:
            raise ConflictError(f"the volunteer holds a place on shift {clash[0]!r} at the same time")

    def _starts(self, tx: Tx, shift_id: str) -> int:
        return int(self._one(tx, "SELECT starts_utc FROM shifts WHERE id = %s", (shift_id,)))

    def _shift_facts(self, tx: Tx, shift_id: str) -> tuple[int, str, str]:
        row = tx.one("SELECT ends_utc, activity_id, starts_at FROM shifts WHERE id = %s", (shift_id,))
        if row is None:
            raise NotFoundError("shift", shift_id)
        return int(row[0]), str(row[1]), _local_day(row[2])

    def _holding(self, tx: Tx, shift_id: str) -> int:
        return int(
            self._one(
                tx,
                "SELECT count(*) FROM signups WHERE shift_id = %s AND status IN ('confirmed', 'offered')",
                (shift_id,),
            )
        )

    def _settle(self, tx: Tx, shift_id: str, now_s: int, capacity: int, policy: Policy) -> None:
        """Offers not accepted in time expire; free places go, in waitlist order, to those
        waiting (as offers to hold until they accept or the hold ends). Each is told, in this
        transaction: the lapse, and the offer with its deadline (urgent: the hold is short)."""
        lapsed = tx.all(
            f"{_SIGNUP} WHERE shift_id = %s AND status = 'offered' AND offered_until_s < %s",
            (shift_id, now_s),
        )
        if lapsed:
            tx.run(
                "UPDATE signups SET status = 'expired' WHERE shift_id = %s AND status = 'offered' "
                "AND offered_until_s < %s",
                (shift_id, now_s),
            )
            for row in lapsed:
                tell(tx, _signup(row), MessageKind.OFFER_LAPSED, now_s)
        free = capacity - self._holding(tx, shift_id)
        if free <= 0:
            return
        until = now_s + policy.offer_hold_s
        for (ident,) in tx.all(
            "SELECT id FROM signups WHERE shift_id = %s AND status = 'waitlisted' ORDER BY seq LIMIT %s",
            (shift_id, free),
        ):
            tx.run(
                "UPDATE signups SET status = 'offered', offered_until_s = %s WHERE id = %s", (until, ident)
            )
            tell(tx, self._get(tx, str(ident)), MessageKind.OFFERED, now_s, {"until_s": until}, urgent=True)

    def _sync_booking(self, tx: Tx, signup_id: str) -> None:
        """The bookings table (what the matching core sees as a held place) follows the sign-up."""
        s = self._get(tx, signup_id)
        self._book(tx, s.volunteer_id, s.shift_id, s.status == "confirmed")

    @staticmethod
    def _book(tx: Tx, volunteer_id: str, shift_id: str, holds: bool) -> None:
        """The booking of a sign-up whose status this transaction just set: held (confirmed) or
        not."""
        if holds:
            tx.run(
                "INSERT INTO bookings (volunteer_id, shift_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (volunteer_id, shift_id),
            )
        else:
            tx.run("DELETE FROM bookings WHERE volunteer_id = %s AND shift_id = %s", (volunteer_id, shift_id))

    def _get(self, tx: Tx, signup_id: str) -> Signup:
        row = tx.one(f"{_SIGNUP} WHERE id = %s", (signup_id,))
        if row is None:
            raise NotFoundError("sign-up", signup_id)
        return _signup(row)

    def _with_position(self, tx: Tx, s: Signup) -> Signup:
        if s.status != "waitlisted":
            return s
        ahead = self._one(
            tx,
            "SELECT count(*) FROM signups WHERE shift_id = %s AND status = 'waitlisted' AND seq < %s",
            (s.shift_id, s.seq),
        )
        return _replace_position(s, int(ahead) + 1)

    @staticmethod
    def _one(tx: Tx, sql: str, params: tuple[Any, ...]) -> Any:
        row = tx.one(sql, params)
        assert row is not None
        return row[0]


def _tally(
    shift_ids: Sequence[str], held: Sequence[tuple[Any, Any, str]]
) -> dict[str, tuple[list[str], int]]:
    """Per shift: who holds a confirmed place (a booking or a confirmed sign-up) and how many
    places are held (offers too), from (shift, volunteer, status) rows."""
    confirmed: dict[str, set[str]] = {s: set() for s in shift_ids}
    offered = dict.fromkeys(shift_ids, 0)
    for shift, volunteer, status in held:
        if status == "confirmed":
            confirmed[str(shift)].add(str(volunteer))
        elif status == "offered":
            offered[str(shift)] += 1
    return {s: (sorted(confirmed[s]), len(confirmed[s]) + offered[s]) for s in shift_ids}


def _signup(r: tuple[Any, ...]) -> Signup:
    return Signup(
        str(r[0]),
        str(r[1]),
        str(r[2]),
        SignupStatus(r[3]),
        int(r[4]),
        int(r[5]),
        None if r[6] is None else int(r[6]),
        None if r[7] is None else int(r[7]),
        None if r[8] is None else int(r[8]),
    )


def _replace_position(s: Signup, position: int | None) -> Signup:
    return Signup(**{**asdict(s), "position": position})


def _entry(r: tuple[Any, ...]) -> LedgerEntry:
    return LedgerEntry(
        int(r[0]), str(r[1]), r[2], r[3], str(r[4]), float(r[5]), str(r[6]), str(r[7]), int(r[8])
    )


def _local_day(starts_at: Any) -> str:
    """The shift's date where it happens (its start as given, with its offset)."""
    if isinstance(starts_at, datetime):
        return starts_at.date().isoformat()
    return datetime.fromisoformat(str(starts_at)).date().isoformat()


def insert_outcome(
    tx: Tx,
    kind: str,
    volunteer_id: str,
    shift_id: str,
    at_s: float,
    value: float | None = None,
    account_id: str | None = None,
) -> None:
    """An outcome for a volunteer on a shift, in the caller's transaction."""
    if kind not in OUTCOMES:
        raise ValidationError("kind", f"must be one of {sorted(OUTCOMES)}")
    tx.run(
        "INSERT INTO outcomes (at_s, volunteer_id, activity_id, shift_id, kind, value, account_id) "
        "SELECT %s, %s, activity_id, id, %s, %s, %s FROM shifts WHERE id = %s",
        (at_s, volunteer_id, kind, value, account_id, shift_id),
    )
