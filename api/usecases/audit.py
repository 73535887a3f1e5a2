"""The audit log of reads and exports of other people's personal data, and the store's size
(for health checks)."""

from __future__ import annotations

from collections.abc import Iterable

from api.live import Live
from matcher.store.audit import Entry


def record(
    live: Live,
    actor: str,
    actor_role: str,
    action: str,
    subjects: Iterable[str | None],
    at_s: int,
    detail: str = "",
) -> int:
    return live.store.audit.record(actor, actor_role, action, subjects, at_s, detail)


def query(
    live: Live,
    *,
    subject: str | None,
    actor: str | None,
    action: str | None,
    since_s: int | None,
    until_s: int | None,
    offset: int,
    limit: int,
) -> list[Entry]:
    """Entries newest first (see :meth:`matcher.store.audit.Audit.query`)."""
    return live.store.audit.query(
        subject=subject,
        actor=actor,
        action=action,
        since_s=since_s,
        until_s=until_s,
        offset=offset,
        limit=limit,
    )


def counts(live: Live) -> dict[str, int]:
    """How many records of each kind are stored."""
    return live.store.counts()
