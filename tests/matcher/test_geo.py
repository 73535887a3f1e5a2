import math

import numpy as np
import pytest
from geopy.distance import great_circle
from hypothesis import example, given
from hypothesis import strategies as st

from matcher.domain import GeoPoint
from matcher.errors import ValidationError
from matcher.geo import EARTH_RADIUS_KM, distance_band, distances_km, haversine_km, unit_vectors

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
