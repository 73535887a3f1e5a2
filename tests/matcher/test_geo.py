import math

import numpy as np
import pytest
from geopy.distance import great_circle
from hypothesis import example, given
from hypothesis import strategies as st

from matcher.model.domain import GeoPoint
from matcher.model.errors import ValidationError
from matcher.model.geo import (
    EARTH_RADIUS_KM,
    MATCHING_CELL_KM,
    distance_band,
    distances_km,
    haversine_km,
    matching_cell,
    matching_cells,
    unit_vectors,
)

lat = st.floats(-90, 90)
lon = st.floats(-180, 180)


def test_beijing_tianjin_golden_distance() -> None:
    # Independent reference: geopy's great-circle formula on the same sphere.
    beijing, tianjin = GeoPoint(39.9042, 116.4074), GeoPoint(39.3434, 117.3616)
    expected = great_circle((39.9042, 116.4074), (39.3434, 117.3616), radius=EARTH_RADIUS_KM).km
    assert haversine_km(beijing, tianjin) == pytest.approx(expected, rel=1e-9)
    assert 100 < expected < 120  # a swapped lat/lon would give thousands of km


@given(lat, lon, lat, lon)
@example(0.0, 0.0, 0.0, 180.0)  # antipodes: where the chord formula alone loses kilometres
@example(0.0, 0.0, 0.0, 179.5)  # 56 km short of the antipode
def test_vectorised_distance_matches_scalar(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> None:
    a, b = GeoPoint(a_lat, a_lon), GeoPoint(b_lat, b_lon)
    xyz = unit_vectors([a_lat], [a_lon]).astype(np.float32)
    origin = unit_vectors([b_lat], [b_lon])[0]
    # float32 unit vectors: under 10 m at any city-scale distance and about 1e-6 relative
    # (tens of metres over 20 000 km) up to the antipode.
    expected = haversine_km(a, b)
    assert float(distances_km(xyz, origin)[0]) == pytest.approx(expected, abs=0.01 + 2e-6 * expected)


def test_antimeridian_neighbours_are_close() -> None:
    assert haversine_km(GeoPoint(0, 179.999), GeoPoint(0, -179.999)) == pytest.approx(0.2224, abs=1e-3)
    assert GeoPoint(10, 180) == GeoPoint(10, -180)


@pytest.mark.parametrize(
    ("lat_", "lon_"), [(91, 0), (-90.1, 0), (0, 180.5), (math.nan, 0), (0, math.inf), (True, 0)]
)
def test_bad_coordinates_are_refused(lat_: float, lon_: float) -> None:
    with pytest.raises(ValidationError):
        GeoPoint(lat_, lon_)


def test_poles_are_points() -> None:
    assert haversine_km(GeoPoint(90, 0), GeoPoint(90, 123)) == pytest.approx(0, abs=1e-9)


@pytest.mark.parametrize(
    ("km", "band"), [(0.3, "< 2 km"), (2.0, "2–5 km"), (7, "5–10 km"), (49, "20–50 km"), (80, "> 50 km")]
)
def test_distance_bands(km: float, band: str) -> None:
    assert distance_band(km) == band


@given(lat, lon)
@example(90.0, 0.0)
@example(-90.0, 123.0)
@example(0.0, 180.0)
@example(0.0, -180.0)
@example(89.9999, 179.9999)
@example(-89.97, -179.9999)
def test_a_matching_cell_is_near_its_points_and_its_own_cell(p_lat: float, p_lon: float) -> None:
    """Every point is within about a cell of its cell's centre (the poles and the antimeridian
    included), the centre is its own cell's centre, and 180 / -180 share a cell."""
    point = GeoPoint(p_lat, p_lon)
    centre = matching_cell(point)
    assert haversine_km(point, centre) <= 1.6 * MATCHING_CELL_KM
    assert matching_cell(centre) == centre
    if abs(p_lon) == 180.0:
        assert matching_cell(GeoPoint(p_lat, -p_lon)) == centre


@given(st.lists(st.tuples(lat, lon), min_size=1, max_size=20))
def test_matching_cells_vectorised_equals_one_by_one_and_keeps_nan(points: list[tuple[float, float]]) -> None:
    lats = np.array([p[0] for p in points] + [np.nan])
    lons = np.array([p[1] for p in points] + [0.0])
    c_lat, c_lon = matching_cells(lats, lons)
    assert np.isnan(c_lat[-1]) and np.isnan(c_lon[-1])
    for (p_lat, p_lon), a, b in zip(points, c_lat[:-1], c_lon[:-1], strict=True):
        assert matching_cell(GeoPoint(p_lat, p_lon)) == GeoPoint(float(a), float(b))


def test_points_a_cell_apart_fall_in_different_cells() -> None:
    """Cells are no bigger than they should be: walking 2.5 km north or east changes cell."""
    for start in (GeoPoint(30.25, 120.14), GeoPoint(-33.9, 151.2), GeoPoint(64.1, -21.9)):
        north = GeoPoint(start.lat + 2.5 / 111.195, start.lon)
        east = GeoPoint(start.lat, start.lon + 2.5 / (111.195 * math.cos(math.radians(start.lat))))
        assert matching_cell(north) != matching_cell(start) != matching_cell(east)
