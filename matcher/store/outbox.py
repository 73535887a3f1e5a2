"""The outbox: what a change tells volunteers, written in the change's own transaction, so
nothing is told about a change that rolled back and no change goes untold. One SQL for both
stores.

Each event is one message (``event_key``: the same event written twice keeps one row), shown in
the volunteer's console inbox from its ``due_s``. Beside the inbox, a message gets one delivery
per channel the volunteer can be reached on and chose (:mod:`matcher.operations.notices`): an
e-mail address on record; for SMS and WeChat a number they verified. Kinds they muted stay in the
inbox. A message that is not urgent waits out their quiet hours, and past their weekly cap it
stays in the inbox. Reminders are messages due before the shift, dropped with their deliveries
when the place is given up."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from matcher.model.vocabulary import MessageKind, NoticeChannel
from matcher.operations.notices import (
    REMINDER_MINUTES,
    WEEK_S,
    NoticePreferences,
    reminder_due_s,
)
from matcher.store.tx import Tx

UNCAPPED = frozenset(
    {MessageKind.REMINDER, MessageKind.PHONE_CODE, MessageKind.SHIFT_CHANGED, MessageKind.SHIFT_CANCELLED}
)
"""Kinds the weekly cap leaves alone: about a place the volunteer took, or a code they asked for."""

PREFERENCES_COLUMNS = "channels, muted, quiet_start, quiet_end, max_per_week, language"


class Told(Protocol):
    """What the outbox needs of a sign-up."""

    @property
    def id(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def volunteer_id(self) -> str: ...
    @property
    def shift_id(self) -> str: ...


def preferences_from(row: Sequence[Any] | None) -> NoticePreferences:
    """A volunteer's choices from a row of :data:`PREFERENCES_COLUMNS` (None: the defaults)."""
    if row is None or row[0] is None:
        return NoticePreferences()
    return NoticePreferences(
        tuple(NoticeChannel(c) for c in json.loads(row[0])),
        tuple(MessageKind(k) for k in json.loads(row[1])),
        str(row[2]),
        str(row[3]),
        int(row[4]),
        str(row[5]),
    )


_WHO = (
    f"SELECT v.email, v.timezone, v.phone, pv.phone, {', '.join('p.' + c for c in PREFERENCES_COLUMNS.split(', '))} "
    "FROM volunteers v LEFT JOIN phone_verifications pv ON pv.volunteer_id = v.id "
    "LEFT JOIN notice_preferences p ON p.volunteer_id = v.id WHERE v.id = %s"
)


def tell(
    tx: Tx,
    s: Told,
    kind: MessageKind,
    now_s: int,
    detail: dict[str, Any] | None = None,
    *,
    urgent: bool = False,
) -> None:
    """Tell a sign-up's volunteer about it (the event is the sign-up in its current round,
    ``seq``, reaching ``kind``: told once however often it is written)."""
    tell_volunteer(
        tx, s.volunteer_id, kind, now_s, f"{s.id}:{s.seq}:{kind.value}",
        shift_id=s.shift_id, signup_id=s.id, detail=detail, urgent=urgent,
    )  # fmt: skip


def tell_volunteer(
    tx: Tx,
    volunteer_id: str,
    kind: MessageKind,
    now_s: int,
    event_key: str,
    *,
    shift_id: str | None = None,
    signup_id: str | None = None,
    detail: dict[str, Any] | None = None,
    urgent: bool = False,
    due_s: int | None = None,
) -> int | None:
    """A message for the volunteer, due now or at ``due_s``, with its deliveries as their
    choices allow; returns its id, or None when the event was told already."""
    detail = dict(detail or {})
    if shift_id is not None and "title" not in detail:  # worded as it was when told
        detail["title"] = _title(tx, shift_id)
    due = now_s if due_s is None else due_s
    told = tx.one(
        "INSERT INTO messages (volunteer_id, kind, urgent, shift_id, signup_id, detail, event_key, created_s, due_s) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (event_key) DO NOTHING RETURNING id",
        (volunteer_id, kind.value, urgent, shift_id, signup_id, json.dumps(detail, ensure_ascii=False),
         event_key, now_s, due),
    )  # fmt: skip
    if told is None:
        return None
    message_id = int(told[0])
    who = tx.one(_WHO, (volunteer_id,))
    if who is None:
        return message_id
    email, tz, phone, verified, *prefs_row = who
    prefs = preferences_from(prefs_row)
    channels = _reachable(kind, prefs, email, phone, verified)
    if not channels:
        return message_id
    if not urgent and kind not in UNCAPPED and _sent_this_week(tx, volunteer_id, due) >= prefs.max_per_week:
        return message_id  # past the weekly cap: the inbox has it
    send_s = due if urgent or kind == MessageKind.REMINDER else prefs.release_s(due, str(tz))
    tx.run_many(
        "INSERT INTO deliveries (message_id, channel, status, next_s) VALUES (%s, %s, 'pending', %s)",
        [(message_id, c.value, send_s) for c in channels],
    )
    return message_id


