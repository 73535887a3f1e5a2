"""Needs: one definition of the SQL for both stores (see :class:`matcher.model.domain.Need`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager

from matcher.interchange.records import need_to_json, parse_need
from matcher.model.domain import Need
from matcher.model.errors import ConflictError, NotFoundError
from matcher.store.tx import Tx


class Needs:
    """Needs over a store's transactions (``begin``): domain records in (valid by construction),
    domain records out."""

    def __init__(self, begin: Callable[[], AbstractContextManager[Tx]]) -> None:
        self._begin = begin

    def add(self, need: Need) -> Need:
        with self._begin() as tx:
            if tx.one("SELECT 1 FROM needs WHERE id = %s", (need.id,)):
                raise ConflictError(f"need id {need.id!r} is taken")
            self._write(tx, need, insert=True)
        return need

    def replace(self, need: Need) -> Need:
        with self._begin() as tx:
            if not tx.one("SELECT 1 FROM needs WHERE id = %s FOR UPDATE", (need.id,)):
                raise NotFoundError("need", need.id)
            self._write(tx, need, insert=False)
        return need

    def get(self, ident: str) -> Need:
        with self._begin() as tx:
            row = tx.one("SELECT record FROM needs WHERE id = %s", (ident,))
        if row is None:
            raise NotFoundError("need", ident)
        return parse_need(json.loads(row[0]), None)

    def list(self, status: str | None = None) -> list[Need]:
        """Needs, oldest id first; ``status`` filters."""
        with self._begin() as tx:
            rows = (
                tx.all("SELECT record FROM needs ORDER BY id")
                if status is None
                else tx.all("SELECT record FROM needs WHERE status = %s ORDER BY id", (status,))
            )
        return [parse_need(json.loads(r[0]), None) for r in rows]

    @staticmethod
    def _write(tx: Tx, need: Need, *, insert: bool) -> None:
        values = (
            need.organisation_id,
            need.status,
            need.category,
            need.district,
            json.dumps(need_to_json(need), ensure_ascii=False),
        )
        if insert:
            tx.run(
                "INSERT INTO needs (organisation_id, status, category, district, record, id) VALUES (%s, %s, %s, %s, %s, %s)",
                (*values, need.id),
            )
        else:
            tx.run(
                "UPDATE needs SET organisation_id = %s, status = %s, category = %s, district = %s, record = %s WHERE id = %s",
                (*values, need.id),
            )
