"""Gather from the store, compute with the matcher, return: the use cases the CLI (and soon the
HTTP API) share. No SQL here and no terminal or HTTP types."""

from __future__ import annotations

import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar

import pandas as pd
from starlette.concurrency import run_in_threadpool

from matcher.analytics.gaps import district_centres
from matcher.analytics.gaps import gaps as gap_table
from matcher.analytics.gaps import suggestions as suggest
from matcher.demo import outcomes as demo_outcomes
from matcher.demo.city import demo_needs, generate_city
from matcher.interchange.records import check_references, parse_world, world_to_json
from matcher.learning.training import FACTORS, Model
from matcher.matching.index import MatchIndex
from matcher.matching.ranking import MAX_K, Ranking, recommend_activities, recommend_volunteers, why_not
from matcher.matching.scoring import Weights
from matcher.model.calendar import epoch_seconds
from matcher.model.domain import Activity, GeoPoint, Shift, Volunteer, World
from matcher.model.errors import ConflictError, NotFoundError, ValidationError
from matcher.model.geo import haversine_km
from matcher.model.skills import Taxonomy
from matcher.operations import allocation
from matcher.store.base import Account, Store
from matcher.store.feedback import DEFAULT_VERSION, Served
from matcher.store.operations import Placed, Policy, Signup


def load_document(
    store: Store, document: object, taxonomy: Taxonomy, on_item: Callable[[], None] | None = None
) -> dict[str, int]:
    """Validate a whole interchange document, then write it in one transaction. Nothing is
    written if any record is invalid."""
    world = parse_world(document, taxonomy, on_item)
    located = {v.id for v in world.volunteers if v.home is not None}
    refused = sorted(located & store.audit.location_withdrawn()) if located else []
    if refused:
        raise ValidationError(
            "volunteers",
            f"{len(refused)} volunteers withdrew consent to the use of their location ({', '.join(refused[:5])}"
            f"{' ...' if len(refused) > 5 else ''}): leave out their homes",
        )
    existing = store.snapshot() if world.service_records or world.bookings else World()
    check_references(
        world,
        {v.id for v in (*existing.volunteers, *world.volunteers)},
        {a.id for a in (*existing.activities, *world.activities)},
        {s.id for a in (*existing.activities, *world.activities) for s in a.shifts},
    )
    store.load_world(world)
    return {
        "volunteers": len(world.volunteers),
        "activities": len(world.activities),
        "service_records": len(world.service_records),
        "bookings": len(world.bookings),
    }


def export_document(store: Store) -> dict[str, object]:
    return world_to_json(store.snapshot())


DEMO_NEEDS_PER_ACTIVITY = 0.04
"""The demo city's communities post one open need for every 25 activities."""


def build_demo(
    store: Store, *, volunteers: int, activities: int, records: int, seed: int, as_of: date
) -> dict[str, int]:
    city = generate_city(volunteers, activities, records, seed=seed, as_of=as_of)
    store.load_world(city.to_world())
    for need in demo_needs(city, max(int(activities * DEMO_NEEDS_PER_ACTIVITY), 1), seed=seed):
        store.needs.add(need)
    return store.counts()


DEMO_OUTCOME_SPACING_S = 600
"""Simulated answers are ten minutes apart, the month before the city's today."""


def build_demo_outcomes(
    store: Store, taxonomy: Taxonomy, as_of: date, *, queries: int, seed: int
) -> dict[str, int]:
    """Serve the default ranking for ``queries`` shifts of the stored city and draw what
    followed from the hidden preferences of :mod:`matcher.demo.outcomes`, into the feedback log
    (the known answer ``volmatch train`` should recover)."""
    index = build_index(store, taxonomy, as_of)
    now = datetime.combine(as_of, datetime.min.time(), UTC)
    served, outcomes = demo_outcomes.simulate(index, now=now, queries=queries, seed=seed)
    base = now.timestamp() - 30 * 86400
    answers = [
        Served(
            query=f"demo-{query}",
            served_s=base + float(g["time"].min()) * DEMO_OUTCOME_SPACING_S,
            account_id=None,
            direction="volunteers",
            subject=str(g["activity_id"].iloc[0]),
            model_version=DEFAULT_VERSION,
            items=_demo_items(g),
        )
        for query, g in served.groupby("query", sort=False)
    ]
    store.feedback.log_served(answers)
    marks = outcomes.assign(time=base + outcomes["time"] * DEMO_OUTCOME_SPACING_S)
    return {"answers": len(answers), "items": len(served), "outcomes": store.feedback.record_many(marks)}


