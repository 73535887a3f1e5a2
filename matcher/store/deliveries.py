"""Deliveries: each message's sending on each channel (e-mail today), claimed by dispatchers,
attempted, and recorded. One SQL for both stores.

A delivery is claimed for a while (``CLAIM_S``) before it is sent; a dispatcher that dies
mid-send leaves its claim to run out, and another sends it again: sending is at least once.
Each delivery has a key (message and channel) that goes with what is sent, so what receives
it counts it once. On PostgreSQL several dispatchers claim with ``FOR UPDATE SKIP LOCKED`` and
never claim the same delivery; SQLite's one writer at a time gives the same."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from matcher.store.messages import COLUMNS, Message, message_from
from matcher.store.outbox import EACH
from matcher.store.tx import Tx

CLAIM_S = 60
"""How long a claimed delivery is a dispatcher's own before another may take it over."""
MAX_ATTEMPTS = 6
"""Attempts before a delivery is dead-lettered (an admin lists and retries those)."""
BACKOFF_S = 30
"""The wait after the first failure; it doubles with each further one."""


_CLAIM = (
    "UPDATE deliveries SET status = 'sending', claimed_by = %s, claimed_until_s = %s, attempts = attempts + 1 "
    "WHERE (message_id, channel) IN (SELECT message_id, channel FROM deliveries WHERE "
    "(status = 'pending' AND next_s <= %s) OR (status = 'sending' AND claimed_until_s < %s) "
    "ORDER BY next_s, message_id LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING message_id, channel, attempts"
)
"""Due deliveries (new, retries due, claims run out) made one worker's, in one statement."""

_TO = (
    f"SELECT {', '.join('m.' + c.strip() for c in COLUMNS.split(','))}, v.email, v.phone, v.timezone, pv.phone, "
    "p.language, v.languages FROM messages m LEFT JOIN volunteers v ON v.id = m.volunteer_id "
    "LEFT JOIN phone_verifications pv ON pv.volunteer_id = m.volunteer_id "
    "LEFT JOIN notice_preferences p ON p.volunteer_id = m.volunteer_id "
    f"WHERE m.id IN (SELECT CAST(j.value AS BIGINT) FROM {EACH})"
)
"""Claimed messages with where they go as it is now (an address changed or erased since the
message was written is read here, not kept in the outbox)."""


@dataclass(frozen=True)
class Delivery:
    message: Message
    channel: str
    address: str
    attempts: int
    timezone: str = "Asia/Shanghai"
    language: str = "zh"

    @property
    def key(self) -> str:
        """What identifies this delivery wherever it arrives (the receiver counts it once)."""
        return f"{self.message.id}.{self.channel}"


def _address(channel: str, m: Message, email: str | None, phone: str | None, verified: str | None) -> str:
    """Where a delivery goes: the e-mail on record; for SMS and WeChat the verified number (a
    phone code: the number being verified). Empty: nowhere any more."""
    if channel == "email":
        return email or ""
    if m.kind == "phone_code":
        return str(m.detail.get("to", ""))
    return verified if verified is not None and verified == phone else ""


def _language(chosen: str | None, languages: str | None) -> str:
    """The volunteer's chosen language, else Chinese unless English is the only one they speak."""
    if chosen:
        return chosen
    spoken = json.loads(languages) if languages else []
    return "en" if "en" in spoken and "zh" not in spoken else "zh"


class Deliveries:
    def __init__(self, begin: Callable[[], AbstractContextManager[Tx]]) -> None:
        self._begin = begin

    def claim(self, worker: str, now_s: int, limit: int, claim_s: int = CLAIM_S) -> list[Delivery]:
        """Up to ``limit`` deliveries due now (new, retries due, or claims run out), now this
        worker's for ``claim_s``, oldest first."""
        with self._begin() as tx:
            claimed = tx.all(_CLAIM, (worker, now_s + claim_s, now_s, now_s, limit))
            if not claimed:
                return []
            ids = sorted({int(r[0]) for r in claimed})
            rows = tx.all(_TO, (json.dumps(ids),))
        found = {int(r[0]): r for r in rows}
        out = []
        for message_id, channel, attempts in sorted(claimed, key=lambda r: (int(r[0]), str(r[1]))):
            r = found.get(int(message_id))
            if r is None:
                continue
            m = message_from(r[:9])
            email, phone, tz, verified, chosen, languages = r[9:15]
            out.append(Delivery(m, str(channel), _address(str(channel), m, email, phone, verified), int(attempts),
                                str(tz or "Asia/Shanghai"), _language(chosen, languages)))  # fmt: skip
        return out

    def sent_many(self, done: list[tuple[Delivery, str | None, bool]], worker: str, now_s: int) -> None:
        """A batch sent (delivered, where the channel says it reached the person), in one
        transaction: (delivery, provider id, delivered). Each is recorded unless another worker
        took its claim over meanwhile (then that one records). Those a channel gave no id of
        its own (e-mail) are one statement per channel."""
        plain: dict[str, list[int]] = {}
        named = []
        for d, provider_id, delivered in done:
            if provider_id is None and not delivered:
                plain.setdefault(d.channel, []).append(d.message.id)
            else:
                named.append(
                    (
                        "delivered" if delivered else "sent",
                        now_s,
                        provider_id,
                        d.message.id,
                        d.channel,
                        worker,
                    )
                )
        with self._begin() as tx:
            for channel, ids in plain.items():
                tx.run(
                    "UPDATE deliveries SET status = 'sent', sent_s = %s, last_error = NULL WHERE channel = %s "
                    f"AND claimed_by = %s AND message_id IN (SELECT CAST(j.value AS BIGINT) FROM {EACH})",
                    (now_s, channel, worker, json.dumps(ids)),
                )
            if named:
                tx.run_many(
                    "UPDATE deliveries SET status = %s, sent_s = %s, last_error = NULL, provider_id = %s "
                    "WHERE message_id = %s AND channel = %s AND claimed_by = %s",
                    named,
                )

    def dropped(self, d: Delivery, worker: str, why: str) -> None:
        """Not sent and not to be: nowhere to send it any more (an address removed, consent
        withdrawn)."""
        with self._begin() as tx:
            tx.run(
                "UPDATE deliveries SET status = 'dropped', last_error = %s WHERE message_id = %s AND channel = %s "
                "AND claimed_by = %s",
                (why, d.message.id, d.channel, worker),
            )

    def receipt(self, channel: str, provider_id: str, delivered: bool, error: str | None, now_s: int) -> bool:
        """A channel's later word on a message it took (a gateway's delivery receipt)."""
        with self._begin() as tx:
            return (
                tx.run(
                    "UPDATE deliveries SET status = %s, last_error = %s WHERE channel = %s AND provider_id = %s "
                    "AND status IN ('sent', 'delivered')",
                    ("delivered" if delivered else "dead", error, channel, provider_id),
                )
                > 0
            )

    def failed(self, d: Delivery, worker: str, now_s: int, error: str, *, final: bool = False) -> str:
        """A failed attempt: retried after a backoff, or dead after ``MAX_ATTEMPTS`` (or at once
        when ``final``: the channel refused it for good); returns which."""
        dead = final or d.attempts >= MAX_ATTEMPTS
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
