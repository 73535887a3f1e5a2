"""Great-circle distances on a spherical Earth.

Model and its error: distances are great-circle distances on a sphere of radius
:data:`EARTH_RADIUS_KM`, the IUGG mean Earth radius R1 = 6371.0088 km (Moritz 2000, "Geodetic
Reference System 1980", Journal of Geodesy 74). Against the WGS 84 ellipsoid the sphere is off by
at most about 0.5 % (typically 0.1-0.3 % at city scale): 3.2 km may really be 3.19 or 3.21 km, far
below the precision anyone travels by. ``tests/store/test_postgis_geo.py`` checks this against
PostGIS's spheroidal ``ST_Distance`` on real city pairs.

Points are (latitude, longitude) in degrees, latitude first. The vectorised functions take and
return numpy arrays; shapes are stated in each docstring.
"""

from __future__ import annotations

import bisect
import itertools
import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from matcher.model.domain import GeoPoint

EARTH_RADIUS_KM = 6371.0088
"""IUGG mean Earth radius R1 (Moritz 2000), in kilometres."""

MAX_RADIUS_KM = math.pi * EARTH_RADIUS_KM
"""Half the circumference: no two points on Earth are farther apart than this."""


def haversine_km(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance between two points, in kilometres (scalar, float64)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def unit_vectors(lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.float64]:
    """Points on the unit sphere for arrays of latitudes and longitudes in degrees.

    Parameters
    ----------
    lat_deg, lon_deg : array_like of shape (n,)

    Returns
    -------
    ndarray of shape (n, 3), float64: x towards (0, 0), y towards (0, 90 E), z towards the north pole.
    """
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    cos_lat = np.cos(lat)
    return np.stack([cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)], axis=-1)


def chord_to_km(chord: ArrayLike) -> NDArray[np.float64]:
    """Great-circle distance in km for chord lengths between unit vectors.

    The chord form ``2 R asin(c / 2)`` stays accurate to ~0.2 m in float32 where ``acos`` of a
    dot product loses kilometres (see PERFORMANCE.md).
    """
    c = np.asarray(chord)
    out: NDArray[np.float64] = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(c * 0.5, 1.0))
    return out


def km_to_chord(distance_km: float) -> float:
    """Chord length between unit vectors that are ``distance_km`` apart on the surface."""
    angle = min(distance_km, MAX_RADIUS_KM) / EARTH_RADIUS_KM
    return 2.0 * math.sin(angle / 2.0)


def distances_km(points_xyz: NDArray[np.floating], origin_xyz: NDArray[np.floating]) -> NDArray[np.float32]:
    """Great-circle distances from one origin to many points, both given as unit vectors.

    Parameters
    ----------
    points_xyz : ndarray of shape (n, 3), float32 or float64
    origin_xyz : ndarray of shape (3,)

    Returns
    -------
    ndarray of shape (n,), float32, kilometres.
    """
    origin = origin_xyz.astype(points_xyz.dtype, copy=False)
    diff = points_xyz - origin
    chord = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    out: NDArray[np.float32] = (
        np.float32(2.0 * EARTH_RADIUS_KM) * np.arcsin(np.minimum(chord * 0.5, 1.0))
    ).astype(np.float32, copy=False)
    # Past a quarter of the globe arcsin grows steep and the chord loses kilometres near the
    # antipode; there the chord to the antipode (the sum of the vectors) is the precise one.
    far = np.flatnonzero(chord > 1.4)
    if far.size:
        total = points_xyz[far] + origin
        opposite = np.sqrt(np.einsum("ij,ij->i", total, total))
        angle = np.pi - 2.0 * np.arcsin(np.minimum(opposite.astype(np.float64) * 0.5, 1.0))
        out[far] = (EARTH_RADIUS_KM * angle).astype(np.float32)
    return out


DISTANCE_BANDS_KM: tuple[float, ...] = (2.0, 5.0, 10.0, 20.0, 50.0)
"""Upper edges of the distance bands shown to people who must not learn a precise distance."""


MATCHING_CELL_KM = 2.0
"""Side of the cells volunteers' homes are matched on, as wide as the narrowest distance band.

Matching never uses a precise home: every home is moved to the centre of its cell first, so all
that anyone else can learn from rankings, scores, bands or eligibility is the cell. Were bands
measured from the precise home, an organiser moving a posting until a volunteer's band changes
would find the band's edge, a circle around the home, and three edges pin the home to metres
(``tests/api/test_privacy_attack.py`` plays that attacker)."""

_CELL_DLAT = MATCHING_CELL_KM / (math.pi * EARTH_RADIUS_KM / 180.0)
_CELL_BANDS = math.ceil(180.0 / _CELL_DLAT)


def matching_cells(lat_deg: ArrayLike, lon_deg: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The centres of the matching cells of points (NaN stays NaN): arrays of latitudes and
    longitudes, in degrees, of the same shape.

    Cells are bands of equal latitude height (:data:`MATCHING_CELL_KM`), each cut into as many
    equal longitude cells as fit (one at a pole), so they are about square everywhere; longitude
    180 and -180 are the same meridian and fall in the same cell.
    """
    lat = np.asarray(lat_deg, dtype=np.float64)
    lon = np.asarray(lon_deg, dtype=np.float64)
    known = np.isfinite(lat) & np.isfinite(lon)
    safe_lat = np.where(known, lat, 0.0)
    safe_lon = np.where(known, lon, 0.0)
    band = np.clip(np.floor((safe_lat + 90.0) / _CELL_DLAT), 0, _CELL_BANDS - 1)
    centre_lat = np.minimum(-90.0 + (band + 0.5) * _CELL_DLAT, 90.0)
    # As many cells as fit along the band's poleward edge, where it is narrowest: no cell is
    # narrower than MATCHING_CELL_KM anywhere (one cell in each polar band).
    outer = np.maximum(np.abs(-90.0 + band * _CELL_DLAT), np.abs(-90.0 + (band + 1.0) * _CELL_DLAT))
    cells = np.maximum(1.0, np.floor(360.0 * np.cos(np.radians(np.minimum(outer, 90.0))) / _CELL_DLAT))
    turn = np.mod(safe_lon + 180.0, 360.0) / 360.0  # 0 <= turn < 1; +180 wraps to -180
    cell = np.minimum(np.floor(turn * cells), cells - 1.0)
    centre_lon = -180.0 + (cell + 0.5) * 360.0 / cells
    centre_lon = np.where(centre_lon > 180.0, centre_lon - 360.0, centre_lon)
    return np.where(known, centre_lat, np.nan), np.where(known, centre_lon, np.nan)


def matching_cell(point: GeoPoint) -> GeoPoint:
    """The centre of ``point``'s matching cell (see :func:`matching_cells`)."""
    lat, lon = matching_cells([point.lat], [point.lon])
    return GeoPoint(float(lat[0]), float(lon[0]))


def distance_band(distance_km: float) -> str:
    """The coarse band a distance falls in: "< 2 km", "2–5 km", ..., "> 50 km"."""
    return _BAND_LABELS[bisect.bisect_right(DISTANCE_BANDS_KM, distance_km)]


def _band_labels() -> tuple[str, ...]:
    edges = (0.0, *DISTANCE_BANDS_KM)
    inner = [f"< {hi:g} km" if lo == 0.0 else f"{lo:g}–{hi:g} km" for lo, hi in itertools.pairwise(edges)]
    return (*inner, f"> {DISTANCE_BANDS_KM[-1]:g} km")


_BAND_LABELS = _band_labels()