def _reachable(
    kind: MessageKind, prefs: NoticePreferences, email: str | None, phone: str | None, verified: str | None
) -> list[NoticeChannel]:
    """The channels this message goes out on: chosen, not muted for its kind, with an address;
    SMS and WeChat only to the number the volunteer verified (a phone code goes by SMS to the
    number being verified, named in its detail)."""
    if kind == MessageKind.PHONE_CODE:
        return [NoticeChannel.SMS]
    if kind in prefs.muted:
        return []
    consented = verified is not None and verified == phone
    return [
        c
        for c in prefs.channels
        if (c == NoticeChannel.EMAIL and bool(email)) or (c != NoticeChannel.EMAIL and consented)
    ]


def _sent_this_week(tx: Tx, volunteer_id: str, at_s: int) -> int:
    """Non-urgent messages that went (or will go) beyond the inbox in the 7 days up to ``at_s``."""
    row = tx.one(
        "SELECT count(*) FROM messages m WHERE m.volunteer_id = %s AND NOT m.urgent "
        "AND m.due_s > %s AND m.due_s <= %s AND m.kind NOT IN ('reminder', 'phone_code') AND m.dropped_s IS NULL "
        "AND EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.status <> 'dropped')",
        (volunteer_id, at_s - WEEK_S, at_s),
    )
    return int(row[0]) if row else 0


def _title(tx: Tx, shift_id: str) -> str:
    row = tx.one(
        "SELECT a.title FROM shifts s JOIN activities a ON a.id = s.activity_id WHERE s.id = %s", (shift_id,)
    )
    return "" if row is None else str(row[0])


def remind(tx: Tx, s: Told, now_s: int) -> None:
    """Reminders of a confirmed place, due before its shift at the activity's reminder times
    (default 24 h and 2 h), moved out of the volunteer's quiet hours; those already past are
    not written."""
    row = tx.one(
        "SELECT s.starts_utc, r.minutes, v.timezone FROM shifts s LEFT JOIN activity_reminders r "
        "ON r.activity_id = s.activity_id JOIN volunteers v ON v.id = %s WHERE s.id = %s",
        (s.volunteer_id, s.shift_id),
    )
    if row is None:
        return
    starts_s, minutes, tz = int(row[0]), row[1], str(row[2])
    prefs = preferences_from(
        tx.one(
            f"SELECT {PREFERENCES_COLUMNS} FROM notice_preferences WHERE volunteer_id = %s", (s.volunteer_id,)
        )
    )
    for m in REMINDER_MINUTES if minutes is None else json.loads(minutes):
        due = reminder_due_s(starts_s, int(m), tz, prefs)
        if due > now_s:
            tell_volunteer(
                tx, s.volunteer_id, MessageKind.REMINDER, now_s, f"{s.id}:{s.seq}:reminder:{m}:{starts_s}",
                shift_id=s.shift_id, signup_id=s.id, detail={"minutes": int(m), "starts_s": starts_s}, due_s=due,
            )  # fmt: skip


def drop_reminders(tx: Tx, signup_id: str, now_s: int) -> None:
    """A given-up place's reminders not yet due: dropped, and their deliveries with them."""
    tx.run(
        "UPDATE deliveries SET status = 'dropped' WHERE status = 'pending' AND message_id IN "
        "(SELECT id FROM messages WHERE signup_id = %s AND kind = 'reminder' AND due_s > %s AND dropped_s IS NULL)",
        (signup_id, now_s),
    )
    tx.run(
        "UPDATE messages SET dropped_s = %s WHERE signup_id = %s AND kind = 'reminder' AND due_s > %s "
        "AND dropped_s IS NULL",
        (now_s, signup_id, now_s),
    )


EACH = "json_array_elements_text(%s::json) AS j"
"""The rows of a JSON list of ids, one statement for any number (SQLite reads it as
``json_each(%s)``; both name the element ``value``)."""


@dataclass(frozen=True)
class _Place:
    id: str
    seq: int
    volunteer_id: str
    shift_id: str


_ACTIVE = (
    "SELECT id, seq, volunteer_id, shift_id, status FROM signups WHERE shift_id = %s "
    "AND status IN ('confirmed', 'offered', 'waitlisted')"
)


def shift_times(tx: Tx, activity_id: str) -> dict[str, tuple[int, int]]:
    """The activity's shifts as they are before an organiser's change: id -> (start, end)."""
    rows = tx.all("SELECT id, starts_utc, ends_utc FROM shifts WHERE activity_id = %s", (activity_id,))
    return {str(r[0]): (int(r[1]), int(r[2])) for r in rows}


