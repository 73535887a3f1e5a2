"""Shared fixtures: the shipped taxonomy, hand-built worlds, and a real PostgreSQL with PostGIS."""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from matcher.model.domain import Activity, GeoPoint, Shift, SkillClaim, Volunteer, WeeklyWindow
from matcher.model.skills import Taxonomy
from matcher.store.base import load_taxonomy

CST = timezone(timedelta(hours=8))
AS_OF = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
WEST_LAKE = GeoPoint(30.2500, 120.1400)


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


def km_north(point: GeoPoint, km: float) -> GeoPoint:
    """A point ``km`` north of ``point`` (111.195 km per degree on the volmatch sphere)."""
    return GeoPoint(point.lat + km / 111.19508, point.lon)


def volunteer(ident: str, km: float = 1.0, **kw: Any) -> Volunteer:
    """A volunteer ``km`` north of the West Lake, free on Saturday 08:00-12:00, 10 km limit."""
    defaults: dict[str, Any] = dict(
        name=ident,
        home=km_north(WEST_LAKE, km),
        max_travel_km=10.0,
        availability=(WeeklyWindow.parse("sat", "08:00", "12:00"),),
        birth_date=date(1990, 1, 1),
    )
    defaults.update(kw)
    if "skills" in defaults:
        defaults["skills"] = tuple(SkillClaim(s) if isinstance(s, str) else s for s in defaults["skills"])
    return Volunteer(id=ident, **defaults)


def saturday_shift(
    ident: str = "s1", capacity: int = 10, day: int = 5, start: int = 8, end: int = 12
) -> Shift:
    """Saturday 2026-12-05 (day=5) from ``start`` to ``end`` o'clock, Beijing time."""
    return Shift(
        ident, datetime(2026, 12, day, start, tzinfo=CST), datetime(2026, 12, day, end, tzinfo=CST), capacity
    )


def upcoming_shift(ident: str = "s1", days: int = 7) -> Shift:
    """A Saturday-morning-free shift ``days`` after the real now, for tests of a served process
    (its clock is the real one, so fixed dates in the past would leave nothing open)."""
    day = (datetime.now(CST) + timedelta(days=days)).date()
    day += timedelta(days=(5 - day.weekday()) % 7)  # the Saturday on or after
    return Shift(ident, datetime(day.year, day.month, day.day, 8, tzinfo=CST),
                 datetime(day.year, day.month, day.day, 12, tzinfo=CST), 10)  # fmt: skip


def activity(ident: str = "a1", **kw: Any) -> Activity:
    defaults: dict[str, Any] = dict(
        organisation_id="o1",
        title="西湖马拉松医疗点",
        category="sports events",
        timezone="Asia/Shanghai",
        location=WEST_LAKE,
        shifts=(saturday_shift(),),
    )
    defaults.update(kw)
    return Activity(id=ident, **defaults)


DATASETS = Path(
    os.environ.get("VOLMATCH_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets")
)
"""The shared public datasets (``../shared/datasets`` beside the checkout, or ``VOLMATCH_DATASETS``)."""


def dataset(name: str) -> Path:
    """The folder of a shared dataset. In CI a missing one fails the test; in a clone without
    ``../shared`` the test skips and says why."""
    path = DATASETS / name
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the shared datasets are required in CI ({path}; or set VOLMATCH_DATASETS)")
        pytest.skip(f"no {name} data at {path}: a clone without ../shared/datasets skips this")
    return path


POSTGRES_URL = os.environ.get("VOLMATCH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


class _Admin:
    """The tests' own connection to the test PostgreSQL, made again if it was lost (the fault
    tests stop and start the server)."""

    def __init__(self) -> None:
        import psycopg

        self._connect = lambda: psycopg.connect(POSTGRES_URL, connect_timeout=3, autocommit=True)
        self.conn = self._connect()

    def execute(self, statement: str, params: Any = None) -> Any:
        import psycopg

        try:
            return self.conn.execute(statement, params)
        except psycopg.OperationalError:
            if not (self.conn.closed or self.conn.broken):
                raise
            self.conn = self._connect()  # the server restarted since the last use
            return self.conn.execute(statement, params)

    def close(self) -> None:
        self.conn.close()


@pytest.fixture(scope="session")
def postgis_conn() -> Iterator[Any]:
    """A connection to the test PostgreSQL with PostGIS. In CI a missing database fails the run;
    elsewhere the tests skip and say why."""
    import psycopg

    try:
        conn = _Admin()
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg.Error as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL with PostGIS is required in CI ({POSTGRES_URL}): {e}")
        pytest.skip(
            f"no PostgreSQL with PostGIS at {POSTGRES_URL} ({e}); run `make test` as root to install it"
        )
    yield conn
    conn.close()


@pytest.fixture
def postgis_url(postgis_conn: Any) -> Iterator[str]:
    """A fresh schema in the test database for one test, as a store URL (the schema first on the
    search path, PostGIS's types from public); dropped afterwards."""
    import secrets
    from urllib.parse import quote

    schema = f"t_{secrets.token_hex(6)}"
    postgis_conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options={quote(f'-csearch_path={schema},public')}"
    postgis_conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL for one test, once per backend: an embedded SQLite file, then a fresh schema
    in the test PostgreSQL with PostGIS."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("postgis_url"))


@pytest.fixture(scope="session")
def demo_city_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``make run``'s city (``volmatch demo`` with its defaults), built once for the whole run:
    the test workers share the run's temporary folder, and the first to ask builds the city
    while the others wait on a lock. Tests take a copy (:func:`demo_city_copy`)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    target = shared / "demo-city.db"
    with open(shared / "demo-city.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            building = shared / "demo-city.building.db"
            subprocess.run([sys.executable, "-m", "api.cli", "demo", "--db", f"sqlite:///{building}"],
                           check=True, capture_output=True)  # fmt: skip
            with sqlite3.connect(building) as src, sqlite3.connect(shared / "demo-city.tmp.db") as dst:
                src.backup(dst)  # one self-contained file (no write-ahead log beside it)
            (shared / "demo-city.tmp.db").rename(target)
    return target


def demo_city_copy(demo_city_file: Path, folder: Path, name: str = "demo.db") -> str:
    """A private copy of the demo city in ``folder``; its store URL."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(demo_city_file, folder / name)
    return f"sqlite:///{folder / name}"
