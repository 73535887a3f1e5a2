"""The production store: PostgreSQL with PostGIS, through psycopg 3 and a connection pool.

The same contract as :mod:`matcher.store.sqlite` (``tests/store/test_contract.py`` runs one suite
against both). Places are ``geography(Point, 4326)``, written longitude first
(``ST_MakePoint(lon, lat)``). Activities' locations are indexed as stored and filtered with
``ST_DWithin`` on the column itself (never cast: a cast disables that index); volunteers' homes
are indexed through ``home::geometry``, which builds faster after a bulk load (migration 04
says why). Bulk loads go through ``COPY ... FROM STDIN`` (straight into an empty table, else
into a temporary one merged by upsert) in one transaction, so a load is all or nothing. Migrations
are forward-only, date-named SQL files applied on open under an advisory lock, so several
worker processes starting together apply each one once.
"""

from __future__ import annotations

import gc
import math
import struct
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Protocol, TypeVar

import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter
from psycopg_pool import ConnectionPool, PoolTimeout

from matcher.model.domain import Activity, Booking, GeoPoint, ServiceRecord, Volunteer, World
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


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


_Identified = TypeVar("_Identified", bound=_HasId)

MIGRATION_LOCK = 4_207_301  # any constant; the advisory lock serialising migrations

_POINT = "ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography"
_V_COLUMNS = (
    "id, name, home, max_travel_km, birth_date, timezone, online_ok, district, phone, email, "
    "skills, languages, availability, blackout_dates, certifications, home_source"
)
_V_SELECT = (
    "SELECT id, name, ST_Y(home::geometry), ST_X(home::geometry), max_travel_km, birth_date::text, timezone, "
    "online_ok, district, phone, email, skills, languages, availability, blackout_dates, certifications, "
    "home_source FROM volunteers"
)
_A_COLUMNS = (
    "id, organisation_id, title, description, category, location, online, timezone, min_age, district, "
    "required_skills, preferred_skills, required_certifications, location_source"
)
_A_SELECT = (
    "SELECT id, organisation_id, title, description, category, ST_Y(location::geometry), "
    "ST_X(location::geometry), online, timezone, min_age, district, required_skills, preferred_skills, "
    "required_certifications, location_source FROM activities"
)
_S_COLUMNS = "id, activity_id, starts_at, ends_at, starts_utc, ends_utc, capacity"
_R_COLUMNS = "volunteer_id, activity_id, shift_id, date, hours, attended, rating"
_R_SELECT = (
    "SELECT volunteer_id, activity_id, shift_id, date::text, hours, attended, rating FROM service_records"
)


_EWKB_POINT = struct.Struct("<BIIdd")
_EWKB_POINT_TYPE = 0x20000001  # a point, with an SRID


def _ewkb(lat: float | None, lon: float | None) -> str | None:
    """A point as hex extended WKB (WGS 84, longitude first): what COPY and the upserts write
    into a geography column. The server reads it without parsing decimal text, and Python
    packs it faster than it prints two floats."""
    return None if lat is None or lon is None else _ewkb_point(lat, lon)


def _ewkb_point(lat: float, lon: float) -> str:
    return _EWKB_POINT.pack(1, _EWKB_POINT_TYPE, 4326, lon, lat).hex()


VOLUNTEER_HOME_INDEXED = "(home::geometry)"
"""The expression the volunteers' GiST index is on (migration 04): spatial SQL over volunteers
filters with ``home::geometry && box`` to use it."""

POOL_WAIT_S = 1.0  # how long a request waits for a database connection (longer: overloaded)
SUSPECT_WAIT_S = 0.2  # ... once the database has failed to answer
SUSPECT_FOR_S = 5.0  # how long a failure keeps the short wait (a success ends it sooner)
CHECK_AFTER_FAILURE_S = 60.0  # connections are checked on checkout this long after a failure
COPY_CHUNK = 5000  # rows per write to the COPY stream
_NULL = "\\N"  # COPY text's NULL
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_field(value: Any) -> str:
    if value is None:
        return _NULL
    if value is True or value is False:
        return "t" if value else "f"
    text = value if isinstance(value, str) else str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_COPY_ESCAPES)
    return text


