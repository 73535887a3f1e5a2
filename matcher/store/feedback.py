"""The feedback log and the ranking models: one definition of the SQL for both stores.

What the service served (every answer to a recommendation request, with each item's rank,
score and factor parts, and the model that ranked it) and what followed (an invitation, a
sign-up, attendance, a no-show, a rating, a view) are the training data of
:mod:`matcher.learning.training`; analysts read them as pandas frames (:meth:`Feedback.frames`).
Outcomes that come from the sign-up flow are written by :mod:`matcher.store.operations` in the
same transaction as the change they record (``insert_outcome``).

Models are stored whole with their description; at most one is active (a unique partial
index), and activating one logs a ``model`` change so that every serving process switches.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import pandas as pd

from matcher.learning.training import FACTORS, Model
from matcher.model.errors import NotFoundError, ValidationError
from matcher.store.operations import insert_outcome
from matcher.store.rows import dumps
from matcher.store.tx import Tx

DEFAULT_VERSION = "default"
"""The model version logged for answers ranked with the default weights."""


@dataclass(frozen=True, slots=True)
class Served:
    """One answer served: ``items`` are ``(volunteer_id, activity_id, shift_id, score, parts)``
    in rank order."""

    query: str
    served_s: float
    account_id: str | None
    direction: str
    subject: str
    model_version: str
    items: tuple[tuple[str, str, str | None, float, dict[str, float]], ...]


class Feedback:
    """The log and the models, over a store's transactions (``begin``)."""

    def __init__(self, begin: Callable[[], AbstractContextManager[Tx]]) -> None:
        self._begin = begin

    # ------------------------------------------------------------------ the log

    def invited_since(self, since_s: float) -> dict[str, int]:
        """How many invitations each volunteer has had since ``since_s`` (emergency mode's cap on
        how often the same person is asked: :func:`matcher.operations.allocation.emergency`)."""
        with self._begin() as tx:
            rows = tx.all(
                "SELECT volunteer_id, count(*) FROM outcomes WHERE kind = 'invited' AND at_s >= %s "
                "GROUP BY volunteer_id",
                (since_s,),
            )
        return {str(v): int(n) for v, n in rows}

    def log_served(self, answers: Sequence[Served]) -> None:
        """Append answers to the log (one transaction; an answer logged twice counts once)."""
        if not answers:
            return
        rows = [
            (
                a.query,
                a.served_s,
                a.account_id,
                a.direction,
                a.subject,
                a.model_version,
                dumps([list(item) for item in a.items]),
            )
            for a in answers
        ]
        with self._begin() as tx:
            # One statement per answer, sent together: a service writes a second's answers at
            # once, and a round trip each held the writer (and the GIL it needs after each).
            tx.run_many(
                "INSERT INTO served (query, served_s, account_id, direction, subject, model_version, items) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (query) DO NOTHING",
                rows,
            )

    def record_many(self, outcomes: pd.DataFrame) -> int:
        """Outcomes in bulk (columns ``time``, ``volunteer_id``, ``shift_id``, ``kind`` and
        optionally ``value``), in one transaction; returns how many were written."""
        values = outcomes["value"] if "value" in outcomes.columns else [None] * len(outcomes)
        with self._begin() as tx:
            for at, volunteer_id, shift_id, kind, value in zip(
                outcomes["time"],
                outcomes["volunteer_id"],
                outcomes["shift_id"],
                outcomes["kind"],
                values,
                strict=True,
            ):
                insert_outcome(tx, str(kind), str(volunteer_id), str(shift_id), float(at), value)
        return len(outcomes)

    def record(
        self,
        kind: str,
        volunteer_id: str,
        shift_id: str,
        at_s: float,
        value: float | None = None,
        account_id: str | None = None,
    ) -> None:
        """An outcome not produced by the sign-up flow (a view, a rating)."""
        with self._begin() as tx:
            if tx.one("SELECT 1 FROM shifts WHERE id = %s", (shift_id,)) is None:
                raise NotFoundError("shift", shift_id)
            insert_outcome(tx, kind, volunteer_id, shift_id, at_s, value, account_id)

    def frames(
        self, since_s: float | None = None, until_s: float | None = None
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``(served, outcomes)`` between two instants (epoch seconds, either open): one row
        per item served (``query``, ``time``, ``account_id``, ``direction``, ``subject``,
        ``model_version``, ``rank``, ``volunteer_id``, ``activity_id``, ``shift_id``,
        ``score`` and one column per factor) and one per outcome (``time``, ``volunteer_id``,
        ``activity_id``, ``shift_id``, ``kind``, ``value``, ``account_id``): what
        :func:`matcher.learning.training.examples` takes."""
        lo = float("-inf") if since_s is None else since_s
        hi = float("inf") if until_s is None else until_s
        with self._begin() as tx:
            answers = tx.all(
                "SELECT query, served_s, account_id, direction, subject, model_version, items FROM served "
                "WHERE served_s >= %s AND served_s <= %s ORDER BY served_s, id",
                (lo, hi),
            )
            marks = tx.all(
                "SELECT at_s, volunteer_id, activity_id, shift_id, kind, value, account_id FROM outcomes "
                "WHERE at_s >= %s AND at_s <= %s ORDER BY at_s, id",
                (lo, hi),
            )
        rows = []
        for query, served_s, account, direction, subject, version, items in answers:
            for rank, (volunteer_id, activity_id, shift_id, score, parts) in enumerate(
                json.loads(items), start=1
            ):
                rows.append(
                    {
                        "query": query,
                        "time": float(served_s),
                        "account_id": account,
                        "direction": direction,
                        "subject": subject,
                        "model_version": version,
                        "rank": rank,
                        "volunteer_id": volunteer_id,
                        "activity_id": activity_id,
                        "shift_id": shift_id,
                        "score": float(score),
                        **{f: float(parts.get(f, 0.0)) for f in FACTORS},
                    }
                )
        served_columns = [
            "query", "time", "account_id", "direction", "subject", "model_version", "rank",
            "volunteer_id", "activity_id", "shift_id", "score", *FACTORS,
        ]  # fmt: skip
        outcome_columns = ["time", "volunteer_id", "activity_id", "shift_id", "kind", "value", "account_id"]
        return (
            pd.DataFrame(rows, columns=served_columns),
            pd.DataFrame([tuple(r) for r in marks], columns=outcome_columns),
        )

    # ------------------------------------------------------------------ models

    def save_model(self, model: Model, created_s: float) -> None:
        with self._begin() as tx:
            if tx.one("SELECT 1 FROM models WHERE version = %s", (model.version,)):
                raise ValidationError("version", f"model {model.version!r} is stored already")
            tx.run(
                "INSERT INTO models (version, kind, created_s, description, blob) VALUES (%s, %s, %s, %s, %s)",
                (model.version, model.kind, created_s, json.dumps(model.describe()), model.to_bytes()),
            )

    def models(self) -> list[dict[str, Any]]:
        """Every stored model's description, newest first, with ``active`` and ``created_s``."""
        with self._begin() as tx:
            found = tx.all(
                "SELECT description, active, created_s FROM models ORDER BY created_s DESC, version"
            )
        return [json.loads(d) | {"active": bool(a), "created_s": float(c)} for d, a, c in found]

    def model(self, version: str) -> Model:
        with self._begin() as tx:
            row = tx.one("SELECT blob FROM models WHERE version = %s", (version,))
        if row is None:
            raise NotFoundError("model", version)
        return Model.from_bytes(bytes(row[0]))

    def active(self) -> Model | None:
        """The model the service ranks with, or None for the default weights."""
        with self._begin() as tx:
            row = tx.one("SELECT blob FROM models WHERE active = 1")
        return None if row is None else Model.from_bytes(bytes(row[0]))

    def activate(self, version: str | None) -> None:
        """Make ``version`` the model the service ranks with (``None``: back to the default
        weights). Every serving process switches at its next look at the change log. A model
        that needs more than the factor parts (which is all the service computes per pair) is
        refused."""
        if version is not None:
            extra = set(self.model(version).features) - set(FACTORS)
            if extra:
                raise ValidationError(
                    "version",
                    f"model {version} needs {sorted(extra)}: the service computes only the factor parts",
                )
        with self._begin() as tx:
            tx.run("UPDATE models SET active = 0 WHERE active = 1")
            if version is not None:
                tx.run("UPDATE models SET active = 1 WHERE version = %s", (version,))
            tx.run("INSERT INTO changes (kind, ident) VALUES (%s, %s)", ("model", version or DEFAULT_VERSION))
