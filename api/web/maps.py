"""The city's map as SVG drawn on the server from ``data/districts.geojson`` (no tiles from the
internet): district outlines with labels that do not overlap, and points placed on them."""

from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Any

from matcher.store.base import data_dir

WIDTH = 600.0
"""The map's width in its own units (it scales to any screen)."""


@lru_cache(maxsize=1)
def districts() -> list[dict[str, Any]]:
    """The district polygons shipped with the product."""
    doc = json.loads((data_dir() / "districts.geojson").read_text(encoding="utf-8"))
    features: list[dict[str, Any]] = doc["features"]
    return features


def district_paths(shortages: dict[str, float], lang: str) -> tuple[list[dict[str, Any]], float]:
    """Each district as an SVG path (equirectangular, x scaled by the cosine of the mean
    latitude), with its shortage (hours asked beyond the hours volunteers are free, summed
    over its cells) and a shade from 0 (none) to 1 (the largest); labels placed so that none
    overlaps another (:func:`_place_labels`)."""
    rings = [f["geometry"]["coordinates"][0] for f in districts()]
    lons = [p[0] for r in rings for p in r]
    lats = [p[1] for r in rings for p in r]
    k = math.cos(math.radians((min(lats) + max(lats)) / 2))
    scale = WIDTH / ((max(lons) - min(lons)) * k)
    height = (max(lats) - min(lats)) * scale
    names = {f["properties"]["name"] for f in districts()}
    top = max((g for d, g in shortages.items() if d in names), default=0.0) or 1.0
    out = []
    for f, ring in zip(districts(), rings, strict=True):
        d = (
            "M"
            + " L".join(f"{(x - min(lons)) * k * scale:.1f},{(max(lats) - y) * scale:.1f}" for x, y in ring)
            + " Z"
        )
        name = f["properties"]["name"]
        short = shortages.get(name)
        lon, lat = f["properties"]["centre"]
        out.append({"name": name, "name_en": f["properties"].get("name_en", name), "d": d, "gap": short,
                    "label": name if lang == "zh" else f["properties"].get("name_en", name),
                    "shade": None if short is None else math.sqrt(max(short, 0.0) / top),
                    "x": (lon - min(lons)) * k * scale, "y": (max(lats) - lat) * scale})  # fmt: skip
    _place_labels(out, height)
    return out, height


LABEL_SIZE = 13.0
"""Label font size in map units (the map is WIDTH units wide at any screen width)."""


def _label_box(label: str, x: float, y: float) -> tuple[float, float, float, float]:
    """The box a centred label takes: CJK characters are a font size wide, Latin ones 0.6."""
    width = sum(LABEL_SIZE if ord(c) > 0x2E80 else 0.6 * LABEL_SIZE for c in label)
    return x - width / 2, y - LABEL_SIZE, x + width / 2, y + 2


def _place_labels(shapes: list[dict[str, Any]], height: float) -> None:
    """Move each label off its centre, a step at a time, until it overlaps no label placed
    before it (the districts with the largest shortage first); a label with no free place
    nearby is left out (the district keeps its tooltip and its rows in the table)."""
    placed: list[tuple[float, float, float, float]] = []
    steps = [(0.0, 0.0)] + [(dx * LABEL_SIZE, dy * LABEL_SIZE) for r in (1, 2, 3)
                            for dx, dy in ((0, r), (0, -r), (r * 2, 0), (-r * 2, 0), (r * 1.5, r), (-r * 1.5, -r))]  # fmt: skip
    for s in sorted(shapes, key=lambda s: -(s["gap"] or 0.0)):
        s["show"] = False
        for dx, dy in steps:
            box = _label_box(s["label"], s["x"] + dx, s["y"] + dy)
            inside = box[0] >= 0 and box[2] <= WIDTH and box[1] >= 0 and box[3] <= height
            if inside and not any(_overlap(box, other) for other in placed):
                s["x"], s["y"], s["show"] = s["x"] + dx, s["y"] + dy, True
                placed.append(box)
                break


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@lru_cache(maxsize=1)
def _frame() -> tuple[float, float, float, float]:
    """(west, north, x scale, y scale) of the equirectangular projection the paths use."""
    rings = [f["geometry"]["coordinates"][0] for f in districts()]
    lons = [p[0] for r in rings for p in r]
    lats = [p[1] for r in rings for p in r]
    k = math.cos(math.radians((min(lats) + max(lats)) / 2))
    scale = WIDTH / ((max(lons) - min(lons)) * k)
    return min(lons), max(lats), k * scale, scale


def project(lon: float, lat: float) -> tuple[float, float]:
    """A point's place on the map (outside the districts' box it falls off the map)."""
    west, north, x_scale, y_scale = _frame()
    return (lon - west) * x_scale, (north - lat) * y_scale
