"""The running service's state: one store, one in-memory index kept in step with every write,
the active ranking model, and what is kept for display. The use cases (:mod:`api.usecases`)
read and write through it; nothing else touches the store or the index."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from typing import Any, TypeVar

import pandas as pd
from starlette.concurrency import run_in_threadpool

from api.live.caches import Accounts, Organisations, Revoked, Shown
from api.live.changes import Position, fetch
from api.live.feedback import FeedbackLog
from matcher.learning.training import FACTORS, Model
from matcher.matching.index import MatchIndex
from matcher.matching.ranking import MAX_K, Ranking
from matcher.matching.scoring import Weights
from matcher.model.domain import Activity, GeoPoint, World
from matcher.model.skills import Taxonomy
from matcher.store.base import Store
from matcher.store.feedback import DEFAULT_VERSION
from matcher.store.operations import Placed, Policy, Signup

POLL_S = 0.25
"""How often a process looks for other processes' writes: a change made through one worker
shows in every worker's recommendations within this (well under the one second promised)."""
LOOP_WAIT_S = 0.02
"""How long a question waits on the event loop for the index lock before it moves to a worker
thread (:meth:`Live.answer`)."""
REVOKED_KEPT_S = 2 * 24 * 3600
"""Revoked sessions a starting process loads: those ended within this (longer than an access
token lives, ``Settings.access_token_minutes`` at most a day), whose tokens may still be
unexpired."""
RERANK_POOL = 5
"""A boosted model re-orders the best ``RERANK_POOL * k`` (at least 50) by the default weights."""

log = logging.getLogger("volmatch.service")

_T = TypeVar("_T")


