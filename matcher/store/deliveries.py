"""Deliveries: each message's sending on each channel (e-mail today), claimed by dispatchers,
attempted, and recorded. One SQL for both stores.

A delivery is claimed for a while (``CLAIM_S``) before it is sent; a dispatcher that dies
mid-send leaves its claim to run out, and another sends it again: sending is at least once.
Each delivery has a key (message and channel) that goes with what is sent, so what receives
it counts it once. On PostgreSQL several dispatchers claim with ``FOR UPDATE SKIP LOCKED`` and
never claim the same delivery; SQLite's one writer at a time gives the same."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from matcher.store.messages import COLUMNS, Message, message_from
from matcher.store.operations import Tx

CLAIM_S = 60
"""How long a claimed delivery is a dispatcher's own before another may take it over."""
MAX_ATTEMPTS = 6
"""Attempts before a delivery is dead-lettered (an admin lists and retries those)."""
BACKOFF_S = 30
"""The wait after the first failure; it doubles with each further one."""


_CLAIMED = (
    f"SELECT {', '.join('m.' + c.strip() for c in COLUMNS.split(','))}, v.email, d.attempts "
    "FROM deliveries d JOIN messages m ON m.id = d.message_id LEFT JOIN volunteers v ON v.id = m.volunteer_id "
    "WHERE d.message_id = %s AND d.channel = %s"
)
"""A claimed delivery with its message and the volunteer's address as it is now (built once)."""


@dataclass(frozen=True)
class Delivery:
    message: Message
    channel: str
    address: str
    attempts: int

    @property
    def key(self) -> str:
        """What identifies this delivery wherever it arrives (the receiver counts it once)."""
        return f"{self.message.id}.{self.channel}"


class Deliveries:
    def __init__(self, begin: Callable[[], AbstractContextManager[Tx]]) -> None:
        self._begin = begin

    def claim(self, worker: str, now_s: int, limit: int) -> list[Delivery]:
        """Up to ``limit`` deliveries due now (new, retries due, or claims run out), now this
        worker's for ``CLAIM_S``."""
        with self._begin() as tx:
            due = tx.all(
                "SELECT message_id, channel FROM deliveries WHERE "
                "(status = 'pending' AND next_s <= %s) OR (status = 'sending' AND claimed_until_s < %s) "
                "ORDER BY next_s, message_id LIMIT %s FOR UPDATE SKIP LOCKED",
                (now_s, now_s, limit),
            )
            out = []
            for message_id, channel in due:
                tx.run(
                    "UPDATE deliveries SET status = 'sending', claimed_by = %s, claimed_until_s = %s, "
                    "attempts = attempts + 1 WHERE message_id = %s AND channel = %s",
                    (worker, now_s + CLAIM_S, message_id, channel),
                )
                row = tx.one(_CLAIMED, (message_id, channel))
                if row is not None:
                    out.append(Delivery(message_from(row[:9]), str(channel), row[9] or "", int(row[10])))
        return out

    def sent(self, d: Delivery, worker: str, now_s: int) -> None:
        """Sent: recorded unless another worker took the claim over meanwhile (then it records)."""
        with self._begin() as tx:
            tx.run(
                "UPDATE deliveries SET status = 'sent', sent_s = %s, last_error = NULL "
                "WHERE message_id = %s AND channel = %s AND claimed_by = %s",
                (now_s, d.message.id, d.channel, worker),
            )

    def failed(self, d: Delivery, worker: str, now_s: int, error: str) -> str:
        """A failed attempt: retried after a backoff, or dead after ``MAX_ATTEMPTS``; returns which."""
        dead = d.attempts >= MAX_ATTEMPTS
        status = "dead" if dead else "pending"
        with self._begin() as tx:
            tx.run(
                "UPDATE deliveries SET status = %s, next_s = %s, last_error = %s, claimed_by = NULL "
                "WHERE message_id = %s AND channel = %s AND claimed_by = %s",
                (
                    status,
                    now_s + BACKOFF_S * 2 ** (d.attempts - 1),
                    error[:500],
                    d.message.id,
                    d.channel,
                    worker,
                ),
            )
        return status

    def dead(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._begin() as tx:
            rows = tx.all(
                "SELECT message_id, channel, attempts, last_error, next_s FROM deliveries WHERE status = 'dead' "
                "ORDER BY message_id LIMIT %s",
                (limit,),
            )
        return [
            {
                "message_id": int(r[0]),
                "channel": r[1],
                "attempts": int(r[2]),
                "error": r[3],
                "failed_s": int(r[4]),
            }
            for r in rows
        ]

    def retry(self, message_id: int, channel: str, now_s: int) -> bool:
        """A dead delivery back in the queue, its attempts counted afresh."""
        with self._begin() as tx:
            return (
                tx.run(
                    "UPDATE deliveries SET status = 'pending', attempts = 0, next_s = %s "
                    "WHERE message_id = %s AND channel = %s AND status = 'dead'",
                    (now_s, message_id, channel),
                )
                > 0
            )

    def counts(self) -> dict[str, int]:
        with self._begin() as tx:
            rows = tx.all("SELECT status, count(*) FROM deliveries GROUP BY status", ())
        return {str(r[0]): int(r[1]) for r in rows}
