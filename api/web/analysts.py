"""Analysts' pages: the demand-and-supply gap map (the districts shipped in
``data/districts.geojson``, drawn as SVG on the server: no map tiles from the internet) and
table with filters, ideas for new projects, and the ranking models with their test metrics.
Everything comes from the API's own route functions: aggregates only, small cells suppressed."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.routes import demand, learning
from api.usecases import demand as demand_uc
from api.web.base import page_as, problem, render
from matcher.analytics.gaps import WEEKDAYS
from matcher.model.domain import category_label
from matcher.model.errors import MatcherError
from matcher.store.base import data_dir

router = APIRouter(include_in_schema=False)
READERS = ("analyst", "admin", "organiser", "org_admin")
WIDTH = 600.0
MAX_ROWS = 60
ONLINE = "(online)"
"""The gap table's district for online work: it has no place on the map."""


@lru_cache(maxsize=1)
def districts() -> list[dict[str, Any]]:
    """The district polygons shipped with the product."""
    doc = json.loads((data_dir() / "districts.geojson").read_text(encoding="utf-8"))
    features: list[dict[str, Any]] = doc["features"]
    return features


def _svg_paths(shortages: dict[str, float], lang: str) -> tuple[list[dict[str, Any]], float]:
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


def _colour(shade: float | None) -> str:
    """Red where more hours are asked than volunteers are free (darker: a larger shortage), a
    pale green where there is none; grey where the cells are suppressed or empty."""
    if shade is None:
        return "#c9d1da"
    if shade <= 0:
        return "#e5f5e0"
    light = (254, 224, 210)
    dark = (165, 15, 21)
    k = min(shade, 1.0)
    return "#" + "".join(f"{round(a + (b - a) * k):02x}" for a, b in zip(light, dark, strict=True))


@router.get("/analytics", response_class=HTMLResponse)
async def analytics(request: Request) -> Response:
    page = await page_as(request, *READERS)
    q = request.query_params
    category, weekday, area = q.get("category") or None, q.get("weekday") or None, q.get("area") or None
    skill_text = (q.get("skill") or "").strip()[:200]
    skill = page.service.taxonomy.resolve(skill_text) if skill_text else None
    # The table is by category or by skill (a volunteer's hour is split over one or the other).
    by = ["district", "skill" if skill else "category", "weekday"]
    error = page.t("unknown_skill") if skill_text and skill is None else None
    try:
        start = date.fromisoformat(q["from"]) if q.get("from") else None
        # The form's "to" is the last day shown (the API's end is the day after).
        end = date.fromisoformat(q["to"]) + timedelta(days=1) if q.get("to") else None
        table = demand.gap_table(page.service, page.now, ",".join(by), start, end)
        ideas = demand.suggestions(page.service, page.now, start, end, 10)
    except (MatcherError, ValueError) as e:
        error = problem(e, page.lang)
        table = {"rows": [], "from": q.get("from", ""), "to": q.get("to", "")}
        ideas = {"projects": [], "recruitment": []}
    if skill_text and skill is None:
        table["rows"] = []  # an unknown skill: say so rather than show every skill's rows
    rows = [r for r in table["rows"] if (skill is not None or category is None or r.get("category") == category)
            and (skill is None or r.get("skill") == skill)
            and (weekday is None or r.get("weekday") == weekday)]  # fmt: skip
    # A district's shortage is the sum of its cells' positive gaps: a surplus of tutors does
    # not make up for too few people on a rural-revitalisation Saturday.
    per_district: dict[str, float] = {}
    for r in rows:
        if r.get("gap_hours") is not None and r.get("district"):
            per_district[r["district"]] = per_district.get(r["district"], 0.0) + max(
                float(r["gap_hours"]), 0.0
            )
    shapes, height = _svg_paths(per_district, page.lang)
    for s in shapes:
        s["fill"] = _colour(s["shade"])
    if area is not None:
        rows = [r for r in rows if r.get("district") == area]
    skill_label = None if skill is None else page.service.taxonomy.label(skill, page.lang)
    for r in rows:
        r["what"] = (
            skill_label if skill is not None else category_label(str(r.get("category") or ""), page.lang)
        )
    models = learning.models(page.service) if not page.caller.staff else None
    rows.sort(key=lambda r: -(r.get("gap_hours") or 0.0))
    answered = table.get("by") is not None  # the API answered: its "to" is the day after the last
    last_shown = (
        (date.fromisoformat(table["to"]) - timedelta(days=1)).isoformat() if answered else table["to"]
    )
    return render(
        page, "analytics.html", rows=rows[:MAX_ROWS], total_rows=len(rows), shapes=shapes, width=WIDTH, height=height,
        categories=demand_uc.categories(page.service), weekdays=WEEKDAYS,
        category=category, weekday=weekday, area=area, skill=skill_text, first=table["from"], last=last_shown,
        areas=sorted(f["properties"]["name"] for f in districts()), ideas=ideas,
        models=models, error=error or q.get("error"), online_short=per_district.get(ONLINE),
        top_short=sorted(((d, h) for d, h in per_district.items() if h > 0), key=lambda t: -t[1])[:5],
    )  # fmt: skip
