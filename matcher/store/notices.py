"""What shapes how volunteers are told: their choices, the phone numbers they proved, each
activity's reminder times, and admins' rewording of messages. One SQL for both stores."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace

from matcher.model.errors import ConflictError, NotFoundError, ValidationError
from matcher.model.vocabulary import MessageKind
from matcher.operations.notices import REMINDER_MINUTES, NoticePreferences
from matcher.store.outbox import PREFERENCES_COLUMNS, preferences_from, tell_volunteer
from matcher.store.tx import Tx

CODE_TTL_S = 10 * 60
"""A phone code is good for ten minutes."""
CODE_TRIES = 5
"""Wrong guesses before a code is spent."""
CODES_PER_HOUR = 5
"""Codes sent to one volunteer, or to one number, in any hour."""


def _code_hash(volunteer_id: str, phone: str, code: str) -> str:
    return hmac.new(f"{volunteer_id}|{phone}".encode(), code.encode(), hashlib.sha256).hexdigest()


class Notices:
    def __init__(self, begin: Callable[[], AbstractContextManager[Tx]]) -> None:
        self._begin = begin

    def _volunteer(self, tx: Tx, volunteer_id: str) -> None:
        if tx.one("SELECT 1 FROM volunteers WHERE id = %s", (volunteer_id,)) is None:
            raise NotFoundError("volunteer", volunteer_id)

    # ------------------------------------------------------------------ preferences

    def preferences(self, volunteer_id: str) -> tuple[NoticePreferences, str | None]:
        """The volunteer's choices (the defaults if they made none) and their verified number."""
        with self._begin() as tx:
            self._volunteer(tx, volunteer_id)
            row = tx.one(
                f"SELECT {PREFERENCES_COLUMNS} FROM notice_preferences WHERE volunteer_id = %s",
                (volunteer_id,),
            )
            phone = tx.one(
                "SELECT pv.phone FROM phone_verifications pv JOIN volunteers v ON v.id = pv.volunteer_id "
                "AND v.phone = pv.phone WHERE pv.volunteer_id = %s",
                (volunteer_id,),
            )
        return preferences_from(row), None if phone is None else str(phone[0])

    def set_preferences(self, volunteer_id: str, prefs: NoticePreferences, now_s: int) -> None:
        j = prefs.to_json()
        row = (json.dumps(j["channels"]), json.dumps(j["muted"]), prefs.quiet_start, prefs.quiet_end,
               prefs.max_per_week, prefs.language, now_s, volunteer_id)  # fmt: skip
        with self._begin() as tx:
            self._volunteer(tx, volunteer_id)
            if (
                tx.run(
                    "UPDATE notice_preferences SET channels = %s, muted = %s, quiet_start = %s, quiet_end = %s, "
                    "max_per_week = %s, language = %s, updated_s = %s WHERE volunteer_id = %s",
                    row,
                )
                == 0
            ):
                tx.run(
                    "INSERT INTO notice_preferences (channels, muted, quiet_start, quiet_end, max_per_week, "
                    "language, updated_s, volunteer_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    row,
                )

    def unsubscribe(self, volunteer_id: str, channel: str, now_s: int) -> None:
        """The channel dropped from the volunteer's choices (the link in every e-mail), and what
        was still waiting to go out on it."""
        prefs, _ = self.preferences(volunteer_id)
        fewer = replace(prefs, channels=tuple(c for c in prefs.channels if c.value != channel))
        self.set_preferences(volunteer_id, fewer, now_s)
        with self._begin() as tx:
            tx.run(
                "UPDATE deliveries SET status = 'dropped' WHERE channel = %s AND status = 'pending' "
                "AND message_id IN (SELECT id FROM messages WHERE volunteer_id = %s)",
                (channel, volunteer_id),
            )

    # ------------------------------------------------------------------ phone numbers

    def send_phone_code(self, volunteer_id: str, phone: str, code: str, now_s: int) -> None:
        """A code to prove ``phone`` (E.164) is the volunteer's, told by SMS to that number;
        at most :data:`CODES_PER_HOUR` an hour to a volunteer or to a number."""
        with self._begin() as tx:
            self._volunteer(tx, volunteer_id)
            recent = tx.one(
                "SELECT count(*) FROM phone_codes WHERE (volunteer_id = %s OR phone = %s) AND created_s > %s",
                (volunteer_id, phone, now_s - 3600),
            )
            if recent is not None and int(recent[0]) >= CODES_PER_HOUR:
                raise ConflictError(f"{CODES_PER_HOUR} codes were sent in the last hour: try again later")
            ident = tx.one(
                "INSERT INTO phone_codes (volunteer_id, phone, code_hash, created_s, expires_s) "
                "VALUES (%s, %s, %s, %s, %s) RETURNING id",
                (volunteer_id, phone, _code_hash(volunteer_id, phone, code), now_s, now_s + CODE_TTL_S),
            )
            assert ident is not None
            tell_volunteer(
                tx, volunteer_id, MessageKind.PHONE_CODE, now_s, f"phone:{ident[0]}",
                detail={"code": code, "to": phone, "minutes": CODE_TTL_S // 60}, urgent=True,
            )  # fmt: skip

    def verify_phone(self, volunteer_id: str, code: str, now_s: int) -> str:
        """The volunteer's latest code checked; right, its number becomes theirs, verified (SMS
        and WeChat may go to it). Returns the number."""
        with self._begin() as tx:
            row = tx.one(
                "SELECT id, phone, code_hash, expires_s, tries, used_s FROM phone_codes WHERE volunteer_id = %s "
                "ORDER BY id DESC LIMIT 1 FOR UPDATE",
                (volunteer_id,),
            )
            if row is None:
                raise NotFoundError("phone code for volunteer", volunteer_id)
            ident, phone, hashed, expires_s, tries, used_s = row
            if used_s is not None or int(expires_s) < now_s or int(tries) >= CODE_TRIES:
                raise ConflictError("this code has expired or been used: ask for a new one")
            right = hmac.compare_digest(str(hashed), _code_hash(volunteer_id, str(phone), code))
            if not right:  # the wrong guess is counted (kept: the error is raised after commit)
                tx.run("UPDATE phone_codes SET tries = tries + 1 WHERE id = %s", (ident,))
        if not right:
            raise ValidationError("code", f"wrong code ({CODE_TRIES - int(tries) - 1} tries left)")
        with self._begin() as tx:
            if (
                tx.run("UPDATE phone_codes SET used_s = %s WHERE id = %s AND used_s IS NULL", (now_s, ident))
                == 0
            ):
                raise ConflictError("this code has been used: ask for a new one")
            tx.run("UPDATE volunteers SET phone = %s WHERE id = %s", (phone, volunteer_id))
            tx.run("INSERT INTO changes (kind, ident) VALUES ('volunteer', %s)", (volunteer_id,))
            if tx.run("UPDATE phone_verifications SET phone = %s, verified_s = %s WHERE volunteer_id = %s",
                      (phone, now_s, volunteer_id)) == 0:  # fmt: skip
                tx.run(
                    "INSERT INTO phone_verifications (volunteer_id, phone, verified_s) VALUES (%s, %s, %s)",
                    (volunteer_id, phone, now_s),
                )
        return str(phone)

    # ------------------------------------------------------------------ reminders

    def reminder_minutes(self, activity_id: str) -> tuple[int, ...]:
        with self._begin() as tx:
            if tx.one("SELECT 1 FROM activities WHERE id = %s", (activity_id,)) is None:
                raise NotFoundError("activity", activity_id)
            row = tx.one("SELECT minutes FROM activity_reminders WHERE activity_id = %s", (activity_id,))
        return REMINDER_MINUTES if row is None else tuple(int(m) for m in json.loads(row[0]))

    def set_reminder_minutes(self, activity_id: str, minutes: tuple[int, ...]) -> None:
        """The activity's reminder times, for places confirmed from now on."""
        with self._begin() as tx:
            if tx.one("SELECT 1 FROM activities WHERE id = %s", (activity_id,)) is None:
                raise NotFoundError("activity", activity_id)
            text = json.dumps(list(minutes))
            if (
                tx.run(
                    "UPDATE activity_reminders SET minutes = %s WHERE activity_id = %s", (text, activity_id)
                )
                == 0
            ):
                tx.run(
                    "INSERT INTO activity_reminders (activity_id, minutes) VALUES (%s, %s)",
                    (activity_id, text),
                )

    # ------------------------------------------------------------------ wording

    def templates(self) -> dict[tuple[str, str], tuple[str, str]]:
        """Admins' rewording: (kind, language) -> (subject, body)."""
        with self._begin() as tx:
            rows = tx.all("SELECT kind, language, subject, body FROM message_templates", ())
        return {(str(r[0]), str(r[1])): (str(r[2]), str(r[3])) for r in rows}

    def set_templates(self, kind: str, wording: dict[str, tuple[str, str]], now_s: int) -> None:
        """A kind's wording in every language at once (so no language is left behind)."""
        with self._begin() as tx:
            tx.run("DELETE FROM message_templates WHERE kind = %s", (kind,))
            tx.run_many(
                "INSERT INTO message_templates (kind, language, subject, body, updated_s) VALUES (%s, %s, %s, %s, %s)",
                [(kind, language, s, b, now_s) for language, (s, b) in wording.items()],
            )

    def reset_templates(self, kind: str) -> None:
        with self._begin() as tx:
            tx.run("DELETE FROM message_templates WHERE kind = %s", (kind,))
