"""Campaign plans: one definition of the SQL for both stores.

A plan (:mod:`matcher.operations.allocation`) is saved as a draft; accepting it sends an invitation for
each assignment through the sign-up flow (:meth:`Operations.invite_in`) and marks the plan
accepted, all in one transaction: either every invitation is sent and recorded or none is.
Accepting twice, or twice at once, sends them once (the plan's row is locked, and an accepted
plan answers with what its acceptance did).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from matcher.model.errors import NotFoundError
from matcher.store.operations import Operations
from matcher.store.tx import Tx

_COLUMNS = "id, organisation_id, created_by, created_s, status, accepted_s, request, plan, invitations"


class Allocations:
    """Saved plans over a store's transactions (``begin``)."""

    def __init__(self, begin: Callable[[], AbstractContextManager[Tx]], ops: Operations) -> None:
        self._begin = begin
        self._ops = ops

    def save(
        self,
        allocation_id: str,
        organisation_id: str | None,
        account_id: str,
        request: dict[str, Any],
        plan: dict[str, Any],
        now_s: float,
    ) -> dict[str, Any]:
        with self._begin() as tx:
            tx.run(
                f"INSERT INTO allocations ({_COLUMNS}) VALUES (%s, %s, %s, %s, 'draft', NULL, %s, %s, NULL)",
                (allocation_id, organisation_id, account_id, now_s, _dumps(request), _dumps(plan)),
            )
            return self._get(tx, allocation_id)

    def get(self, allocation_id: str) -> dict[str, Any]:
        with self._begin() as tx:
            return self._get(tx, allocation_id)

    def accept(
        self,
        allocation_id: str,
        invitations: Sequence[tuple[str, str, str]],
        skipped: Sequence[dict[str, str]],
        now_s: int,
    ) -> dict[str, Any]:
        """Send ``invitations`` (``(signup_id, shift_id, volunteer_id)``) and record them, with
        the assignments ``skipped`` and why, once: a plan accepted already is returned as it is."""
        with self._begin() as tx:
            if tx.one("SELECT 1 FROM allocations WHERE id = %s FOR UPDATE", (allocation_id,)) is None:
                raise NotFoundError("allocation", allocation_id)
            current = self._get(tx, allocation_id)
            if current["status"] == "accepted":
                return current
            sent = [
                self._ops.invite_in(tx, signup_id, shift_id, volunteer_id, now_s).to_json()
                for signup_id, shift_id, volunteer_id in invitations
            ]
            tx.run(
                "UPDATE allocations SET status = 'accepted', accepted_s = %s, invitations = %s WHERE id = %s",
                (now_s, _dumps({"sent": sent, "skipped": list(skipped)}), allocation_id),
            )
            return self._get(tx, allocation_id)

    @staticmethod
    def _get(tx: Tx, allocation_id: str) -> dict[str, Any]:
        row = tx.one(f"SELECT {_COLUMNS} FROM allocations WHERE id = %s", (allocation_id,))
        if row is None:
            raise NotFoundError("allocation", allocation_id)
        ident, org, by, created_s, status, accepted_s, request, plan, invitations = row
        return {
            "id": ident,
            "organisation_id": org,
            "created_by": by,
            "created_s": float(created_s),
            "status": status,
            "accepted_s": None if accepted_s is None else float(accepted_s),
            "request": json.loads(request),
            **json.loads(plan),
            "invitations": None if invitations is None else json.loads(invitations),
        }


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)