def _copy_line(row: tuple[Any, ...]) -> str:
    """One row in COPY's text format (what write_row produces, built without a call per field
    into the driver: the cost that decides bulk-load throughput from Python). Most rows have no
    character to escape, which one scan of their text can tell; the others take the careful
    path."""
    text = "".join([x for x in row if x.__class__ is str])
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return "\t".join(map(_copy_field, row)) + "\n"
    return (
        "\t".join(
            [
                x
                if x.__class__ is str
                else "\\N"
                if x is None
                else ("t" if x else "f")
                if x.__class__ is bool
                else str(x)
                for x in row
            ]
        )
        + "\n"
    )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while rows are turned into text: the lines make no
    cycles, but their many small lists and tuples trigger collections that walk every object
    of the world being loaded (a sixth of the time at 10^6 volunteers)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _record_params(r: ServiceRecord) -> tuple[Any, ...]:
    row = rows.record_row(r)
    return (*row[:5], bool(row[5]), row[6])  # attended is a boolean column here


def _volunteer_copy_row(v: Volunteer) -> tuple[Any, ...]:
    r = rows.volunteer_row(v)
    return (r[0], r[1], _ewkb(r[2], r[3]), r[4], r[5], r[6], bool(r[7]), *r[8:])


def _volunteer_copy_line(v: Volunteer) -> str:
    """A volunteer as one line of COPY text in the order of ``_V_COLUMNS``: the fields of
    :func:`_volunteer_copy_row` without the tuples in between (a bulk load formats 10^6 of
    these, and their cost decides its throughput). Text that needs escaping takes the careful
    path."""
    home = v.home
    lists = rows.volunteer_lists(v)
    source = None if home is None else home.source
    given = (v.id, v.name, v.timezone, v.district or "", v.phone or "", v.email or "", *lists, source or "")
    probe = "".join(given)
    if "\\" in probe or "\t" in probe or "\n" in probe or "\r" in probe:
        return _copy_line(_volunteer_copy_row(v))
    birth = rows.day_text(v.birth_date)
    return (
        "\t".join(
            [
                v.id,
                v.name,
                _NULL if home is None else _ewkb_point(home.lat, home.lon),
                str(v.max_travel_km),
                _NULL if birth is None else birth,
                v.timezone,
                "t" if v.online_ok else "f",
                _NULL if v.district is None else v.district,
                _NULL if v.phone is None else v.phone,
                _NULL if v.email is None else v.email,
                *lists,
                _NULL if source is None else source,
            ]
        )
        + "\n"
    )


def _activity_copy_row(a: Activity) -> tuple[Any, ...]:
    r = rows.activity_row(a)
    return (*r[:5], _ewkb(r[5], r[6]), bool(r[7]), *r[8:])


