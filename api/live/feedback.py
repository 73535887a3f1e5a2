"""The feedback log's writer: every answer served is remembered, and written to the store in
one transaction every ``FLUSH_S`` seconds, off the request path."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import datetime

from matcher.matching.ranking import Ranking
from matcher.store.base import Store
from matcher.store.feedback import Served

FLUSH_S = 1.0
"""How often a process writes the answers it served to the feedback log (in one transaction,
off the request path)."""
MAX_UNLOGGED = 100_000
"""Answers kept for the log while the store cannot take them; beyond, the oldest are dropped
(and counted): the log is training data, never worth failing a request for."""

log = logging.getLogger("volmatch.service")


class FeedbackLog:
    """Answers served, waiting to be written (:meth:`flush`, from a thread started by the first
    answer and stopped by :meth:`close`)."""

    def __init__(self, store: Store, stop: threading.Event) -> None:
        self._store = store
        self._stop = stop
        self._unlogged: list[Served] = []
        self.dropped = 0
        self._lock = threading.Lock()
        self._writer: threading.Thread | None = None

    def log_answer(
        self,
        direction: str,
        subject: str,
        account_id: str | None,
        ranking: Ranking,
        at: datetime,
        model_version: str,
    ) -> str:
        """Remember an answer served at ``at`` (the service's clock, as its outcomes are; written
        within :data:`FLUSH_S`); returns its id, which the client may cite when it reports a view."""
        query = uuid.uuid4().hex
        if direction == "volunteers":
            items = tuple((m.id, subject, m.shift_id, m.score, dict(m.parts)) for m in ranking.matches)
        else:
            items = tuple((subject, m.id, m.shift_id, m.score, dict(m.parts)) for m in ranking.matches)
        answer = Served(query, at.timestamp(), account_id, direction, subject, model_version, items)
        with self._lock:
            self._unlogged.append(answer)
            if len(self._unlogged) > MAX_UNLOGGED:
                del self._unlogged[0]
                self.dropped += 1
            if self._writer is None:
                self._writer = threading.Thread(target=self._loop, name="feedback-log", daemon=True)
                self._writer.start()
        return query

    def flush(self) -> int:
        """Write the answers served so far to the log; returns how many."""
        with self._lock:
            batch, self._unlogged = self._unlogged, []
        if not batch:
            return 0
        try:
            self._store.feedback.log_served(batch)
        except Exception:
            with self._lock:  # keep them for the next try, oldest first
                self._unlogged[:0] = batch
            raise
        return len(batch)

    def _loop(self) -> None:
        while not self._stop.wait(FLUSH_S):
            try:
                self.flush()
            except Exception as e:  # the store is down or closed: try again later
                log.warning("feedback log not written (%s); %d answers kept", e, len(self._unlogged))

    def close(self, join: Callable[[threading.Thread | None], None]) -> None:
        """Wait for the writer (``stop`` set already), then write what is left."""
        join(self._writer)
        try:
            self.flush()
        except Exception as e:
            log.warning("feedback log not written at shutdown (%s): %d answers lost", e, len(self._unlogged))
