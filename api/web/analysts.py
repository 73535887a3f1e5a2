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
from api.web import page_as, problem, render
from matcher.domain import category_label
from matcher.errors import MatcherError
from matcher.gaps import WEEKDAYS
from matcher.store.base import data_dir

router = APIRouter(include_in_schema=False)
READERS = ("analyst", "admin", "organiser")
WIDTH = 600.0
MAX_ROWS = 60


@lru_cache(maxsize=1)
def districts() -> list[dict[str, Any]]:
    """The district polygons shipped with the product."""
    doc = json.loads((data_dir() / "districts.geojson").read_text(encoding="utf-8"))
    features: list[dict[str, Any]] = doc["features"]
    return features


def _svg_paths(gaps: dict[str, float]) -> tuple[list[dict[str, Any]], float]:
    """Each district as an SVG path (equirectangular, x scaled by the cosine of the mean
    latitude), with its gap and a shade from -1 (the largest surplus) to 1 (the largest gap)."""
    rings = [f["geometry"]["coordinates"][0] for f in districts()]
    lons = [p[0] for r in rings for p in r]
    lats = [p[1] for r in rings for p in r]
    k = math.cos(math.radians((min(lats) + max(lats)) / 2))
    scale = WIDTH / ((max(lons) - min(lons)) * k)
    height = (max(lats) - min(lats)) * scale
    names = {f["properties"]["name"] for f in districts()}
    top = max((abs(g) for d, g in gaps.items() if d in names), default=0.0) or 1.0
    out = []
    for f, ring in zip(districts(), rings, strict=True):
        d = "M" + " L".join(f"{(x - min(lons)) * k * scale:.1f},{(max(lats) - y) * scale:.1f}" for x, y in ring) + " Z"
        name = f["properties"]["name"]
        gap = gaps.get(name)
        lon, lat = f["properties"]["centre"]
        out.append({"name": name, "name_en": f["properties"].get("name_en", name), "d": d, "gap": gap,
                    "shade": None if gap is None else gap / top,
                    "x": (lon - min(lons)) * k * scale, "y": (max(lats) - lat) * scale})  # fmt: skip
    return out, height


def _colour(shade: float | None) -> str:
    """Red where more hours are asked than volunteers are free (darker: a larger gap), green
    where more are free than asked; grey where the cells are suppressed or empty."""
    if shade is None:
        return "#c9d1da"
    light = (247, 247, 247)
    dark = (165, 15, 21) if shade > 0 else (0, 109, 44)
    k = min(abs(shade), 1.0)
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
    per_district: dict[str, float] = {}
    for r in rows:
        if r.get("gap_hours") is not None and r.get("district"):
            per_district[r["district"]] = per_district.get(r["district"], 0.0) + float(r["gap_hours"])
    shapes, height = _svg_paths(per_district)
    for s in shapes:
        s["fill"] = _colour(s["shade"])
    if area is not None:
        rows = [r for r in rows if r.get("district") == area]
    skill_label = None if skill is None else page.service.taxonomy.label(skill, page.lang)
    for r in rows:
        r["what"] = skill_label if skill is not None else category_label(str(r.get("category") or ""), page.lang)
    models = learning.models(page.service) if page.caller.role != "organiser" else None
    rows.sort(key=lambda r: -(r.get("gap_hours") or 0.0))
    answered = table.get("by") is not None  # the API answered: its "to" is the day after the last
    last_shown = (date.fromisoformat(table["to"]) - timedelta(days=1)).isoformat() if answered else table["to"]
    return render(
        page, "analytics.html", rows=rows[:MAX_ROWS], total_rows=len(rows), shapes=shapes, width=WIDTH, height=height,
        categories=sorted(page.service.index.categories.names), weekdays=WEEKDAYS,
        category=category, weekday=weekday, area=area, skill=skill_text, first=table["from"], last=last_shown,
        areas=sorted(f["properties"]["name"] for f in districts()), ideas=ideas,
        models=models, error=error or q.get("error"),
    )  # fmt: skip