def tell_cancelled(tx: Tx, activity_id: str, kept: set[str] | None, now_s: int) -> None:
    """Before the activity's shifts not ``kept`` (None: all of them) are removed: everyone holding
    or waiting for a place on them is told (urgent: they may be on their way), and their
    reminders are dropped."""
    for shift_id, (starts_s, _) in shift_times(tx, activity_id).items():
        if kept is not None and shift_id in kept:
            continue
        for r in tx.all(_ACTIVE, (shift_id,)):
            place = _Place(str(r[0]), int(r[1]), str(r[2]), str(r[3]))
            drop_reminders(tx, place.id, now_s)
            tell_volunteer(
                tx, place.volunteer_id, MessageKind.SHIFT_CANCELLED, now_s, f"{place.id}:{place.seq}:cancelled",
                shift_id=shift_id, signup_id=place.id, detail={"starts_s": starts_s}, urgent=True,
            )  # fmt: skip


def tell_moved(tx: Tx, before: dict[str, tuple[int, int]], now_s: int) -> None:
    """After an organiser's change: everyone on a shift whose times changed is told the new ones,
    and a confirmed place's reminders follow the new start."""
    for shift_id, was in before.items():
        row = tx.one("SELECT starts_utc, ends_utc FROM shifts WHERE id = %s", (shift_id,))
        if row is None or (int(row[0]), int(row[1])) == was:
            continue
        starts_s, ends_s = int(row[0]), int(row[1])
        for r in tx.all(_ACTIVE, (shift_id,)):
            place = _Place(str(r[0]), int(r[1]), str(r[2]), str(r[3]))
            tell_volunteer(
                tx, place.volunteer_id, MessageKind.SHIFT_CHANGED, now_s,
                f"{place.id}:{place.seq}:moved:{starts_s}:{ends_s}", shift_id=shift_id, signup_id=place.id,
                detail={"starts_s": starts_s, "was_s": was[0]},
            )  # fmt: skip
            if r[4] == "confirmed":
                drop_reminders(tx, place.id, now_s)
                remind(tx, place, now_s)


def tell_many(
    tx: Tx,
    volunteer_ids: Sequence[str],
    kind: MessageKind,
    now_s: int,
    event_prefix: str,
    *,
    shift_id: str,
    detail: dict[str, Any],
    urgent: bool,
) -> int:
    """One urgent message to each of many volunteers (an emergency call's wave), set-based: the
    messages in one batch, their deliveries in one statement per channel. Urgent: quiet hours
    and the weekly cap do not hold it back; muted kinds and consent still do. Returns how many
    were told (those told already are not told again)."""
    assert urgent, "only urgent messages skip the per-volunteer rules"
    text = json.dumps(detail | {"title": detail.get("title") or _title(tx, shift_id)}, ensure_ascii=False)
    before = tx.one("SELECT coalesce(max(id), 0) FROM messages")
    floor = int(before[0]) if before else 0
    tx.run(
        "INSERT INTO messages (volunteer_id, kind, urgent, shift_id, detail, event_key, created_s, due_s) "
        f"SELECT j.value, %s, TRUE, %s, %s, %s || j.value, %s, %s FROM {EACH} WHERE TRUE "
        "ON CONFLICT (event_key) DO NOTHING",
        (kind.value, shift_id, text, f"{event_prefix}:", now_s, now_s, json.dumps(list(volunteer_ids))),
    )
    chosen = "(p.volunteer_id IS NULL OR (p.channels LIKE %s AND p.muted NOT LIKE %s))"
    mine = "m.id > %s AND m.event_key LIKE %s"
    muted = f'%"{kind.value}"%'
    tx.run(
        "INSERT INTO deliveries (message_id, channel, status, next_s) SELECT m.id, 'email', 'pending', %s "
        "FROM messages m JOIN volunteers v ON v.id = m.volunteer_id "
        f"LEFT JOIN notice_preferences p ON p.volunteer_id = v.id WHERE {mine} AND coalesce(v.email, '') <> '' "
        f"AND {chosen} ON CONFLICT DO NOTHING",
        (now_s, floor, f"{event_prefix}:%", '%"email"%', muted),
    )
    for channel in (NoticeChannel.SMS, NoticeChannel.WECHAT):
        tx.run(
            "INSERT INTO deliveries (message_id, channel, status, next_s) SELECT m.id, %s, 'pending', %s "
            "FROM messages m JOIN volunteers v ON v.id = m.volunteer_id "
            "JOIN phone_verifications pv ON pv.volunteer_id = v.id AND pv.phone = v.phone "
            f"LEFT JOIN notice_preferences p ON p.volunteer_id = v.id WHERE {mine} AND {chosen} ON CONFLICT DO NOTHING",
            (channel.value, now_s, floor, f"{event_prefix}:%", f'%"{channel.value}"%', muted),
        )
    row = tx.one(f"SELECT count(*) FROM messages m WHERE {mine}", (floor, f"{event_prefix}:%"))
    return int(row[0]) if row else 0
