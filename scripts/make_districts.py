"""Write data/districts.geojson: the demo city's districts as polygons, for the console's maps.

The demo city (matcher.demo.city) places each district at a centre; its boundaries are the Voronoi
cells of those centres (each point belongs to the nearest centre), clipped to the city's box.
They are the demo city's own boundaries, not the official ones: a deployment replaces the file
with its city's published districts (GeoJSON, a ``name`` property per feature, as here).

Run: .venv/bin/python scripts/make_districts.py
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.spatial import Voronoi

from matcher.demo.city import DISTRICTS

Point = tuple[float, float]
BOX = (118.8, 29.2, 120.75, 30.6)  # west, south, east, north: the demo city with a margin


def clip(
    polygon: list[tuple[float, float]], box: tuple[float, float, float, float]
) -> list[tuple[float, float]]:
    """Sutherland-Hodgman clipping of a convex polygon to a box."""
    west, south, east, north = box
    edges: list[tuple[Callable[[Point], bool], Callable[[Point, Point], Point]]] = [
             (lambda p: p[0] >= west, lambda a, b: _at_x(a, b, west)),
             (lambda p: p[0] <= east, lambda a, b: _at_x(a, b, east)),
             (lambda p: p[1] >= south, lambda a, b: _at_y(a, b, south)),
             (lambda p: p[1] <= north, lambda a, b: _at_y(a, b, north))]  # fmt: skip
    out = polygon
    for inside, cross in edges:
        points, out = out, []
        for i, p in enumerate(points):
            q = points[i - 1]
            if inside(p):
                if not inside(q):
                    out.append(cross(q, p))
                out.append(p)
            elif inside(q):
                out.append(cross(q, p))
    return out


def _at_x(a: tuple[float, float], b: tuple[float, float], x: float) -> tuple[float, float]:
    return x, a[1] + (b[1] - a[1]) * (x - a[0]) / (b[0] - a[0])


def _at_y(a: tuple[float, float], b: tuple[float, float], y: float) -> tuple[float, float]:
    return a[0] + (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]), y


def main() -> None:
    centres = np.array([(lon, lat) for _, _, lat, lon, *_ in DISTRICTS])
    # Far-away mirror points close every real cell, so each is a finite polygon.
    far = np.array([(100.0, 0.0), (140.0, 0.0), (100.0, 60.0), (140.0, 60.0)])
    vor = Voronoi(np.vstack([centres, far]))
    features = []
    for i, (zh, en, lat, lon, *_) in enumerate(DISTRICTS):
        region = vor.regions[vor.point_region[i]]
        ring = clip([tuple(vor.vertices[j]) for j in region], BOX)
        ring = [(round(x, 4), round(y, 4)) for x, y in ring]
        features.append({
            "type": "Feature",
            "properties": {"name": zh, "name_en": en, "centre": [lon, lat]},
            "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
        })  # fmt: skip
    out = Path(__file__).resolve().parents[1] / "data" / "districts.geojson"
    doc = {"type": "FeatureCollection", "name": "volmatch demo city districts (Voronoi cells of the demo centres)",
           "features": features}  # fmt: skip
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out} ({len(features)} districts)")


if __name__ == "__main__":
    main()
