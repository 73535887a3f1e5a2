"""volmatch's sphere against PostGIS's own distances, on a real PostgreSQL with PostGIS, and a new
database prepared on first open."""

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.model.domain import GeoPoint
from matcher.model.geo import haversine_km

pytestmark = pytest.mark.postgis

CITY_PAIRS = [
    ((39.9042, 116.4074), (39.3434, 117.3616)),  # Beijing - Tianjin
    ((30.2741, 120.1551), (31.2304, 121.4737)),  # Hangzhou - Shanghai
    ((30.2500, 120.1400), (30.2600, 120.1500)),  # across the West Lake
    ((22.5431, 114.0579), (22.3193, 114.1694)),  # Shenzhen - Hong Kong
]


def postgis_km(conn: object, a: tuple[float, float], b: tuple[float, float], spheroid: bool) -> float:
    row = conn.execute(  # type: ignore[attr-defined]
        "SELECT ST_Distance(ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, "
        "ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s) / 1000.0",
        (a[1], a[0], b[1], b[0], spheroid),
    ).fetchone()
    return float(row[0])


@pytest.mark.parametrize(("a", "b"), CITY_PAIRS)
def test_model_error_against_the_wgs84_spheroid_is_under_half_a_percent(
    postgis_conn: object, a: tuple, b: tuple
) -> None:
    ours = haversine_km(GeoPoint(*a), GeoPoint(*b))
    assert ours == pytest.approx(postgis_km(postgis_conn, a, b, spheroid=True), rel=0.005)


@settings(max_examples=30, deadline=None)
@given(st.floats(-80, 80), st.floats(-179, 179), st.floats(-80, 80), st.floats(-179, 179))
def test_same_sphere_as_postgis(
    postgis_conn: object, lat1: float, lon1: float, lat2: float, lon2: float
) -> None:
    ours = haversine_km(GeoPoint(lat1, lon1), GeoPoint(lat2, lon2))
    # PostGIS's sphere uses the same mean radius (6371008.8 m, to 0.03 m).
    assert ours == pytest.approx(
        postgis_km(postgis_conn, (lat1, lon1), (lat2, lon2), spheroid=False), rel=1e-6, abs=1e-6
    )


@settings(max_examples=60, deadline=None)
@given(st.floats(-90, 90), st.floats(-180, 180))
def test_points_written_as_ewkb_read_back_exactly(postgis_conn: object, lat: float, lon: float) -> None:
    from matcher.store.postgis import _ewkb

    row = postgis_conn.execute(  # type: ignore[attr-defined]
        "SELECT ST_Y(g::geometry), ST_X(g::geometry), ST_SRID(g) FROM (SELECT %s::geography AS g) p",
        (_ewkb(lat, lon),),
    ).fetchone()
    assert (row[0], row[1], row[2]) == (lat, lon, 4326)


def test_a_brand_new_database_gets_postgis_on_first_open(postgis_conn: Any) -> None:
    """`VOLMATCH_DATABASE_URL=postgresql://.../new make run` on a database nobody has prepared:
    the store creates the extension itself before its migrations need it."""
    import secrets

    from matcher.store.connect import open_store
    from tests.conftest import POSTGRES_URL

    name = f"volmatch_new_{secrets.token_hex(4)}"
    postgis_conn.execute(f"CREATE DATABASE {name}")
    try:
        url = POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
        store = open_store(url)
        try:
            assert store.counts()["volunteers"] == 0
        finally:
            store.close()
    finally:
        postgis_conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
