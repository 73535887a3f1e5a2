"""The embedded store: one SQLite file, forward-only migrations, one transaction per write.

Every connection turns on foreign keys, WAL, ``synchronous=FULL`` and a 5 s busy timeout (see
RELIABILITY.md: SQLite leaves foreign keys off per connection, and Python's sqlite3 would run a
check outside the transaction without an explicit BEGIN).
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from matcher.model.domain import (
    Activity,
    Booking,
    GeoPoint,
    ServiceRecord,
    Shift,
    Volunteer,
    World,
)
from matcher.model.errors import ConflictError
from matcher.store import migrations, rows
from matcher.store.allocations import Allocations
from matcher.store.audit import Audit
from matcher.store.base import Account
from matcher.store.calls import Calls
from matcher.store.deliveries import Deliveries
from matcher.store.feedback import Feedback
from matcher.store.joining import Joining
from matcher.store.messages import Messages
from matcher.store.needs import Needs
from matcher.store.notices import Notices
from matcher.store.observations import Observations
from matcher.store.operations import Operations
from matcher.store.organisations import Organisations
from matcher.store.outbox import shift_times, tell_cancelled, tell_moved
from matcher.store.preferences import Preferences
from matcher.store.tx import Tx


class _TimedLock:
    """A re-entrant lock over the shared connection that also bounds how long the holder's
    statements run: past ``timeout_s`` from the outermost acquisition, SQLite interrupts the
    running statement (``sqlite3.OperationalError: interrupted``) and the API answers 503.
    ``untimed()`` lifts the bound for the holder's next use (bulk loads)."""

    STEPS = 20_000  # SQLite virtual-machine steps between looks at the clock

    def __init__(self, db: sqlite3.Connection, timeout_s: float | None) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._timeout_s = timeout_s
        self._deadline = math.inf
        if timeout_s is not None:
            db.set_progress_handler(self._over, self.STEPS)

    def _over(self) -> int:
        return 1 if time.monotonic() > self._deadline else 0

    def __enter__(self) -> None:
        self._lock.acquire()
        self._depth += 1
        if self._depth == 1 and self._timeout_s is not None:
            self._deadline = time.monotonic() + self._timeout_s

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._deadline = math.inf
        self._lock.release()

    def acquire(self) -> None:
        """Hold the lock until :meth:`release`, untimed (the snapshot reads everything)."""
        self.__enter__()
        if self._depth == 1:
            self._deadline = math.inf

    def release(self) -> None:
        self.__exit__()

    @contextmanager
    def untimed(self) -> Iterator[None]:
        with self:
            self._deadline = math.inf
            yield


