"""The audit log: every read of a person's personal data by someone else, and every consent
given or withdrawn; one SQL for both stores.

China's PIPL treats whereabouts as sensitive personal information: used only with separate
consent (art. 29), which may be withdrawn (art. 15), and the handler accounts for who processed
it. So the service records here, append-only (the database refuses updates and deletions):

- ``read.profile``, ``read.export``, ``read.hours``, ``read.recommendations``: an admin reading
  a volunteer's record, export, hours, or recommendations (exact distances from their home); ``read.roster``: an organiser or admin reading a shift's roster, one row per
  volunteer listed; ``export.all``: an admin's bulk export (one row, no subject; it shows in every subject's
  history);
- ``consent.location.given`` / ``consent.location.withdrawn``: by the volunteer (or an admin
  acting for them).

Rows hold ids and what was read, never the data itself, so a volunteer's erasure leaves the
log intact and the log holds nothing to erase. Organisers' rankings, which show a volunteer's
name, district and distance band, are recorded in the feedback log (``served``) with who asked;
:meth:`Audit.query` reads them as ``shown.ranking`` for a subject.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from matcher.model.errors import ValidationError
from matcher.store.tx import Tx

ACTIONS = (
    "read.profile",
    "read.export",
    "read.hours",
    "read.recommendations",
    "read.roster",
    "export.all",
    "consent.location.given",
    "consent.location.withdrawn",
)
MAX_PAGE = 500


@dataclass(frozen=True)
class Entry:
    id: int
    at_s: int
    actor: str
    actor_role: str
    action: str
    subject: str | None
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at_s": self.at_s,
            "actor": self.actor,
            "actor_role": self.actor_role,
            "action": self.action,
            "subject": self.subject,
            "detail": self.detail,
        }


class Audit:
    def __init__(self, begin: Callable[[], AbstractContextManager[Tx]]) -> None:
        self._begin = begin

    def record(
        self,
        actor: str,
        actor_role: str,
        action: str,
        subjects: Iterable[str | None],
        at_s: int,
        detail: str = "",
        tx: Tx | None = None,
    ) -> int:
        """One row per subject (in one transaction, or in ``tx``); returns how many."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        rows = [(at_s, actor, actor_role, action, s, detail[:500]) for s in dict.fromkeys(subjects)]
        if not rows:
            return 0
        if tx is not None:
            self._insert(tx, rows)
        else:
            with self._begin() as own:
                self._insert(own, rows)
        return len(rows)

    @staticmethod
    def _insert(tx: Tx, rows: list[tuple[Any, ...]]) -> None:
        for i in range(0, len(rows), 200):
            chunk = rows[i : i + 200]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(chunk))
            tx.run(
                f"INSERT INTO audit_log (at_s, actor, actor_role, action, subject, detail) VALUES {values}",
                tuple(v for row in chunk for v in row),
            )

    def query(
        self,
        *,
        subject: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        since_s: int | None = None,
        until_s: int | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[Entry]:
        """Entries newest first, filtered; with a ``subject``, also the bulk exports (which
        held everyone) and the rankings that showed them to someone (``shown.ranking``, from
        the feedback log)."""
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationError("limit", f"must be between 1 and {MAX_PAGE}")
        where, args = _filters((("actor", actor), ("action", action)), "at_s", since_s, until_s)
        if subject is not None:  # a bulk export holds everyone: it is in every subject's history
            where.append("(subject = %s OR action = 'export.all')")
            args.append(subject)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._begin() as tx:
            rows = tx.all(
                f"SELECT id, at_s, actor, actor_role, action, subject, detail FROM audit_log {clause} "
                "ORDER BY id DESC LIMIT %s",
                (*args, offset + limit),
            )
            entries = [Entry(*r) for r in rows]
            if subject is not None and action in (None, "shown.ranking"):
                entries += self._shown(tx, subject, actor, since_s, until_s, offset + limit)
        entries.sort(key=lambda e: (e.at_s, e.id), reverse=True)
        return entries[offset : offset + limit]

    @staticmethod
    def _shown(
        tx: Tx, subject: str, actor: str | None, since_s: int | None, until_s: int | None, limit: int
    ) -> list[Entry]:
        where, args = _filters((("account_id", actor),), "served_s", since_s, until_s)
        where += ["direction = 'volunteers'", "items LIKE %s"]
        args.append(f'%"{subject}"%')
        rows = tx.all(
            f"SELECT id, served_s, account_id, subject, items FROM served WHERE {' AND '.join(where)} "
            "ORDER BY id DESC LIMIT %s",
            (*args, limit),
        )
        out = []
        for ident, served_s, account, activity, items in rows:
            if any(item[0] == subject for item in json.loads(items)):  # LIKE only narrowed it
                detail = f"recommended volunteers for activity {activity}"
                out.append(
                    Entry(-int(ident), int(served_s), account or "", "", "shown.ranking", subject, detail)
                )
        return out

    def record_consent(
        self, actor: str, actor_role: str, volunteer_id: str, given: bool, at_s: int, detail: str = ""
    ) -> None:
        """Consent to the use of the volunteer's location, given or withdrawn."""
        action = "consent.location.given" if given else "consent.location.withdrawn"
        self.record(actor, actor_role, action, [volunteer_id], at_s, detail)

    def location_withdrawn(self) -> set[str]:
        """The volunteers whose latest word on their location is a withdrawal."""
        with self._begin() as tx:
            rows = tx.all(
                "SELECT subject FROM audit_log WHERE action = 'consent.location.withdrawn' AND id IN "
                "(SELECT max(id) FROM audit_log WHERE action IN "
                "('consent.location.given', 'consent.location.withdrawn') GROUP BY subject)"
            )
        return {str(r[0]) for r in rows}

    def location_consent(self, volunteer_id: str) -> Entry | None:
        """The volunteer's latest consent event about their location, if any."""
        with self._begin() as tx:
            row = tx.one(
                "SELECT id, at_s, actor, actor_role, action, subject, detail FROM audit_log "
                "WHERE subject = %s AND action LIKE 'consent.location.%%' ORDER BY id DESC LIMIT 1",
                (volunteer_id,),
            )
        return None if row is None else Entry(*row)


def _filters(
    equal: tuple[tuple[str, Any], ...], time_column: str, since_s: int | None, until_s: int | None
) -> tuple[list[str], list[Any]]:
    """WHERE clauses and their parameters: each column equal to its value when one is given,
    and the time column in [since_s, until_s)."""
    where = [f"{column} = %s" for column, value in equal if value is not None]
    args: list[Any] = [value for _, value in equal if value is not None]
    for op, bound in ((">=", since_s), ("<", until_s)):
        if bound is not None:
            where.append(f"{time_column} {op} %s")
            args.append(bound)
    return where, args