class PostgisStore:
    """See the module docstring. ``url`` is a libpq URL; ``options=-csearch_path=...`` in it
    selects a schema (the tests give each test its own)."""

    def __init__(
        self, url: str, *, min_size: int = 1, max_size: int = 8, query_timeout_s: float | None = None
    ) -> None:
        self.url = url
        self._timeout_ms = None if query_timeout_s is None else max(1, round(query_timeout_s * 1000))
        self._failed_at = -math.inf  # when the database last failed to answer
        self._short_wait = False  # since then, no connection has been had
        self._connect_errors = 0  # the pool's failed connection attempts, as last seen
        # After the database has failed, each connection is checked as it leaves the pool, so
        # that once it is back a dead connection is replaced instead of failing a request (in
        # steady running that round trip is skipped); a request waits at most POOL_WAIT_S for
        # one (then the API answers 503, "try again"). Connections are in autocommit: every
        # write is a ``transaction()`` block (BEGIN ... COMMIT), and a single read is then one
        # round trip instead of three (an implicit BEGIN, and the pool's ROLLBACK on return).
        self._pool = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            kwargs={"autocommit": True},
            open=True,
            timeout=POOL_WAIT_S,
            configure=self._configure,
            check=self._check,
        )
        self.migrate()
        self.ops = Operations(self._ops_tx, (psycopg.errors.UniqueViolation,))
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
        self._pool.close()

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        """A new connection's statement timeout: a slow statement is cancelled, not waited for."""
        if self._timeout_ms is not None:
            conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(self._timeout_ms)))

    def _check(self, conn: psycopg.Connection[Any]) -> None:
        if time.monotonic() < self._failed_at + CHECK_AFTER_FAILURE_S:
            ConnectionPool.check_connection(conn)

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection. Once the database has failed to answer, the next requests wait
        for a connection only briefly (SUSPECT_WAIT_S) until one succeeds again, so that while
        PostgreSQL is down they fail at once instead of each waiting POOL_WAIT_S; the pool
        keeps reconnecting in the background meanwhile."""
        suspect = self._short_wait and time.monotonic() < self._failed_at + SUSPECT_FOR_S
        try:
            with self._pool.connection(timeout=SUSPECT_WAIT_S if suspect else POOL_WAIT_S) as conn:
                try:
                    yield conn
                except psycopg.Error:
                    if conn.broken:  # the connection itself was lost, not just a statement
                        self._down()
                    raise
        except PoolTimeout:
            # No connection in time: the database is down if the pool's own attempts to
            # connect have been failing; otherwise this is load, not an outage.
            errors = int(self._pool.get_stats().get("connections_errors", 0))
            if errors > self._connect_errors:
                self._connect_errors = errors
                self._down()
            raise
        else:
            self._short_wait = False

    def _down(self) -> None:
        self._failed_at = time.monotonic()
        self._short_wait = True

    @contextmanager
    def _tx(self) -> Iterator[psycopg.Connection[Any]]:
        with self._connection() as conn, conn.transaction():
            yield conn

    @contextmanager
    def _long_tx(self) -> Iterator[psycopg.Connection[Any]]:
        """A transaction without the statement timeout: bulk loads, migrations and the snapshot
        take as long as the data needs."""
        with self._tx() as conn:
            conn.execute("SET LOCAL statement_timeout = 0")
            yield conn

    @contextmanager
    def _ops_tx(self) -> Iterator[Tx]:
        with self._tx() as db:
            yield _PgTx(db)

    # ------------------------------------------------------------------ migrations

    def migrate(self) -> list[str]:
        files = migrations.files("postgis")
        applied = []
        with self._long_tx() as db:
            db.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)"
            )
            done = {r[0] for r in db.execute("SELECT name FROM schema_migrations")}
            if any(f.name not in done for f in files):
                _require_postgis(db)
            for f in files:
                if f.name in done:
                    continue
                db.execute(f.read_text(encoding="utf-8"))
                db.execute("INSERT INTO schema_migrations (name, applied_at) VALUES (%s, now())", (f.name,))
                applied.append(f.name)
        return applied

    def schema_version(self) -> str:
        with self._connection() as db:
            row = db.execute("SELECT max(name) FROM schema_migrations").fetchone()
        return str(row[0]) if row else ""

    # ------------------------------------------------------------------ writes

    def load_world(self, world: World) -> None:
        """COPY everything in bulk, in one transaction. A record listed twice counts once, as
        its last version (what upserting the records in order gives, as the embedded store does)."""
        world = replace(
            world, volunteers=_last_of_each(world.volunteers), activities=_last_of_each(world.activities)
        )
        with self._long_tx() as db:
            if world.volunteers:
                # Into an empty table COPY goes straight in; otherwise through a temporary table
                # and an upsert (a load may update volunteers already held).
                empty = db.execute("SELECT NOT EXISTS (SELECT 1 FROM volunteers)").fetchone() == (True,)
                target = "volunteers" if empty else "v_in"
                if empty:
                    # A GiST index built once after the load is cheaper than grown row by row.
                    db.execute("DROP INDEX IF EXISTS volunteers_home")
                else:
                    db.execute("CREATE TEMP TABLE v_in (LIKE volunteers INCLUDING DEFAULTS) ON COMMIT DROP")
                _copy(db, target, _V_COLUMNS, world.volunteers, _volunteer_copy_line)
                if empty:
                    db.execute(
                        f"CREATE INDEX volunteers_home ON volunteers USING gist ({VOLUNTEER_HOME_INDEXED})"
                    )
                else:
                    db.execute(
                        f"INSERT INTO volunteers ({_V_COLUMNS}) SELECT {_V_COLUMNS} FROM v_in "
                        f"ON CONFLICT (id) DO UPDATE SET {_updates(_V_COLUMNS)}, erased_at = NULL"
                    )
            if world.activities:
                _merge_activities(db, world.activities)
            if world.service_records:
                _copy(db, "service_records", _R_COLUMNS, (_record_params(r) for r in world.service_records))
            if world.bookings:
                db.cursor().executemany(
                    "INSERT INTO bookings (volunteer_id, shift_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    [(b.volunteer_id, b.shift_id) for b in world.bookings],
                )
            # Logged last, just before the commit: the log number then becomes visible
            # at once, not after a long copy (readers give up on a skipped number).
            _log(db, "reload", "")

    def upsert_volunteer(self, v: Volunteer) -> None:
        r = _volunteer_copy_row(v)
        with self._tx() as db:
            _log(db, "volunteer", v.id)
            db.execute(
                f"INSERT INTO volunteers ({_V_COLUMNS}) VALUES (%s, %s, %s::geography, {', '.join(['%s'] * 13)}) "
                f"ON CONFLICT (id) DO UPDATE SET {_updates(_V_COLUMNS)}",
                r,
            )

    def upsert_activity(self, a: Activity, now_s: int | None = None) -> None:
        with self._tx() as db:
            _log(db, "activity", a.id)
            tx = _PgTx(db)
            before = {} if now_s is None else shift_times(tx, a.id)
            if now_s is not None:
                tell_cancelled(tx, a.id, {s.id for s in a.shifts}, now_s)
            _merge_activities(db, [a])
            if now_s is not None:
                tell_moved(tx, before, now_s)

    def delete_volunteer(self, ident: str) -> bool:
        with self._tx() as db:
            _log(db, "volunteer", ident)
            return db.execute("DELETE FROM volunteers WHERE id = %s", (ident,)).rowcount > 0

    def delete_activity(self, ident: str, now_s: int | None = None) -> bool:
        with self._tx() as db:
            _log(db, "activity", ident)
            if now_s is not None:
                tell_cancelled(_PgTx(db), ident, None, now_s)
            return db.execute("DELETE FROM activities WHERE id = %s", (ident,)).rowcount > 0

    def add_service_record(self, r: ServiceRecord) -> None:
        with self._tx() as db:
            _log(db, "reload", "")
            db.execute(
                "INSERT INTO service_records (volunteer_id, activity_id, shift_id, date, hours, attended, rating) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                _record_params(r),
            )

    def erase_volunteer(self, ident: str) -> bool:
        with self._tx() as db:
            _log(db, "volunteer", ident)
            cur = db.execute(
                "UPDATE volunteers SET name = '', home = NULL, home_source = NULL, birth_date = NULL, phone = NULL, email = NULL, "
                "district = NULL, erased_at = now() WHERE id = %s AND erased_at IS NULL",
                (ident,),
            )
            db.execute("DELETE FROM bookings WHERE volunteer_id = %s", (ident,))
            db.execute(
                "UPDATE sessions SET revoked_s = extract(epoch FROM now())::bigint WHERE revoked_s IS NULL "
                "AND account_id IN (SELECT id FROM accounts WHERE volunteer_id = %s)",
                (ident,),
            )
            db.execute("DELETE FROM accounts WHERE volunteer_id = %s", (ident,))
            db.execute("DELETE FROM real_names WHERE volunteer_id = %s", (ident,))
            db.execute("DELETE FROM guardians WHERE volunteer_id = %s", (ident,))
            return cur.rowcount > 0

    def create_account(self, account: Account) -> None:
        with self._tx() as db:
            _insert_account(db, account)

    def register(self, v: Volunteer, account: Account, also: Callable[[Tx], None]) -> None:
        with self._tx() as db:
            if db.execute("SELECT 1 FROM volunteers WHERE id = %s", (v.id,)).fetchone() is not None:
                raise ConflictError(f"a volunteer with id {v.id!r} exists already")
            _log(db, "volunteer", v.id)
            db.execute(
                f"INSERT INTO volunteers ({_V_COLUMNS}) VALUES (%s, %s, %s::geography, {', '.join(['%s'] * 13)})",
                _volunteer_copy_row(v),
            )
            _insert_account(db, account)
            also(_PgTx(db))

    # ------------------------------------------------------------------ reads

    def _one(self, sql: str, args: Sequence[Any]) -> tuple[Any, ...] | None:
        with self._connection() as db:
            return db.execute(sql, args).fetchone()

    def _all(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._connection() as db:
            return db.execute(sql, args).fetchall()

    def last_change(self) -> int:
        row = self._one("SELECT coalesce(max(seq), 0) FROM changes", ())
        return int(row[0]) if row else 0

    def changes_since(self, seq: int) -> list[tuple[int, str, str]]:
        found = self._all(
            "SELECT seq, kind, ident FROM changes WHERE seq > %s ORDER BY seq LIMIT 10000", (seq,)
        )
        return [(int(r[0]), str(r[1]), str(r[2])) for r in found]

    def get_account(self, ident: str) -> Account | None:
        row = self._one(f"{rows.ACCOUNT_SELECT} WHERE id = %s", (ident,))
        return None if row is None else Account(*row)

    def find_account(self, name: str) -> Account | None:
        row = self._one(f"{rows.ACCOUNT_SELECT} WHERE name = %s", (name,))
        return None if row is None else Account(*row)

    def accounts(self, limit: int) -> list[Account]:
        found = self._all(f"{rows.ACCOUNT_SELECT} ORDER BY id LIMIT %s", (limit,))
        return [Account(*r) for r in found]

    def counts(self) -> dict[str, int]:
        out = {}
        with self._connection() as db:
            for table in ("volunteers", "activities", "shifts", "service_records", "bookings"):
                where = " WHERE erased_at IS NULL" if table == "volunteers" else ""
                row = db.execute(f"SELECT count(*) FROM {table}{where}").fetchone()
                out[table] = int(row[0]) if row else 0
        return out

    def get_volunteer(self, ident: str) -> Volunteer | None:
        row = self._one(f"{_V_SELECT} WHERE id = %s AND erased_at IS NULL", (ident,))
        return None if row is None else rows.volunteer_from(row)

    def volunteer_cards(self, idents: list[str]) -> dict[str, tuple[str, str | None]]:
        found = self._all(
            "SELECT id, name, district FROM volunteers WHERE erased_at IS NULL AND id = ANY(%s)", (idents,)
        )
        return {r[0]: (r[1], r[2]) for r in found}

    def get_activity(self, ident: str) -> Activity | None:
        with self._connection() as db:
            row = db.execute(f"{_A_SELECT} WHERE id = %s", (ident,)).fetchone()
            if row is None:
                return None
            shifts = db.execute(
                "SELECT id, starts_at, ends_at, capacity FROM shifts WHERE activity_id = %s ORDER BY starts_utc, id",
                (ident,),
            ).fetchall()
        return rows.activity_from(row, [rows.shift_from(s) for s in shifts])

    def service_records_of(self, volunteer_id: str) -> list[ServiceRecord]:
        return [
            rows.record_from(r)
            for r in self._all(f"{_R_SELECT} WHERE volunteer_id = %s ORDER BY date, id", (volunteer_id,))
        ]

    def list_activities(
        self,
        *,
        category: str | None,
        starts_from: int | None,
        starts_to: int | None,
        near: GeoPoint | None = None,
        radius_km: float | None = None,
    ) -> list[Activity]:
        where, args = rows.activity_filters(category, starts_from, starts_to, "%s")
        if near is not None and radius_km is not None:
            # On the indexed column as stored; the sphere is enough to prefilter, the caller
            # measures the distance it shows.
            where.append(f"(a.location IS NULL OR ST_DWithin(a.location, {_POINT}, %s, false))")
            args += [near.lon, near.lat, radius_km * 1000.0 * 1.001]
        ids = [r[0] for r in self._all(f"SELECT a.id FROM activities a {_where(where)} ORDER BY a.id", args)]
        return self._activities(ids)

    def _activities(self, ids: list[str]) -> list[Activity]:
        if not ids:
            return []
        with self._connection() as db:
            found = {r[0]: r for r in db.execute(f"{_A_SELECT} WHERE id = ANY(%s)", (ids,))}
            by_act: dict[str, list[Any]] = {}
            for r in db.execute(
                "SELECT activity_id, id, starts_at, ends_at, capacity FROM shifts WHERE activity_id = ANY(%s) "
                "ORDER BY starts_utc, id",
                (ids,),
            ):
                by_act.setdefault(r[0], []).append(rows.shift_from(r[1:]))
        return [rows.activity_from(found[i], by_act.get(i, [])) for i in ids if i in found]

    def snapshot(self) -> World:
        with self._connection() as db, db.transaction():
            db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            db.execute("SET LOCAL statement_timeout = 0")  # a whole city can take a while
            vols = tuple(
                rows.volunteer_from(r) for r in db.execute(f"{_V_SELECT} WHERE erased_at IS NULL ORDER BY id")
            )
            by_act: dict[str, list[Any]] = {}
            for r in db.execute(
                "SELECT activity_id, id, starts_at, ends_at, capacity FROM shifts ORDER BY starts_utc, id"
            ):
                by_act.setdefault(r[0], []).append(rows.shift_from(r[1:]))
            acts = tuple(
                rows.activity_from(r, by_act.get(r[0], [])) for r in db.execute(f"{_A_SELECT} ORDER BY id")
            )
            recs = tuple(
                rows.record_from(r)
                for r in db.execute(
                    f"{_R_SELECT} WHERE volunteer_id IN (SELECT id FROM volunteers WHERE erased_at IS NULL) ORDER BY id"
                )
            )
            books = tuple(
                Booking(r[0], r[1])
                for r in db.execute(
                    "SELECT volunteer_id, shift_id FROM bookings ORDER BY volunteer_id, shift_id"
                )
            )
        return World(vols, acts, recs, books)


def _require_postgis(db: psycopg.Connection[Any]) -> None:
    """Create the PostGIS extension in a new database (the migrations need its types), or
    say plainly what is missing: the package on the server, or the right to create it."""
    if db.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone():
        return
    if not db.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").fetchone():
        raise RuntimeError(
            "PostGIS is not installed on this PostgreSQL server: install it (Debian: "
            "apt-get install postgresql-15-postgis-3), then start volmatch again"
        )
    try:
        with db.transaction():
            db.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg.errors.InsufficientPrivilege as e:
        raise RuntimeError(
            "this database has no postgis extension and this user may not create it: "
            "run CREATE EXTENSION postgis as a superuser in it, then start volmatch again"
        ) from e


def _insert_account(db: psycopg.Connection[Any], account: Account) -> None:
    try:
        with db.transaction():  # a savepoint: the caller's transaction survives to report it
            db.execute(
                "INSERT INTO accounts (id, name, role, organisation_id, volunteer_id, password_hash) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (account.id, account.name, account.role, account.organisation_id, account.volunteer_id,
                 account.password_hash),
            )  # fmt: skip
    except psycopg.errors.UniqueViolation as e:
        raise ConflictError(f"an account named {account.name!r} already exists") from e


class _PgTx:
    """A transaction of this store as :mod:`matcher.store.operations` uses one."""

    def __init__(self, db: psycopg.Connection[Any]) -> None:
        self.db = db

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self.db.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self.db.execute(sql, params).fetchall()

    def run(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        return self.db.execute(sql, params).rowcount

    def run_many(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        with self.db.cursor() as cur:
            cur.executemany(sql, rows)  # psycopg sends them in one pipeline


def _log(db: psycopg.Connection[Any], kind: str, ident: str) -> None:
    db.execute("INSERT INTO changes (kind, ident) VALUES (%s, %s)", (kind, ident))


def _where(clauses: list[str]) -> str:
    return ("WHERE " + " AND ".join(clauses)) if clauses else ""


def _updates(columns: str) -> str:
    names = [c.strip() for c in columns.split(",")][1:]
    return ", ".join(f"{c} = excluded.{c}" for c in names)


def _last_of_each(items: Sequence[_Identified]) -> tuple[_Identified, ...]:
    """One record per id, the last given, in order of first appearance."""
    last = {item.id: item for item in items}
    return tuple(last.values()) if len(last) < len(items) else tuple(items)


def _copy(
    db: psycopg.Connection[Any],
    table: str,
    columns: str,
    records: Iterable[Any],
    line: Callable[[Any], str] = _copy_line,
) -> None:
    """COPY records into ``table``, each formatted by ``line`` (default: a tuple of fields): in
    chunks, while a writer thread sends the previous chunk, so that this process and the
    server's backend work at the same time."""
    cur = db.cursor()
    with (
        cur.copy(f"COPY {table} ({columns}) FROM STDIN", writer=QueuedLibpqWriter(cur)) as copy,
        _collector_paused(),
    ):
        chunk: list[str] = []
        for record in records:
            chunk.append(line(record))
            if len(chunk) == COPY_CHUNK:
                copy.write("".join(chunk).encode())
                chunk = []
        if chunk:
            copy.write("".join(chunk).encode())


