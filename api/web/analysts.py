"""Analysts' pages: the demand-and-supply gap map (the districts shipped in
``data/districts.geojson``, drawn as SVG on the server: no map tiles from the internet) and
table with filters, ideas for new projects, and the ranking models with their test metrics.
Everything comes from the API's own route functions: aggregates only, small cells suppressed."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.routes import demand, learning
from api.usecases import demand as demand_uc
from api.web.base import page_as, problem, render
from api.web.maps import WIDTH, district_paths, districts
from matcher.analytics.gaps import WEEKDAYS
from matcher.model.domain import category_label
from matcher.model.errors import MatcherError

router = APIRouter(include_in_schema=False)
READERS = ("analyst", "admin", "organiser", "org_admin")
MAX_ROWS = 60
ONLINE = "(online)"
"""The gap table's district for online work: it has no place on the map."""


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
        table = demand.gap_table(page.service, page.caller, page.now, ",".join(by), start, end)
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
    shapes, height = district_paths(per_district, page.lang)
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
