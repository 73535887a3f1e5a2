"""What volunteers are told: their console inbox, read and marked read. The messages are
written by the operations in the transactions that caused them (:mod:`matcher.store.operations`,
``tell``); here they are read and worded in both languages, with the activity's title."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api.live import Live
from matcher.model.calendar import epoch_seconds
from matcher.model.errors import NotFoundError
from matcher.model.vocabulary import MessageKind
from matcher.store.messages import Message

WORDING: dict[MessageKind, tuple[str, str]] = {
    MessageKind.SIGNUP_CONFIRMED: ("报名成功：{title}", "You have a place: {title}"),
    MessageKind.SIGNUP_WAITLISTED: ("已进入候补（第 {position} 位）：{title}", "On the waitlist (number {position}): {title}"),
    MessageKind.INVITED: ("组织方邀请你参加：{title}", "An organiser invites you: {title}"),
    MessageKind.OFFERED: ("有空位为你保留，请尽快确认：{title}", "A place is held for you, accept it soon: {title}"),
    MessageKind.OFFER_LAPSED: ("为你保留的名额已过期：{title}", "The place held for you has lapsed: {title}"),
    MessageKind.HOURS_APPROVED: ("服务时长已确认：{hours:g} 小时", "Service hours approved: {hours:g} h"),
    MessageKind.HOURS_CORRECTED: ("服务时长已更正：{hours:+g} 小时", "Service hours corrected: {hours:+g} h"),
}  # fmt: skip
"""Each kind's line in Chinese and English (the fields come from the message's detail)."""


def inbox(live: Live, volunteer_id: str, *, limit: int, before: int | None) -> dict[str, Any]:
    """The volunteer's messages, newest first, worded, and how many are unread."""
    found, unread = live.store.messages.inbox(volunteer_id, limit=limit, before=before)
    return {"items": [_worded(m) for m in found], "unread": unread}


def mark_read(live: Live, volunteer_id: str, message_id: int, now: datetime) -> dict[str, Any]:
    return _worded(live.store.messages.mark_read(volunteer_id, message_id, epoch_seconds(now)))


def unread(live: Live, volunteer_id: str) -> int:
    return live.store.messages.inbox(volunteer_id, limit=1)[1]


def word(m: Message) -> dict[str, str]:
    """The message's line in Chinese and English (the activity's title as it was when told)."""
    fields = {"title": "", "position": "", "hours": 0.0} | m.detail
    zh, en = WORDING[m.kind]
    return {"zh": zh.format(**fields), "en": en.format(**fields)}


def _worded(m: Message) -> dict[str, Any]:
    return m.to_json() | {"text": word(m)}


def shift_counts(live: Live, shift_id: str) -> dict[str, Any]:
    """For the shift's organisers: how many were told what, and how their messages went out."""
    return {"shift_id": shift_id} | live.store.messages.shift_counts(shift_id)


def dead_letters(live: Live, limit: int) -> list[dict[str, Any]]:
    """Deliveries that failed every attempt, oldest first (no addresses)."""
    return live.store.deliveries.dead(limit)


def retry(live: Live, message_id: int, channel: str, now: datetime) -> None:
    """A dead delivery queued again (404 if there is no such dead delivery)."""
    if not live.store.deliveries.retry(message_id, channel, epoch_seconds(now)):
        raise NotFoundError("dead delivery", f"{message_id}.{channel}")
