"""What joining and signing in keep: sessions (refresh tokens kept hashed, replaced at each use,
revocable), the real-name record (a keyed hash of the national ID number and its last four
characters) and guardians' consent for minors. One SQL for both stores; the registration
itself is written by the backend (``Store.register``) with :func:`write_identity` in its
transaction."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date

from matcher.model.errors import ConflictError, NotFoundError
from matcher.operations.joining import Guardian
from matcher.store.tx import Tx


@dataclass(frozen=True, slots=True)
class RealName:
    """A checked national ID number as stored: its keyed hash and last four characters."""

    id_hash: str
    last4: str


class Unrecognised(Exception):
    """A refresh token that names no live session (expired, revoked, or never issued)."""


def write_identity(
    tx: Tx, volunteer_id: str, real_name: RealName | None, guardian: Guardian | None, by: str, now_s: int
) -> None:
    """The real-name record and the guardian's consent of a volunteer, in the caller's
    transaction. A national ID number registers one volunteer only."""
    if real_name is not None:
        held = tx.one("SELECT volunteer_id FROM real_names WHERE id_hash = %s", (real_name.id_hash,))
        if held is not None and held[0] != volunteer_id:
            raise ConflictError("national_id: this ID number is registered already: sign in instead")
        tx.run("DELETE FROM real_names WHERE volunteer_id = %s", (volunteer_id,))
        tx.run(
            "INSERT INTO real_names (volunteer_id, id_hash, id_last4, verified_s) VALUES (%s, %s, %s, %s)",
            (volunteer_id, real_name.id_hash, real_name.last4, now_s),
        )
    if guardian is not None:
        tx.run("DELETE FROM guardians WHERE volunteer_id = %s", (volunteer_id,))
        tx.run(
            "INSERT INTO guardians (volunteer_id, name, phone, relationship, consent_date, recorded_s, recorded_by) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (volunteer_id, guardian.name, guardian.phone, guardian.relationship,
             guardian.consent_date.isoformat(), now_s, by),
        )  # fmt: skip


class Joining:
    def __init__(self, begin: Callable[[], AbstractContextManager[Tx]]) -> None:
        self._begin = begin

    # ------------------------------------------------------------------ sessions

    def open_session(
        self, session_id: str, account_id: str, refresh_hash: str, now_s: int, expires_s: int
    ) -> None:
        with self._begin() as tx:
            tx.run(
                "INSERT INTO sessions (id, account_id, refresh_hash, created_s, refreshed_s, expires_s) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (session_id, account_id, refresh_hash, now_s, now_s, expires_s),
            )

    def refresh(self, old_hash: str, new_hash: str, now_s: int, expires_s: int) -> tuple[str, str]:
        """The session whose refresh token hashes to ``old_hash``, given ``new_hash`` instead:
        (session id, account id). A token already replaced that comes back was copied: its
        session is revoked, so neither copy works again (RFC 6819 5.2.2.3)."""
        with self._begin() as tx:
            row = tx.one(
                "UPDATE sessions SET previous_hash = refresh_hash, refresh_hash = %s, refreshed_s = %s, "
                "expires_s = %s WHERE refresh_hash = %s AND revoked_s IS NULL AND expires_s > %s "
                "RETURNING id, account_id",
                (new_hash, now_s, expires_s, old_hash, now_s),
            )
            if row is not None:
                return str(row[0]), str(row[1])
            reused = tx.one(
                "SELECT id FROM sessions WHERE previous_hash = %s AND revoked_s IS NULL", (old_hash,)
            )
            if reused is not None:
                self._revoke(tx, str(reused[0]), now_s)
        raise Unrecognised("the refresh token is not valid: sign in again")

    def revoke(self, session_id: str, now_s: int) -> bool:
        with self._begin() as tx:
            return self._revoke(tx, session_id, now_s)

    def revoke_account(self, account_id: str, now_s: int) -> int:
        """Every session of the account ended (a new password, an erasure)."""
        with self._begin() as tx:
            live = tx.all(
                "SELECT id FROM sessions WHERE account_id = %s AND revoked_s IS NULL", (account_id,)
            )
            for (ident,) in live:
                self._revoke(tx, str(ident), now_s)
        return len(live)

    @staticmethod
    def _revoke(tx: Tx, session_id: str, now_s: int) -> bool:
        done = tx.run(
            "UPDATE sessions SET revoked_s = %s WHERE id = %s AND revoked_s IS NULL", (now_s, session_id)
        )
        if done:
            tx.run("INSERT INTO changes (kind, ident) VALUES ('session', %s)", (session_id,))
        return done > 0

    def revoked_since(self, since_s: int) -> list[str]:
        """Sessions revoked at or after ``since_s`` (access tokens issued before may still be
        unexpired: a serving process refuses them)."""
        with self._begin() as tx:
            return [str(r[0]) for r in tx.all("SELECT id FROM sessions WHERE revoked_s >= %s", (since_s,))]

    # ------------------------------------------------------------------ identity

    def real_name(self, volunteer_id: str) -> str | None:
        """The last four characters of the volunteer's checked ID number, if they gave one."""
        with self._begin() as tx:
            row = tx.one("SELECT id_last4 FROM real_names WHERE volunteer_id = %s", (volunteer_id,))
        return None if row is None else str(row[0])

    def set_identity(
        self, volunteer_id: str, real_name: RealName | None, guardian: Guardian | None, by: str, now_s: int
    ) -> None:
        with self._begin() as tx:
            if tx.one("SELECT 1 FROM volunteers WHERE id = %s", (volunteer_id,)) is None:
                raise NotFoundError("volunteer", volunteer_id)
            write_identity(tx, volunteer_id, real_name, guardian, by, now_s)

    def seed_guardians(self, given: list[tuple[str, Guardian]], by: str, now_s: int) -> int:
        """Guardians' consent for volunteers who have none on record (the demo city's minors),
        in one transaction; returns how many were added."""
        with self._begin() as tx:
            held = {str(r[0]) for r in tx.all("SELECT volunteer_id FROM guardians", ())}
            rows = [(vid, g.name, g.phone, g.relationship, g.consent_date.isoformat(), now_s, by)
                    for vid, g in given if vid not in held]  # fmt: skip
            tx.run_many(
                "INSERT INTO guardians (volunteer_id, name, phone, relationship, consent_date, recorded_s, recorded_by) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                rows,
            )
        return len(rows)

    def guardian(self, volunteer_id: str) -> Guardian | None:
        with self._begin() as tx:
            row = tx.one(
                "SELECT name, phone, relationship, consent_date FROM guardians WHERE volunteer_id = %s",
                (volunteer_id,),
            )
        if row is None:
            return None
        return Guardian(str(row[0]), str(row[1]), str(row[2]), date.fromisoformat(str(row[3])))