class Live:
    """The store and the in-memory index of a running service. Every write goes to the store
    first (one transaction) and then to the index, so a recommendation never sees a
    half-applied change and the next one sees the change.

    Two locks, so that no question waits for the database:

    - ``lock`` guards the index: readers (recommendations, why-not checks) and writers of the
      index hold it, and only for work in memory, never across a database call;
    - ``_sync`` orders this process's changes to the index: record writes (store, then index)
      and each refresh from the change log (read the log and the changed records, then apply)
      hold it, so a refresh can never apply a record it read before a newer local write.

    A serving process follows the change log in a background thread (:meth:`follow`); used
    directly (tests, the CLI), it looks when asked, at most every ``poll_s``.
    """

    def __init__(
        self,
        store: Store,
        taxonomy: Taxonomy,
        today: date,
        poll_s: float = POLL_S,
        policy: Policy | None = None,
    ) -> None:
        self.store = store
        self.policy = policy or Policy()
        store.ops.tier_hours = self.policy.tier_hours
        self.taxonomy = taxonomy
        self.poll_s = poll_s
        self.lock = threading.RLock()
        self._sync = threading.RLock()
        self._follower: threading.Thread | None = None
        self._stop = threading.Event()
        self.rebuilt: Callable[[], None] = lambda: None
        """Called after the index is rebuilt and swapped in (the server settles its heap)."""
        # Read the log position first: a write racing the snapshot is replayed (harmlessly).
        self.position = Position(store.last_change())
        world = store.snapshot()
        self.index = MatchIndex.from_world(world, taxonomy, today)
        self._polled = time.monotonic()
        self.accounts = Accounts(store)
        self.organisations = Organisations(store.organisations.links())
        self._revoked = Revoked(store.joining.revoked_since(int(time.time()) - REVOKED_KEPT_S))
        # Records shown often and changed rarely, kept until a change to them is seen.
        self.cards: Shown[tuple[str, str | None]] = Shown(store.volunteer_cards)
        self.homes: Shown[GeoPoint | None] = Shown(self._read_homes)
        self.activities: Shown[Activity] = Shown(self._read_activities)
        self._remember(world)
        self.model: Model | None = store.feedback.active()
        self.feedback = FeedbackLog(store, self._stop)

    # ------------------------------------------------------------------ the active model

    @property
    def model_version(self) -> str:
        return DEFAULT_VERSION if self.model is None else self.model.version

    def weights(self) -> Weights | None:
        """The active linear model's weights (None: the defaults, or a boosted model)."""
        return None if self.model is None else self.model.weights

    def pool(self, k: int) -> int:
        """How many to rank so that the active model can order the best ``k``."""
        if self.model is None or self.model.weights is not None:
            return k
        return min(max(RERANK_POOL * k, 50), MAX_K)

    def ranked(self, ranking: Ranking, k: int) -> Ranking:
        """The answer as the active model orders it: a linear model ranked it already (its
        weights went into the search); a boosted one re-orders the pool by its probability."""
        if self.model is None or self.model.weights is not None or not ranking.matches:
            return ranking
        frame = pd.DataFrame([dict(m.parts) for m in ranking.matches], columns=list(FACTORS))
        p = self.model.predict(frame)
        order = sorted(range(len(p)), key=lambda i: (-p[i], ranking.matches[i].id))[:k]
        return replace(
            ranking,
            matches=tuple(replace(ranking.matches[i], score=round(float(p[i]), 4)) for i in order),
            # The pool was larger than k: a full answer needs no note about being short.
            note=None if len(order) >= k else ranking.note,
        )

    # ------------------------------------------------------------------ reading the index

    @contextmanager
    def reading(self) -> Iterator[MatchIndex]:
        """The index, up to date with the change log, held for reading (work in memory only)."""
        self.refresh()
        with self.lock:
            yield self.index

    async def answer(self, work: Callable[[], _T]) -> _T:
        """Run ``work`` (reads of the index) in place, on the event loop, once the index lock is
        free: it is held for work in memory only, so the wait is short. If it is held for longer
        than ``LOOP_WAIT_S`` (an import swapping its index in, a campaign being planned), the
        work waits in a worker thread instead and the event loop goes on answering meanwhile
        (health checks among others)."""
        if self.lock.acquire(timeout=LOOP_WAIT_S):
            try:
                return work()
            finally:
                self.lock.release()
        return await run_in_threadpool(work)

    # ------------------------------------------------------------------ writing

    def write(
        self, kind: str, ident: str, store_write: Callable[[], _T], index_write: Callable[[], object]
    ) -> _T:
        """A record written to the store, then to the index. ``_sync`` is held throughout (a
        refresh cannot interleave), the index lock only for the index's part."""
        with self._sync:
            self._forget(kind, ident)
            result = store_write()
            with self.lock:
                index_write()
                self._forget(kind, ident)  # a reader may have kept the old one meanwhile
            return result

    def rebuild(self, load: Callable[[], _T]) -> _T:
        """A bulk write (``load``, one transaction), then the index rebuilt beside the one
        serving and swapped in when ready."""
        with self._sync:
            result = load()
            self._swap(self.store.snapshot(), self.model)
        return result

    def placed(self, placed: Placed) -> Signup:
        """This process's index brought up to date with a change to a shift's places that the
        store returned with the places as it left them, without reading the change log: the
        next recommendation sees it. Under ``_sync``, so a refresh that read the shift before
        cannot apply its older places after these (the log brings this change back later,
        harmlessly)."""
        shift_id = placed.signup.shift_id
        with self._sync, self.lock:
            if self.index.has_shift(shift_id):
                self.index.set_shift_bookings(shift_id, placed.confirmed, placed.taken)
        return placed.signup

    def change_signup(self, action: Callable[[], _T]) -> _T:
        """A write of the operations (cancel, accept, attendance, hours), then this process's
        index brought up to date with it."""
        result = action()  # one transaction, decided in the database
        self.refresh(force=True)
        return result

    # ------------------------------------------------------------------ the change log

    def follow(self) -> None:
        """Apply other processes' writes from a background thread every ``poll_s`` seconds,
        so that questions never wait for the change log (what a serving process does; stopped
        by :meth:`close`). A store that cannot be read is tried again at the next poll."""
        if self._follower is not None:
            return

        def loop() -> None:
            while not self._stop.wait(self.poll_s):
                try:
                    self.refresh(force=True)
                except Exception as e:  # the store is down: the index stays as it was
                    log.warning("change log not read (%s); trying again in %.2f s", e, self.poll_s)

        self._follower = threading.Thread(target=loop, name="change-log", daemon=True)
        self._follower.start()

    def close(self) -> None:
        """Stop following the change log and the log writer, and write what is left (call
        before closing the store)."""
        self._stop.set()

        def join(thread: threading.Thread | None) -> None:
            if thread is not None:
                thread.join(timeout=5)

        join(self._follower)
        self.feedback.close(join)

    def refresh(self, *, force: bool = False) -> int:
        """Apply the writes other processes logged since the last look; returns how many were
        applied. Unless forced, this looks at most every ``poll_s`` seconds, and not at all
        while :meth:`follow` does it. This process's own writes come back too and are applied
        again: harmless (an upsert of the same record), and simpler than telling them apart.

        The log and the records it names are read first, holding only ``_sync``; the index
        lock is taken to apply them, so recommendations go on meanwhile."""
        if not force and (self._follower is not None or time.monotonic() - self._polled < self.poll_s):
            return 0  # not due: no need to wait for anyone to know that
        # Lock order: _sync, then lock. A look that is not forced may come from a thread that
        # holds the index lock already, so it never waits for _sync: whoever holds it is
        # applying changes right now.
        if not self._sync.acquire(blocking=force):
            return 0
        try:
            return self._refresh(force)
        finally:
            self._sync.release()

    def _refresh(self, force: bool) -> int:
        if not force and time.monotonic() - self._polled < self.poll_s:
            return 0
        self._polled = time.monotonic()
        changes = self.position.unseen(self.store.changes_since(self.position.since()))
        if not changes:
            return 0
        model = self.store.feedback.active() if any(k == "model" for _, k, _ in changes) else self.model
        if any(kind == "reload" for _, kind, _ in changes):
            self._swap(self.store.snapshot(), model)
        else:
            shifts = [i for _, k, i in changes if k == "shift" and self.index.has_shift(i)]
            fetched: dict[tuple[str, str], Any] = {
                ("shift", i): held for i, held in self.store.ops.places_of(shifts).items()
            }  # one read for every shift whose places changed
            for _, kind, ident in changes:
                if (kind, ident) not in fetched:
                    fetched[kind, ident] = fetch(self.store, self.index, kind, ident)
            with self.lock:
                self.model = model
                for _, kind, ident in changes:
                    self._apply(kind, ident, fetched[kind, ident])
        self.position.applied(changes)
        return len(changes)

    def _swap(self, world: World, model: Model | None) -> None:
        index = MatchIndex.from_world(world, self.taxonomy, self.index.as_of)
        with self.lock:
            self._remember(world)
            self.index, self.model = index, model
        self.rebuilt()

    def revoked(self, session: str) -> bool:
        """Whether the sign-in session has ended (signed out)."""
        return session in self._revoked

    def _apply(self, kind: str, ident: str, found: Any) -> None:
        """A change from the log, with what :func:`~api.live.changes.fetch` read for it,
        applied to the index (under the index lock)."""
        self._forget(kind, ident)
        if kind == "session":
            self._revoked.add(ident)
        elif kind == "account":
            self.accounts.forget(ident)
        elif kind == "organisation" and found is not None:
            self.organisations.replace(found)
        if kind == "shift":
            if found is not None and self.index.has_shift(ident):
                self.index.set_shift_bookings(ident, *found)
        elif kind == "record":
            if found is not None and self.index.has_volunteer(found.volunteer_id):
                self.index.add_service_record(found)
        elif kind == "volunteer":
            if found is not None:
                self.index.upsert_volunteer(found)
            elif self.index.has_volunteer(ident):
                self.index.remove_volunteer(ident)
            self.accounts.forget_volunteer(ident)  # an erasure removes the volunteer's sign-in
        elif kind == "activity":
            if found is not None:
                self.index.upsert_activity(found)
            elif self.index.has_activity(ident):
                self.index.remove_activity(ident)

    # ------------------------------------------------------------------ kept for display

    def _remember(self, world: World) -> None:
        """What answers display, kept from the snapshot the index is built from: every
        volunteer's card (name and district, what organisers see) and home (for their own
        distances: the index holds only its matching cell), and every activity (title, place,
        shifts). A change to one, here or seen in the change log, drops it, and it is read
        again when next shown."""
        districts: dict[str, str] = {}  # one string per district, not one per volunteer
        self.cards.fill(
            {
                v.id: (v.name, None if v.district is None else districts.setdefault(v.district, v.district))
                for v in world.volunteers
            }
        )
        self.homes.fill({v.id: v.home for v in world.volunteers})
        self.activities.fill({a.id: a for a in world.activities})

    def _forget(self, kind: str, ident: str | None = None) -> None:
        """Drop what is kept for display of a record that changed (all with None)."""
        if kind in ("volunteer", ""):
            self.cards.forget(ident)
            self.homes.forget(ident)
        if kind in ("activity", ""):
            self.activities.forget(ident)

    def _read_homes(self, idents: list[str]) -> dict[str, GeoPoint | None]:
        found = {}
        for i in idents:
            v = self.store.get_volunteer(i)
            if v is not None:
                found[i] = v.home
        return found

    def _read_activities(self, idents: list[str]) -> dict[str, Activity]:
        found = {}
        for i in idents:
            a = self.store.get_activity(i)
            if a is not None:
                found[i] = a
        return found