class SqliteStore:
    """The default store; see the module docstring."""

    def __init__(self, path: Path, *, query_timeout_s: float | None = None) -> None:
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        # One connection shared by the API's worker threads: every use holds this lock, and
        # whatever runs under it is interrupted once it has run for query_timeout_s.
        self._lock = _TimedLock(self._db, query_timeout_s)
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = FULL")
        self._db.execute("PRAGMA busy_timeout = 5000")
        self.migrate()
        self.ops = Operations(self._ops_tx, (sqlite3.IntegrityError,))
        self.feedback = Feedback(self._ops_tx)
        self.needs = Needs(self._ops_tx)
        self.allocations = Allocations(self._ops_tx, self.ops)
        self.preferences = Preferences(self._ops_tx)
        self.audit = Audit(self._ops_tx)
        self.messages = Messages(self._ops_tx)
        self.deliveries = Deliveries(self._ops_tx)
        self.notices = Notices(self._ops_tx)
        self.calls = Calls(self._ops_tx, self.ops)
        self.observations = Observations(self._ops_tx)
        self.joining = Joining(self._ops_tx)
        self.organisations = Organisations(self._ops_tx)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                # An interrupted write (the time limit) has rolled the transaction back already.
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def _ops_tx(self) -> Iterator[Tx]:
        with self._tx() as db:
            yield _SqliteTx(db)

    # ------------------------------------------------------------------ migrations

    def migrate(self) -> list[str]:
        """Apply, in name order, every migration not applied yet; returns the ones applied."""
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        done = {r[0] for r in self._db.execute("SELECT name FROM schema_migrations")}
        applied = []
        for f in migrations.files("sqlite"):
            if f.name in done:
                continue
            with self._lock.untimed(), self._tx() as db:
                for statement in _statements(f.read_text(encoding="utf-8")):
                    db.execute(statement)
                db.execute(
                    "INSERT INTO schema_migrations (name, applied_at) VALUES (?, datetime('now'))", (f.name,)
                )
            applied.append(f.name)
        return applied

    def schema_version(self) -> str:
        row = self._db.execute("SELECT max(name) FROM schema_migrations").fetchone()
        return str(row[0])

    # ------------------------------------------------------------------ writes

    def load_world(self, world: World) -> None:
        with self._lock.untimed(), self._tx() as db:
            _log(db, "reload", "")
            db.executemany(_UPSERT_VOLUNTEER, [rows.volunteer_row(v) for v in world.volunteers])
            for a in world.activities:
                _write_activity(db, a)
            db.executemany(_INSERT_RECORD, [rows.record_row(r) for r in world.service_records])
            db.executemany(
                "INSERT OR IGNORE INTO bookings (volunteer_id, shift_id) VALUES (?, ?)",
                [(b.volunteer_id, b.shift_id) for b in world.bookings],
            )

    def upsert_volunteer(self, v: Volunteer) -> None:
        with self._tx() as db:
            _log(db, "volunteer", v.id)
            db.execute(_UPSERT_VOLUNTEER, rows.volunteer_row(v))

    def upsert_activity(self, a: Activity, now_s: int | None = None) -> None:
        with self._tx() as db:
            _log(db, "activity", a.id)
            tx = _SqliteTx(db)
            before = {} if now_s is None else shift_times(tx, a.id)
            if now_s is not None:
                tell_cancelled(tx, a.id, {s.id for s in a.shifts}, now_s)
            _write_activity(db, a)
            if now_s is not None:
                tell_moved(tx, before, now_s)

    def delete_volunteer(self, ident: str) -> bool:
        with self._tx() as db:
            _log(db, "volunteer", ident)
            return db.execute("DELETE FROM volunteers WHERE id = ?", (ident,)).rowcount > 0

    def delete_activity(self, ident: str, now_s: int | None = None) -> bool:
        with self._tx() as db:
            _log(db, "activity", ident)
            if now_s is not None:
                tell_cancelled(_SqliteTx(db), ident, None, now_s)
            return db.execute("DELETE FROM activities WHERE id = ?", (ident,)).rowcount > 0

    def add_service_record(self, r: ServiceRecord) -> None:
        with self._tx() as db:
            _log(db, "reload", "")
            db.execute(_INSERT_RECORD, rows.record_row(r))

    def erase_volunteer(self, ident: str) -> bool:
        with self._tx() as db:
            _log(db, "volunteer", ident)
            cur = db.execute(
                "UPDATE volunteers SET name = '', lat = NULL, lon = NULL, home_source = NULL, birth_date = NULL, phone = NULL, "
                "email = NULL, district = NULL, erased_at = datetime('now') WHERE id = ? AND erased_at IS NULL",
                (ident,),
            )
            db.execute("DELETE FROM bookings WHERE volunteer_id = ?", (ident,))
            db.execute(
                "UPDATE sessions SET revoked_s = CAST(strftime('%s', 'now') AS INTEGER) WHERE revoked_s IS NULL "
                "AND account_id IN (SELECT id FROM accounts WHERE volunteer_id = ?)",
                (ident,),
            )
            db.execute("DELETE FROM accounts WHERE volunteer_id = ?", (ident,))
            db.execute("DELETE FROM real_names WHERE volunteer_id = ?", (ident,))
            db.execute("DELETE FROM guardians WHERE volunteer_id = ?", (ident,))
            return cur.rowcount > 0

    def service_records_of(self, volunteer_id: str) -> list[ServiceRecord]:
        with self._lock:
            found = self._db.execute(
                "SELECT volunteer_id, activity_id, shift_id, date, hours, attended, rating FROM service_records "
                "WHERE volunteer_id = ? ORDER BY date, id",
                (volunteer_id,),
            ).fetchall()
        return [rows.record_from(r) for r in found]

    def last_change(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()
        return int(row[0])

    def changes_since(self, seq: int) -> list[tuple[int, str, str]]:
        with self._lock:
            found = self._db.execute(
                "SELECT seq, kind, ident FROM changes WHERE seq > ? ORDER BY seq LIMIT 10000", (seq,)
            ).fetchall()
        return [(int(r[0]), str(r[1]), str(r[2])) for r in found]

    def create_account(self, account: Account) -> None:
        with self._tx() as db:
            _insert_account(db, account)

    def register(self, v: Volunteer, account: Account, also: Callable[[Tx], None]) -> None:
        with self._tx() as db:
            if db.execute("SELECT 1 FROM volunteers WHERE id = ?", (v.id,)).fetchone() is not None:
                raise ConflictError(f"a volunteer with id {v.id!r} exists already")
            _log(db, "volunteer", v.id)
            db.execute(_UPSERT_VOLUNTEER, rows.volunteer_row(v))
            _insert_account(db, account)
            also(_SqliteTx(db))

    def get_account(self, ident: str) -> Account | None:
        return self._account("id", ident)

    def find_account(self, name: str) -> Account | None:
        return self._account("name", name)

    def accounts(self, limit: int) -> list[Account]:
        with self._lock:
            found = self._db.execute(f"{rows.ACCOUNT_SELECT} ORDER BY id LIMIT ?", (limit,)).fetchall()
        return [Account(*r) for r in found]

    def _account(self, column: str, value: str) -> Account | None:
        assert column in ("id", "name")
        with self._lock:
            row = self._db.execute(
                f"{rows.ACCOUNT_SELECT} WHERE {column} = ?",
                (value,),
            ).fetchone()
        return None if row is None else Account(*row)

    def list_activities(
        self,
        *,
        category: str | None,
        starts_from: int | None,
        starts_to: int | None,
        near: GeoPoint | None = None,
        radius_km: float | None = None,
    ) -> list[Activity]:
        where, args = rows.activity_filters(category, starts_from, starts_to, "?")
        if near is not None and radius_km is not None:
            # A bounding box, generous (the caller measures the distance); no longitude limit
            # near the poles or where the box would cross the antimeridian.
            band = radius_km / 111.0 + 0.01
            where.append("(a.lat IS NULL OR a.lat BETWEEN ? AND ?)")
            args += [near.lat - band, near.lat + band]
            if abs(near.lat) + band < 85.0:
                width = band / math.cos(math.radians(abs(near.lat) + band))
                if near.lon - width > -180.0 and near.lon + width < 180.0:
                    where.append("(a.lon IS NULL OR a.lon BETWEEN ? AND ?)")
                    args += [near.lon - width, near.lon + width]
        sql = f"SELECT a.id FROM activities a {'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY a.id"
        with self._lock:
            ids = [r[0] for r in self._db.execute(sql, args)]
        return [a for i in ids if (a := self.get_activity(i)) is not None]

    # ------------------------------------------------------------------ reads

    def counts(self) -> dict[str, int]:
        out = {}
        with self._lock:
            for table in ("volunteers", "activities", "shifts", "service_records", "bookings"):
                where = " WHERE erased_at IS NULL" if table == "volunteers" else ""
                out[table] = int(self._db.execute(f"SELECT count(*) FROM {table}{where}").fetchone()[0])
        return out

    def get_volunteer(self, ident: str) -> Volunteer | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_VOLUNTEER_COLUMNS} FROM volunteers WHERE id = ? AND erased_at IS NULL", (ident,)
            ).fetchone()
        return None if row is None else rows.volunteer_from(row)

    def volunteer_cards(self, idents: list[str]) -> dict[str, tuple[str, str | None]]:
        if not idents:
            return {}
        with self._lock:
            found = self._db.execute(
                f"SELECT id, name, district FROM volunteers WHERE erased_at IS NULL AND id IN ({', '.join('?' * len(idents))})",
                idents,
            ).fetchall()
        return {r[0]: (r[1], r[2]) for r in found}

    def get_activity(self, ident: str) -> Activity | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_ACTIVITY_COLUMNS} FROM activities WHERE id = ?", (ident,)
            ).fetchone()
            if row is None:
                return None
            shifts = self._db.execute(
                "SELECT id, starts_at, ends_at, capacity FROM shifts WHERE activity_id = ? ORDER BY starts_utc, id",
                (ident,),
            ).fetchall()
        return rows.activity_from(row, [rows.shift_from(s) for s in shifts])

    def snapshot(self) -> World:
        db = self._db
        self._lock.acquire()
        db.execute("BEGIN")  # one consistent read of every table
        try:
            vols = tuple(
                rows.volunteer_from(r)
                for r in db.execute(
                    f"SELECT {_VOLUNTEER_COLUMNS} FROM volunteers WHERE erased_at IS NULL ORDER BY id"
                )
            )
            by_act: dict[str, list[Shift]] = {}
            for r in db.execute(
                "SELECT activity_id, id, starts_at, ends_at, capacity FROM shifts ORDER BY starts_utc, id"
            ):
                by_act.setdefault(r[0], []).append(rows.shift_from(r[1:]))
            acts = tuple(
                rows.activity_from(r, by_act.get(r[0], []))
                for r in db.execute(f"SELECT {_ACTIVITY_COLUMNS} FROM activities ORDER BY id")
            )
            recs = tuple(
                rows.record_from(r)
                for r in db.execute(
                    "SELECT volunteer_id, activity_id, shift_id, date, hours, attended, rating FROM service_records "
                    "WHERE volunteer_id IN (SELECT id FROM volunteers WHERE erased_at IS NULL) ORDER BY id"
                )
            )
            books = tuple(
                Booking(r[0], r[1])
                for r in db.execute(
                    "SELECT volunteer_id, shift_id FROM bookings ORDER BY volunteer_id, shift_id"
                )
            )
        finally:
            db.execute("COMMIT")
            self._lock.release()
        return World(vols, acts, recs, books)


