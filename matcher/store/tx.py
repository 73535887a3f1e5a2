"""The transaction every repository of the store writes its SQL against, on either backend."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class Tx(Protocol):
    """A transaction of either store, with ``%s`` placeholders."""

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None: ...

    def all(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]: ...

    def run(self, sql: str, params: tuple[Any, ...] = ()) -> int: ...

    def run_many(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """``sql`` once per row of parameters, sent together (PostgreSQL: one pipeline, not a
        round trip per row)."""
        ...
