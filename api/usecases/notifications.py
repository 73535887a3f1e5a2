"""What volunteers are told, and how they choose to be told: their console inbox, their
preferences, the phone numbers they prove, each activity's reminder times, admins' wording, and
the link to stop e-mails. The messages are written by the operations in the transactions that
caused them (:mod:`matcher.store.outbox`); here they are read, worded (:mod:`~api.usecases.wording`)
and their rules set."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from api.auth import Links
from api.live import Live
from api.usecases import wording
from matcher.model.calendar import epoch_seconds
from matcher.model.errors import NotFoundError, ValidationError
from matcher.model.vocabulary import MessageKind
from matcher.operations.notices import (
    NoticePreferences,
    check_reminder_minutes,
    masked_phone,
    normalise_phone,
)
from matcher.store.messages import Message


def inbox(
    live: Live,
    volunteer_id: str,
    now: datetime,
    *,
    limit: int,
    before: int | None,
    links: Links | None = None,
) -> dict[str, Any]:
    """The volunteer's messages due by ``now``, newest first, worded, and how many are unread."""
    found, unread, tz = live.store.messages.inbox(
        volunteer_id, epoch_seconds(now), limit=limit, before=before
    )
    overrides = live.store.notices.templates()
    return {"items": [_worded(m, tz, overrides, links) for m in found], "unread": unread}


def mark_read(live: Live, volunteer_id: str, message_id: int, now: datetime) -> dict[str, Any]:
    m, tz = live.store.messages.mark_read(volunteer_id, message_id, epoch_seconds(now))
    return _worded(m, tz, live.store.notices.templates(), None)


def unread(live: Live, volunteer_id: str, now: datetime) -> int:
    return live.store.messages.inbox(volunteer_id, epoch_seconds(now), limit=1)[1]


def _worded(m: Message, tz: str, overrides: wording.Templates, links: Links | None) -> dict[str, Any]:
    out = m.to_json() | {"text": wording.both(m, tz, overrides)}
    if m.kind == MessageKind.PHONE_CODE:
        out["detail"] = {k: v for k, v in m.detail.items() if k != "to"} | {
            "to": masked_phone(str(m.detail.get("to", "")))
        }
    if links is not None and m.kind == MessageKind.EMERGENCY_CALL:
        out["links"] = links.call(
            str(m.detail.get("call_id")), m.volunteer_id, int(m.detail.get("until_s", 0))
        )
    return out


def shift_counts(live: Live, shift_id: str, now: datetime) -> dict[str, Any]:
    """For the shift's organisers: how many were told what, and how their messages went out."""
    return {"shift_id": shift_id} | live.store.messages.shift_counts(shift_id, epoch_seconds(now))


def dead_letters(live: Live, limit: int) -> list[dict[str, Any]]:
    """Deliveries that failed every attempt, oldest first (no addresses)."""
    return live.store.deliveries.dead(limit)


def retry(live: Live, message_id: int, channel: str, now: datetime) -> None:
    """A dead delivery queued again (404 if there is no such dead delivery)."""
    if not live.store.deliveries.retry(message_id, channel, epoch_seconds(now)):
        raise NotFoundError("dead delivery", f"{message_id}.{channel}")


def receipt(
    live: Live, channel: str, provider_id: str, delivered: bool, error: str | None, now: datetime
) -> None:
    """A gateway's delivery receipt for a message it took earlier."""
    if not live.store.deliveries.receipt(channel, provider_id, delivered, error, epoch_seconds(now)):
        raise NotFoundError(f"{channel} delivery", provider_id)


# ---------------------------------------------------------------------- preferences


def preferences(live: Live, volunteer_id: str, offered: tuple[str, ...]) -> dict[str, Any]:
    """The volunteer's choices, the channels this service offers, and their verified number."""
    prefs, phone = live.store.notices.preferences(volunteer_id)
    return prefs.to_json() | {"offered": list(offered), "verified_phone": phone}


def set_preferences(
    live: Live, volunteer_id: str, wanted: dict[str, Any], offered: tuple[str, ...], now: datetime
) -> dict[str, Any]:
    """New choices, each checked (422 naming the field; nothing kept if any is wrong)."""
    quiet = wanted["quiet_hours"]
    prefs = NoticePreferences.checked(
        channels=wanted["channels"], muted=wanted["muted"], quiet_start=quiet["start"], quiet_end=quiet["end"],
        overnight=quiet["overnight"], max_per_week=wanted["max_per_week"], language=wanted["language"],
        offered=offered,
    )  # fmt: skip
    live.store.notices.set_preferences(volunteer_id, prefs, epoch_seconds(now))
    return preferences(live, volunteer_id, offered)


def unsubscribe(live: Live, links: Links, token: str, now: datetime) -> dict[str, str]:
    """The link in every e-mail: that channel dropped from the volunteer's choices."""
    claims = links.claims("unsubscribe", token)
    live.store.notices.unsubscribe(str(claims["v"]), str(claims["ch"]), epoch_seconds(now))
    return {"volunteer_id": str(claims["v"]), "channel": str(claims["ch"])}


# ---------------------------------------------------------------------- phone numbers


def send_phone_code(live: Live, volunteer_id: str, phone: str, now: datetime) -> dict[str, Any]:
    """A six-digit code sent by SMS to ``phone`` (told in the inbox too, so a service without an
    SMS gateway still works); verify it to receive SMS and WeChat messages there."""
    number = normalise_phone(phone)
    code = f"{secrets.randbelow(10**6):06d}"
    live.store.notices.send_phone_code(volunteer_id, number, code, epoch_seconds(now))
    return {"phone": masked_phone(number), "sent": True}


def verify_phone(live: Live, volunteer_id: str, code: str, now: datetime) -> dict[str, Any]:
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        raise ValidationError("code", "the code is six digits")
    return {"verified_phone": live.store.notices.verify_phone(volunteer_id, code, epoch_seconds(now))}


# ---------------------------------------------------------------------- reminders and wording


def reminder_minutes(live: Live, activity_id: str) -> dict[str, Any]:
    return {"activity_id": activity_id, "minutes": list(live.store.notices.reminder_minutes(activity_id))}


def set_reminder_minutes(live: Live, activity_id: str, minutes: list[int]) -> dict[str, Any]:
    live.store.notices.set_reminder_minutes(activity_id, check_reminder_minutes(minutes))
    return reminder_minutes(live, activity_id)


def templates(live: Live, kind: MessageKind) -> dict[str, Any]:
    """A kind's wording in each language (an admin's if set, else the packaged one)."""
    overrides = live.store.notices.templates()
    out: dict[str, Any] = {"kind": kind.value, "fields": list(wording.FIELDS[kind])}
    for language in ("zh", "en"):
        subject, body = overrides.get((kind.value, language)) or wording.packaged()[(kind.value, language)]
        out[language] = {"subject": subject, "body": body, "custom": (kind.value, language) in overrides}
    return out


def set_templates(
    live: Live, kind: MessageKind, given: dict[str, dict[str, str]], now: datetime
) -> dict[str, Any]:
    """A kind reworded in both languages (each checked first: nothing kept if one is wrong)."""
    for language, t in given.items():
        wording.check(kind, language, t["subject"], t["body"])
    live.store.notices.set_templates(kind.value, {lang: (t["subject"], t["body"]) for lang, t in given.items()},
                                     epoch_seconds(now))  # fmt: skip
    return templates(live, kind)


def reset_templates(live: Live, kind: MessageKind) -> dict[str, Any]:
    live.store.notices.reset_templates(kind.value)
    return templates(live, kind)