def _demo_items(g: pd.DataFrame) -> tuple[tuple[str, str, str | None, float, dict[str, float]], ...]:
    parts = g[list(FACTORS)].to_numpy(dtype=float).tolist()
    return tuple(
        (str(v), str(a), str(s), float(score), dict(zip(FACTORS, p, strict=True)))
        for v, a, s, score, p in zip(
            g["volunteer_id"], g["activity_id"], g["shift_id"], g["score"], parts, strict=True
        )
    )


def build_index(store: Store, taxonomy: Taxonomy, as_of: date) -> MatchIndex:
    return MatchIndex.from_world(store.snapshot(), taxonomy, as_of)


# --------------------------------------------------------------------------------------------
# The running service: one store, one index kept in step with every write


GAP_WAIT_S = 15.0  # how long a number missing from the change log is waited for
MAX_GAPS = 1000
POLL_S = 0.25
"""How often a process looks for other processes' writes: a change made through one worker
shows in every worker's recommendations within this (well under the one second promised)."""

ACCOUNT_TTL_S = 3600.0
"""How long a process trusts its last look at an account (see :meth:`Live.account`)."""
LOOP_WAIT_S = 0.02
"""How long a question waits on the event loop for the index lock before it moves to a worker
thread (:meth:`Live.answer`)."""
ACCOUNT_CACHE_SIZE = 100_000
"""Accounts a process keeps (read at start, then as tokens name them)."""

FLUSH_S = 1.0
"""How often a process writes the answers it served to the feedback log (in one transaction,
off the request path)."""
MAX_UNLOGGED = 100_000
"""Answers kept for the log while the store cannot take them; beyond, the oldest are dropped
(and counted): the log is training data, never worth failing a request for."""
RERANK_POOL = 5
"""A boosted model re-orders the best ``RERANK_POOL * k`` (at least 50) by the default weights."""

log = logging.getLogger("volmatch.service")

MAX_CAMPAIGN_SHIFTS = 2_000
"""Shifts one allocation request may plan (ranking their candidates holds this worker's index
for about 3 ms a shift); larger campaigns go through ``volmatch allocate``."""

_T = TypeVar("_T")
_V = TypeVar("_V")


