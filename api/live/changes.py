"""Following the change log: which numbered changes this process has not applied yet.

PostgreSQL hands out log numbers when a write starts and writes commit in any order, so number
11 can be visible while 10 is not yet: a number skipped is read again at every look until it
appears or ``GAP_WAIT_S`` has passed (a rolled-back write leaves its number unused for good)."""

from __future__ import annotations

import time
from typing import Any

from matcher.matching.index import MatchIndex
from matcher.store.base import Store

GAP_WAIT_S = 15.0
"""How long a number missing from the change log is waited for."""
MAX_GAPS = 1000
"""At most this many missing numbers below the newest are waited for."""

Change = tuple[int, str, str]
"""(log number, kind of record, its id)."""


class Position:
    """How far this process has read the change log, and the numbers it still waits for."""

    def __init__(self, seen: int) -> None:
        self.seen = seen
        self._gaps: dict[int, float] = {}  # numbers skipped, and since when

    def since(self) -> int:
        """The number to read the log after (the oldest gap, else the last seen)."""
        return min(self._gaps, default=self.seen + 1) - 1

    def unseen(self, changes: list[Change]) -> list[Change]:
        """The changes not applied yet; remembers the numbers skipped among them."""
        now = time.monotonic()
        known = {seq for seq, _, _ in changes}
        out = [c for c in changes if c[0] > self.seen or c[0] in self._gaps]
        for seq in [g for g in self._gaps if g in known or now - self._gaps[g] > GAP_WAIT_S]:
            del self._gaps[seq]
        if changes:
            top = changes[-1][0]
            for seq in range(max(self.seen + 1, top - MAX_GAPS), top):
                if seq not in known:
                    self._gaps.setdefault(seq, now)
        return out

    def applied(self, changes: list[Change]) -> None:
        if changes:
            self.seen = max(self.seen, changes[-1][0])


def fetch(store: Store, index: MatchIndex, kind: str, ident: str) -> Any:
    """What a change in the log needs from the store (read before the index is locked)."""
    if kind == "shift":
        return store.ops.places(ident) if index.has_shift(ident) else None
    if kind == "record":
        return store.ops.service_record(int(ident))
    if kind == "volunteer":
        return store.get_volunteer(ident)
    if kind == "activity":
        return store.get_activity(ident)
    if kind == "organisation":  # the tree is replaced whole: it is small
        return store.organisations.links()
    return None
