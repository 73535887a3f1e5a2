"""The console inbox: what each volunteer has been told (the outbox's rows, written by the
operations in the transactions that caused them), newest first, and which they have read. One
SQL for both stores."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from typing import Any

from matcher.model.errors import NotFoundError
from matcher.model.vocabulary import MessageKind
from matcher.store.tx import Tx

MAX_PAGE = 100


@dataclass(frozen=True)
class Message:
    id: int
    volunteer_id: str
    kind: MessageKind
    urgent: bool
    shift_id: str | None
    signup_id: str | None
    detail: dict[str, Any]
    created_s: int
    read_s: int | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


COLUMNS = "id, volunteer_id, kind, urgent, shift_id, signup_id, detail, created_s, read_s"


def message_from(r: tuple[Any, ...]) -> Message:
    """A message from a row of :data:`COLUMNS`."""
    return Message(
        int(r[0]), str(r[1]), MessageKind(r[2]), bool(r[3]), r[4], r[5], json.loads(r[6]), int(r[7]),
        None if r[8] is None else int(r[8]),
    )  # fmt: skip


class Messages:
    def __init__(self, begin: Callable[[], AbstractContextManager[Tx]]) -> None:
        self._begin = begin

    def inbox(
        self, volunteer_id: str, now_s: int, *, limit: int = 20, before: int | None = None
    ) -> tuple[list[Message], int, str]:
        """The volunteer's messages due by ``now_s`` (a reminder shows when it is due; a dropped
        one never), newest first (those older than message ``before``, to page back), and how
        many of all theirs are unread, and the volunteer's time zone (their times are shown in it)."""
        with self._begin() as tx:
            rows = tx.all(
                f"SELECT {COLUMNS} FROM messages WHERE volunteer_id = %s AND id < %s AND due_s <= %s "
                "AND dropped_s IS NULL ORDER BY id DESC LIMIT %s",
                (volunteer_id, before if before is not None else 2**62, now_s, limit),
            )
            unread = tx.one(
                "SELECT count(*) FROM messages WHERE volunteer_id = %s AND read_s IS NULL AND due_s <= %s "
                "AND dropped_s IS NULL",
                (volunteer_id, now_s),
            )
            tz = tx.one("SELECT timezone FROM volunteers WHERE id = %s", (volunteer_id,))
        return [message_from(r) for r in rows], int(unread[0]) if unread else 0, str(tz[0]) if tz else "UTC"

    def mark_read(self, volunteer_id: str, message_id: int, now_s: int) -> tuple[Message, str]:
        """The message read (reading it again keeps the first time), and the volunteer's time
        zone; another's is not found."""
        with self._begin() as tx:
            row = tx.one(
                f"SELECT {COLUMNS} FROM messages WHERE id = %s AND volunteer_id = %s",
                (message_id, volunteer_id),
            )
            if row is None:
                raise NotFoundError("message", str(message_id))
            if row[8] is None:
                tx.run("UPDATE messages SET read_s = %s WHERE id = %s", (now_s, message_id))
                row = (*row[:8], now_s)
            tz = tx.one("SELECT timezone FROM volunteers WHERE id = %s", (volunteer_id,))
        return message_from(row), str(tz[0]) if tz else "UTC"

    def shift_counts(self, shift_id: str, now_s: int) -> dict[str, Any]:
        """What the shift's volunteers were told by ``now_s``, counted: messages by kind, and
        their deliveries by channel and status (no names, no addresses); and how many are
        scheduled (reminders not yet due)."""
        with self._begin() as tx:
            kinds = tx.all(
                "SELECT kind, count(*) FROM messages WHERE shift_id = %s AND due_s <= %s AND dropped_s IS NULL "
                "GROUP BY kind",
                (shift_id, now_s),
            )
            later = tx.one(
                "SELECT count(*) FROM messages WHERE shift_id = %s AND due_s > %s AND dropped_s IS NULL",
                (shift_id, now_s),
            )
            sent = tx.all(
                "SELECT d.channel, d.status, count(*) FROM deliveries d JOIN messages m ON m.id = d.message_id "
                "WHERE m.shift_id = %s GROUP BY d.channel, d.status",
                (shift_id,),
            )
        by_channel: dict[str, dict[str, int]] = {}
        for channel, status, n in sent:
            by_channel.setdefault(str(channel), {})[str(status)] = int(n)
        return {
            "told": sum(int(n) for _, n in kinds),
            "by_kind": {str(k): int(n) for k, n in kinds},
            "deliveries": by_channel,
            "scheduled": int(later[0]) if later else 0,
        }