class Shown(Generic[_V]):
    """Records kept for display, by id (:meth:`Live._remember` fills them from the snapshot):
    dropped when the record changes, read again from the store when next shown, many in one
    call. Ids the store does not know are not kept (a question about a made-up id reads the
    store again), so what is kept is bounded by the records there are."""

    def __init__(self, read: Callable[[list[str]], dict[str, _V]]) -> None:
        self._read = read
        self._kept: dict[str, _V] = {}

    def fill(self, kept: dict[str, _V]) -> None:
        self._kept = kept

    def forget(self, ident: str | None) -> None:
        if ident is None:
            self._kept = {}
        else:
            self._kept.pop(ident, None)

    def get(self, idents: list[str]) -> dict[str, _V]:
        """The records of ``idents`` the store knows, by id (those not kept are read)."""
        kept = self._kept
        missing = [i for i in idents if i not in kept]
        found = self._read(missing) if missing else {}
        kept.update(found)
        return {i: kept[i] if i in kept else found[i] for i in idents if i in kept or i in found}

    async def shown(self, idents: list[str]) -> dict[str, _V]:
        """:meth:`get` for a coroutine: in place when all are kept, else in a worker thread
        (an event loop never waits for the database)."""
        if all(i in self._kept for i in idents):
            return self.get(idents)
        return await run_in_threadpool(self.get, idents)


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
        self.taxonomy = taxonomy
        self.poll_s = poll_s
        self.lock = threading.RLock()
        self._sync = threading.RLock()
        self._follower: threading.Thread | None = None
        self.rebuilt: Callable[[], None] = lambda: None
        """Called after the index is rebuilt and swapped in (the server settles its heap)."""
        # Read the log position first: a write racing the snapshot is replayed (harmlessly).
        self.seen = store.last_change()
        world = store.snapshot()
        self.index = MatchIndex.from_world(world, taxonomy, today)
        self._polled = time.monotonic()
        self._gaps: dict[int, float] = {}  # log numbers skipped, and since when (see _unseen)
        self._accounts: dict[str, tuple[float, Account]] = {}
        self._accounts_of: dict[str, str] = {}  # volunteer id -> account id, for erasures
        for account in store.accounts(ACCOUNT_CACHE_SIZE // 2):
            self._keep_account(account, self._polled)
        # Records shown often and changed rarely, kept until a change to them is seen.
        self.cards: Shown[tuple[str, str | None]] = Shown(store.volunteer_cards)
        self.homes: Shown[GeoPoint | None] = Shown(self._read_homes)
        self.activities: Shown[Activity] = Shown(self._read_activities)
        self._remember(world)
        self.model: Model | None = store.feedback.active()
        self._unlogged: list[Served] = []
        self.unlogged_dropped = 0
        self._log_lock = threading.Lock()
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None

    # ------------------------------------------------------------------ the feedback log

    @property
    def model_version(self) -> str:
        return DEFAULT_VERSION if self.model is None else self.model.version

    def log_answer(
        self, direction: str, subject: str, account_id: str | None, ranking: Ranking, at: datetime
    ) -> str:
        """Remember an answer served at ``at`` (the service's clock, as its outcomes are; written
        to the feedback log within :data:`FLUSH_S`); returns its id, which the client may cite
        when it reports a view."""
        query = uuid.uuid4().hex
        if direction == "volunteers":
            items = tuple((m.id, subject, m.shift_id, m.score, dict(m.parts)) for m in ranking.matches)
        else:
            items = tuple((subject, m.id, m.shift_id, m.score, dict(m.parts)) for m in ranking.matches)
        answer = Served(query, at.timestamp(), account_id, direction, subject, self.model_version, items)
        with self._log_lock:
            self._unlogged.append(answer)
            if len(self._unlogged) > MAX_UNLOGGED:
                del self._unlogged[0]
                self.unlogged_dropped += 1
            if self._flusher is None:
                self._flusher = threading.Thread(target=self._flush_loop, name="feedback-log", daemon=True)
                self._flusher.start()
        return query

    def flush(self) -> int:
        """Write the answers served so far to the log; returns how many."""
        with self._log_lock:
            batch, self._unlogged = self._unlogged, []
        if not batch:
            return 0
        try:
            self.store.feedback.log_served(batch)
        except Exception:
            with self._log_lock:  # keep them for the next try, oldest first
                self._unlogged[:0] = batch
            raise
        return len(batch)

    def _flush_loop(self) -> None:
        while not self._stop.wait(FLUSH_S):
            try:
                self.flush()
            except Exception as e:  # the store is down or closed: try again later
                log.warning("feedback log not written (%s); %d answers kept", e, len(self._unlogged))

    def close(self) -> None:
        """Stop following the change log and the log writer, and write what is left (call
        before closing the store)."""
        self._stop.set()
        for thread in (self._follower, self._flusher):
            if thread is not None:
                thread.join(timeout=5)
        try:
            self.flush()
        except Exception as e:
            log.warning("feedback log not written at shutdown (%s): %d answers lost", e, len(self._unlogged))

    def _weights(self) -> Weights | None:
        return None if self.model is None else self.model.weights

    def _ranked(self, ranking: Ranking, k: int) -> Ranking:
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

    def _pool(self, k: int) -> int:
        if self.model is None or self.model.weights is not None:
            return k
        return min(max(RERANK_POOL * k, 50), MAX_K)

    def activate_model(self, version: str | None) -> None:
        """Rank with the stored model ``version`` (``None``: the default weights), in every
        process (through the change log)."""
        self.store.feedback.activate(version)
        self.refresh(force=True)

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
        changes = self._unseen(self.store.changes_since(min(self._gaps, default=self.seen + 1) - 1))
        if not changes:
            return 0
        model = self.store.feedback.active() if any(k == "model" for _, k, _ in changes) else self.model
        if any(kind == "reload" for _, kind, _ in changes):
            world = self.store.snapshot()
            index = MatchIndex.from_world(world, self.taxonomy, self.index.as_of)
            with self.lock:
                self._remember(world)
                self.index, self.model = index, model
            self.rebuilt()
        else:
            shifts = [i for _, k, i in changes if k == "shift" and self.index.has_shift(i)]
            fetched: dict[tuple[str, str], Any] = {
                ("shift", i): held for i, held in self.store.ops.places_of(shifts).items()
            }  # one read for every shift whose places changed
            for _, kind, ident in changes:
                if (kind, ident) not in fetched:
                    fetched[kind, ident] = self._fetch(kind, ident)
            with self.lock:
                self.model = model
                for _, kind, ident in changes:
                    self._apply(kind, ident, fetched[kind, ident])
        self.seen = max(self.seen, changes[-1][0])
        return len(changes)

    def _unseen(self, changes: list[tuple[int, str, str]]) -> list[tuple[int, str, str]]:
        """The changes not applied yet. PostgreSQL hands out log numbers when a write starts
        and writes commit in any order, so number 11 can be visible while 10 is not yet: a
        number skipped is read again at every refresh until it appears or GAP_WAIT_S has
        passed (a rolled-back write leaves its number unused for good)."""
        now = time.monotonic()
        known = {seq for seq, _, _ in changes}
        out = [c for c in changes if c[0] > self.seen or c[0] in self._gaps]
        for seq in [g for g in self._gaps if g in known or now - self._gaps[g] > GAP_WAIT_S]:
            del self._gaps[seq]
        if changes:
            top = changes[-1][0]
            missing = [q for q in range(max(self.seen + 1, top - MAX_GAPS), top) if q not in known]
            for seq in missing:
                self._gaps.setdefault(seq, now)
        return out

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

    def _fetch(self, kind: str, ident: str) -> Any:
        """What a change in the log needs from the store (read before the index is locked)."""
        if kind == "shift":
            return self.store.ops.places(ident) if self.index.has_shift(ident) else None
        if kind == "record":
            return self.store.ops.service_record(int(ident))
        if kind == "volunteer":
            return self.store.get_volunteer(ident)
        if kind == "activity":
            return self.store.get_activity(ident)
        return None

    def _apply(self, kind: str, ident: str, found: Any) -> None:
        """A change from the log, with what :meth:`_fetch` read for it, applied to the index
        (under the index lock)."""
        self._forget(kind, ident)
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
            self._forget_account_of(ident)  # an erasure removes the volunteer's sign-in
        elif kind == "activity":
            if found is not None:
                self.index.upsert_activity(found)
            elif self.index.has_activity(ident):
                self.index.remove_activity(ident)

    def volunteer(self, ident: str) -> Volunteer:
        v = self.store.get_volunteer(ident)
        if v is None:
            raise NotFoundError("volunteer", ident)
        return v

    def activity(self, ident: str) -> Activity:
        a = self.store.get_activity(ident)
        if a is None:
            raise NotFoundError("activity", ident)
        return a

    def _write(
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

    def create_volunteer(self, v: Volunteer) -> Volunteer:
        def store_write() -> None:
            if self.store.get_volunteer(v.id) is not None:
                raise ConflictError(f"a volunteer with id {v.id!r} already exists")
            self.store.upsert_volunteer(v)

        self._write("volunteer", v.id, store_write, lambda: self.index.upsert_volunteer(v))
        return v

    def replace_volunteer(self, v: Volunteer) -> Volunteer:
        def store_write() -> None:
            self.volunteer(v.id)
            self.store.upsert_volunteer(v)

        self._write("volunteer", v.id, store_write, lambda: self.index.upsert_volunteer(v))
        return v

    def cached_account(self, ident: str) -> Account | None:
        """The account if this process looked at it within ``ACCOUNT_TTL_S`` (None: ask
        :meth:`account`, which may wait on the store)."""
        hit = self._accounts.get(ident)
        if hit is not None and time.monotonic() - hit[0] < ACCOUNT_TTL_S:
            return hit[1]
        return None

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

    def account(self, ident: str) -> Account | None:
        """The account a token names, looked up at most every ``ACCOUNT_TTL_S`` seconds: every
        request checks that its token's account still exists, and that check should not cost a
        database round trip each time (a process reads the accounts when it starts, so tokens
        do not queue for the database after a restart). Accounts are removed only with their
        volunteer's erasure, which every process sees in the change log (:meth:`_apply`), so an
        erased volunteer's token stops working here at once and in other processes within
        ``poll_s``; the time limit covers changes made around the service (by hand in the
        database)."""
        now = time.monotonic()
        hit = self._accounts.get(ident)
        if hit is not None and now - hit[0] < ACCOUNT_TTL_S:
            return hit[1]
        account = self.store.get_account(ident)
        if account is not None:
            self._keep_account(account, now)
        return account

    def _keep_account(self, account: Account, now: float) -> None:
        if len(self._accounts) >= ACCOUNT_CACHE_SIZE:
            self._accounts.clear()
            self._accounts_of.clear()
        self._accounts[account.id] = (now, account)
        if account.volunteer_id is not None:
            self._accounts_of[account.volunteer_id] = account.id

    def _forget_account_of(self, volunteer_id: str) -> None:
        ident = self._accounts_of.pop(volunteer_id, None)
        if ident is not None:
            self._accounts.pop(ident, None)

    def organisation_of(self, activity_id: str) -> str:
        """The organisation running an activity, read from the index (no database round trip)."""
        self.refresh()
        with self.lock:
            row = self.index.activity_row(activity_id)
            return self.index.organisations.name(int(self.index.a_org.data[row]))

    def erase_volunteer(self, ident: str) -> None:
        def store_write() -> None:
            if not self.store.erase_volunteer(ident):
                raise NotFoundError("volunteer", ident)
            self._forget_account_of(ident)

        def index_write() -> None:
            if self.index.has_volunteer(ident):
                self.index.remove_volunteer(ident)

        self._write("volunteer", ident, store_write, index_write)

    def create_activity(self, a: Activity) -> Activity:
        def store_write() -> None:
            if self.store.get_activity(a.id) is not None:
                raise ConflictError(f"an activity with id {a.id!r} already exists")
            self.store.upsert_activity(a)

        self._write("activity", a.id, store_write, lambda: self.index.upsert_activity(a))
        return a

    def replace_activity(self, a: Activity) -> Activity:
        def store_write() -> None:
            self.activity(a.id)
            self.store.upsert_activity(a)

        self._write("activity", a.id, store_write, lambda: self.index.upsert_activity(a))
        return a

    def delete_activity(self, ident: str) -> None:
        def store_write() -> None:
            if not self.store.delete_activity(ident):
                raise NotFoundError("activity", ident)

        self._write("activity", ident, store_write, lambda: self.index.remove_activity(ident))

    def import_document(self, document: object) -> dict[str, int]:
        """A whole document written in one transaction; the index is rebuilt beside the one
        serving, and swapped in when ready."""
        with self._sync:
            counts = load_document(self.store, document, self.taxonomy)
            world = self.store.snapshot()
            index = MatchIndex.from_world(world, self.taxonomy, self.index.as_of)
            with self.lock:
                self._remember(world)
                self.index = index
            self.rebuilt()
        return counts

    def volunteers_for(
        self,
        activity_id: str,
        *,
        now: datetime,
        shift_id: str | None,
        k: int,
        radius_km: float | None,
        banded: bool,
    ) -> Ranking:
        self.refresh()
        with self.lock:
            ranking = recommend_volunteers(
                self.index,
                activity_id,
                now=now,
                shift_id=shift_id,
                k=self._pool(k),
                radius_km=radius_km,
                weights=self._weights(),
                distance_mode="band" if banded else "exact",
            )
            return self._ranked(ranking, k)

    def activities_for(self, volunteer_id: str, *, now: datetime, k: int) -> Ranking:
        self.refresh()
        with self.lock:
            ranking = recommend_activities(
                self.index, volunteer_id, now=now, k=self._pool(k), weights=self._weights()
            )
            return self._ranked(ranking, k)

    def activities_near(
        self,
        *,
        near: GeoPoint | None,
        radius_km: float | None,
        category: str | None,
        starts_from: datetime | None,
        starts_to: datetime | None,
    ) -> list[tuple[Activity, float | None]]:
        """Activities matching the filters, nearest first when ``near`` is given (online ones
        last), else by id; with their distance in km."""
        found = self.store.list_activities(
            category=category,
            starts_from=None if starts_from is None else epoch_seconds(starts_from),
            starts_to=None if starts_to is None else epoch_seconds(starts_to),
            near=near,
            radius_km=radius_km,
        )
        if near is None:
            return [(a, None) for a in found]
        out = []
        for a in found:
            d = None if a.location is None else haversine_km(near, a.location)
            if d is None or radius_km is None or d <= radius_km:
                out.append((a, d))
        out.sort(key=lambda t: (t[1] is None, t[1] or 0.0, t[0].id))
        return out

    # ------------------------------------------------------------------ places and hours

    def sign_up(self, shift_id: str, volunteer_id: str, now: datetime) -> Signup:
        """A place on the shift, or a place on its waitlist, if the core's hard rules allow."""
        return self._enrol("sign up", shift_id, volunteer_id, now)

    def invite(self, shift_id: str, volunteer_id: str, now: datetime) -> Signup:
        """An organiser's invitation, if the volunteer could take the shift."""
        return self._enrol("invite", shift_id, volunteer_id, now)

    def _enrol(self, what: str, shift_id: str, volunteer_id: str, now: datetime) -> Signup:
        self.refresh()
        with self.lock:
            if not self.index.has_shift(shift_id):
                raise NotFoundError("shift", shift_id)
            if not self.index.has_volunteer(volunteer_id):
                raise NotFoundError("volunteer", volunteer_id)
            blocked = why_not(self.index, volunteer_id, shift_id)
            if blocked is not None:
                raise ConflictError(f"cannot {what}: {blocked.en} ({blocked.zh})")
        # The write outside both locks: the database decides places and refuses a place that
        # overlaps one the volunteer holds (under a lock on the volunteer's row), so a sign-up
        # racing this one, here or in another process, cannot pass the overlap rule too.
        ident, now_s = f"su_{secrets.token_hex(8)}", epoch_seconds(now)
        if what == "invite":  # an invitation holds no place: nothing changes in the index
            return self.store.ops.invite(ident, shift_id, volunteer_id, now_s)
        return self._placed(self.store.ops.sign_up_placed(ident, shift_id, volunteer_id, now_s, self.policy))

    def cancel(self, signup_id: str, now: datetime, volunteer_id: str | None = None) -> Signup:
        """Give up a place (:meth:`Operations.cancel`); with ``volunteer_id``, only that
        volunteer's sign-up (another's is not found)."""
        placed = self.store.ops.cancel_placed(
            signup_id, epoch_seconds(now), self.policy, volunteer_id=volunteer_id
        )
        return self._placed(placed)

    def _placed(self, placed: Placed) -> Signup:
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

    def campaign(
        self,
        *,
        now: datetime,
        activity_ids: list[str],
        shift_ids: list[str],
        per_place: int,
        minimum: dict[str, int],
        priority: dict[str, float],
    ) -> tuple[list[allocation.Slot], list[allocation.Pair]]:
        """A campaign's shifts and their ranked candidates (:func:`matcher.operations.allocation.campaign`),
        ranked as recommendations are (the active model, distances as bands)."""
        self.refresh()
        with self.lock:
            ids = allocation.campaign_shifts(
                self.index, now=now, activity_ids=activity_ids, shift_ids=shift_ids
            )
            if len(ids) > MAX_CAMPAIGN_SHIFTS:
                raise ValidationError(
                    "shift_ids", f"{len(ids):,} shifts: at most {MAX_CAMPAIGN_SHIFTS:,} in one request "
                    "(plan larger campaigns with `volmatch allocate`)",
                )  # fmt: skip
            return allocation.campaign(
                self.index, ids, now=now, per_place=per_place, weights=self._weights(), distance_mode="band",
                minimum=minimum, priority=priority,
            )  # fmt: skip

    def emergency(self, shift_id: str, *, now: datetime, ask_cap: int, page: int | None) -> allocation.Plan:
        """:func:`matcher.operations.allocation.emergency`, counting each volunteer's invitations in the
        feedback log over the last week."""
        asked = self.store.feedback.invited_since(epoch_seconds(now) - allocation.ASK_WINDOW_DAYS * 86400)
        self.refresh()
        with self.lock:
            return allocation.emergency(
                self.index, shift_id, now=now, asked=asked, ask_cap=ask_cap, page=page,
                weights=self._weights(), distance_mode="band",
            )  # fmt: skip

    def accept_allocation(self, allocation_id: str, now: datetime) -> dict[str, Any]:
        """Invite everyone a saved plan assigns, in one transaction, except those the core's
        hard rules now rule out (they signed up elsewhere since, the shift started, ...): those
        are listed as skipped with the reason."""
        record = self.store.allocations.get(allocation_id)
        if record["status"] == "accepted":
            return record
        now_s = epoch_seconds(now)
        invitations: list[tuple[str, str, str]] = []
        skipped: list[dict[str, str]] = []
        self.refresh()
        with self.lock:
            for a in record["assignments"]:
                shift_id, volunteer_id = a["shift_id"], a["volunteer_id"]
                reason = self._why_not_invite(shift_id, volunteer_id, now_s)
                if reason is None:
                    invitations.append((f"su_{secrets.token_hex(8)}", shift_id, volunteer_id))
                else:
                    skipped.append({"shift_id": shift_id, "volunteer_id": volunteer_id, "reason": reason})
        # Invitations hold no place (accepting one is checked in the database), so the write
        # need not hold the index.
        accepted = self.store.allocations.accept(allocation_id, invitations, skipped, now_s)
        self.refresh(force=True)
        return accepted

    def _why_not_invite(self, shift_id: str, volunteer_id: str, now_s: int) -> str | None:
        if not self.index.has_shift(shift_id):
            return "the shift was withdrawn"
        if int(self.index.s_start.data[self.index.shift_row(shift_id)]) <= now_s:
            return "the shift has started"
        if not self.index.has_volunteer(volunteer_id):
            return "the volunteer is no longer registered"
        blocked = why_not(self.index, volunteer_id, shift_id)
        return None if blocked is None else blocked.en

    def change_signup(self, action: Callable[[], _T]) -> _T:
        """A write of the operations (cancel, accept, attendance, hours), then this process's
        index brought up to date with it."""
        result = action()  # one transaction, decided in the database (see _enrol)
        self.refresh(force=True)
        return result

    def gaps(self, by: list[str], first: date, last: date) -> pd.DataFrame:
        """The demand-and-supply table (:func:`matcher.analytics.gaps.gaps`) with the open needs."""
        needs = self.store.needs.list("open")
        self.refresh()
        with self.lock:
            return gap_table(self.index, needs, by=by, first=first, last=last)

    def suggestions(self, first: date, last: date, limit: int) -> dict[str, list[dict[str, object]]]:
        needs = self.store.needs.list("open")
        self.refresh()
        with self.lock:
            return suggest(self.index, needs, first=first, last=last, limit=limit)

    def district_centres(self) -> dict[str, tuple[float, float]]:
        with self.lock:
            return district_centres(self.index)

    def open_postings(self, now: datetime, until: datetime) -> list[tuple[Activity, list[tuple[Shift, int]]]]:
        """Activities with shifts starting in (now, until] that still have places, with the
        places left on each: what partner sites may show (no personal data in it)."""
        out = []
        found = self.store.list_activities(
            category=None, starts_from=epoch_seconds(now) + 1, starts_to=epoch_seconds(until) + 1
        )
        self.refresh()
        with self.lock:
            for a in found:
                shifts = []
                for s in a.shifts:
                    if not now < s.starts_at <= until:
                        continue
                    left = self.index.places_left(s.id)
                    if left > 0:
                        shifts.append((s, left))
                if shifts:
                    out.append((a, shifts))
        return out