class _SqliteTx:
    """A transaction of this store as :mod:`matcher.store.operations` writes SQL: ``%s``
    placeholders, and ``FOR UPDATE`` (the transaction's ``BEGIN IMMEDIATE`` holds the write lock
    already)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self.db.execute(_dialect(sql), params).fetchone()
        return row

    def all(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self.db.execute(_dialect(sql), params).fetchall()

    def run(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        return self.db.execute(_dialect(sql), params).rowcount

    def run_many(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        self.db.executemany(_dialect(sql), rows)


@lru_cache(maxsize=256)
def _dialect(sql: str) -> str:
    return (
        sql.replace(" FOR UPDATE SKIP LOCKED", "")
        .replace(" FOR UPDATE", "")
        .replace("json_array_elements_text(%s::json)", "json_each(%s)")
        .replace("%s", "?")
    )


def _insert_account(db: sqlite3.Connection, account: Account) -> None:
    try:
        db.execute(
            "INSERT INTO accounts (id, name, role, organisation_id, volunteer_id, password_hash, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, datetime('now'))",
            (account.id, account.name, account.role, account.organisation_id, account.volunteer_id,
             account.password_hash),
        )  # fmt: skip
    except sqlite3.IntegrityError as e:
        raise ConflictError(f"an account named {account.name!r} already exists") from e


def _log(db: sqlite3.Connection, kind: str, ident: str) -> None:
    db.execute("INSERT INTO changes (kind, ident) VALUES (?, ?)", (kind, ident))


def _statements(sql: str) -> list[str]:
    """A migration's statements, one by one (a trigger's body keeps its inner semicolons)."""
    out: list[str] = []
    pending = ""
    for line in sql.splitlines():
        if line.strip().startswith("--"):
            continue
        pending += line + "\n"
        if sqlite3.complete_statement(pending):
            out.append(pending.strip())
            pending = ""
    if pending.strip():
        out.append(pending.strip())
    return out


_VOLUNTEER_COLUMNS = (
    "id, name, lat, lon, max_travel_km, birth_date, timezone, online_ok, district, phone, email, "
    "skills, languages, availability, blackout_dates, certifications, home_source"
)
# An upsert, never INSERT OR REPLACE: REPLACE deletes the old row first, and the cascade would
# take the volunteer's service history and bookings with it.
_UPSERT_VOLUNTEER = (
    f"INSERT INTO volunteers ({_VOLUNTEER_COLUMNS}) VALUES ({', '.join('?' * 17)}) ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _VOLUNTEER_COLUMNS.replace(" ", "").split(",")[1:])
)
_ACTIVITY_COLUMNS = (
    "id, organisation_id, title, description, category, lat, lon, online, timezone, min_age, "
    "district, required_skills, preferred_skills, required_certifications, location_source"
)
_INSERT_RECORD = (
    "INSERT INTO service_records (volunteer_id, activity_id, shift_id, date, hours, attended, rating) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def _write_activity(db: sqlite3.Connection, a: Activity) -> None:
    db.execute(
        f"INSERT INTO activities ({_ACTIVITY_COLUMNS}) VALUES ({', '.join('?' * 15)}) "
        "ON CONFLICT (id) DO UPDATE SET organisation_id = excluded.organisation_id, title = excluded.title, "
        "description = excluded.description, category = excluded.category, lat = excluded.lat, lon = excluded.lon, "
        "online = excluded.online, timezone = excluded.timezone, min_age = excluded.min_age, district = excluded.district, "
        "required_skills = excluded.required_skills, preferred_skills = excluded.preferred_skills, "
        "required_certifications = excluded.required_certifications, location_source = excluded.location_source",
        rows.activity_row(a),
    )
    keep = [s.id for s in a.shifts]
    db.execute(
        f"DELETE FROM shifts WHERE activity_id = ? AND id NOT IN ({', '.join('?' * len(keep))})",
        (a.id, *keep),
    )
    db.executemany(
        "INSERT INTO shifts (id, activity_id, starts_at, ends_at, starts_utc, ends_utc, capacity) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET starts_at = excluded.starts_at, ends_at = excluded.ends_at, "
        "starts_utc = excluded.starts_utc, ends_utc = excluded.ends_utc, capacity = excluded.capacity "
        "WHERE shifts.activity_id = excluded.activity_id",
        rows.shift_rows(a),
    )
    owners = (
        db.execute(
            f"SELECT id, activity_id FROM shifts WHERE id IN ({', '.join('?' * len(keep))})", keep
        ).fetchall()
        if keep
        else []
    )
    for sid, owner in owners:
        if owner != a.id:
            raise ConflictError(f"shift id {sid!r} already belongs to activity {owner!r}")