def _merge_activities(db: psycopg.Connection[Any], activities: Sequence[Activity]) -> None:
    """Activities and their shifts (one, or a bulk load's many): COPY into temporary tables,
    then set-based upserts; an activity's shifts not in the load are
    removed, and a shift id held by another activity is a conflict (nothing is written)."""
    db.execute("CREATE TEMP TABLE a_in (LIKE activities INCLUDING DEFAULTS) ON COMMIT DROP")
    db.execute("CREATE TEMP TABLE s_in (LIKE shifts INCLUDING DEFAULTS) ON COMMIT DROP")
    _copy(db, "a_in", _A_COLUMNS, (_activity_copy_row(a) for a in activities))
    _copy(db, "s_in", _S_COLUMNS, (row for a in activities for row in rows.shift_rows(a)))
    clash = db.execute(
        "SELECT s_in.id, shifts.activity_id FROM s_in JOIN shifts ON shifts.id = s_in.id "
        "WHERE shifts.activity_id <> s_in.activity_id LIMIT 1"
    ).fetchone()
    if clash is None:
        clash = db.execute(
            "SELECT id, min(activity_id) FROM s_in GROUP BY id HAVING count(*) > 1 LIMIT 1"
        ).fetchone()
    if clash is not None:
        raise ConflictError(f"shift id {clash[0]!r} already belongs to activity {clash[1]!r}")
    db.execute(
        f"INSERT INTO activities ({_A_COLUMNS}) SELECT {_A_COLUMNS} FROM a_in "
        f"ON CONFLICT (id) DO UPDATE SET {_updates(_A_COLUMNS)}"
    )
    db.execute(
        "DELETE FROM shifts USING a_in WHERE shifts.activity_id = a_in.id "
        "AND NOT EXISTS (SELECT 1 FROM s_in WHERE s_in.id = shifts.id)"
    )
    db.execute(
        f"INSERT INTO shifts ({_S_COLUMNS}) SELECT {_S_COLUMNS} FROM s_in "
        f"ON CONFLICT (id) DO UPDATE SET {_updates(_S_COLUMNS)}"
    )
