"""Readers for the public datasets volmatch is evaluated on (files in, pandas frames out).

The datasets are not shipped (see ``../shared/datasets/README.md`` for provenance and licences):
commands take their folder as an argument and say clearly when it is missing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd

from matcher.model.errors import ValidationError


def scistarter(path: Path) -> tuple[pd.DataFrame, dict[str, set[str]], dict[str, bool]]:
    """SciStarter's joins (``user``, ``item``), each project's topics and its online flag; the
    projects ``non_active_projects.csv`` lists as inactive are left out everywhere (nobody can
    join them now, so recommending them would be a wrong answer scored as right)."""
    needed = ("user_project_matrix.csv", "projects_data.csv", "projects_info.csv")
    missing = [name for name in needed if not (path / name).is_file()]
    if missing:
        raise ValidationError("path", f"{path} is not the SciStarter dataset folder: no {', '.join(missing)}")
    wide = pd.read_csv(path / "user_project_matrix.csv")
    joins = wide.melt(id_vars="user", var_name="item", value_name="joined")
    joins = joins[joins["joined"] > 0][["user", "item"]].astype(str)
    info = pd.read_csv(path / "projects_data.csv")
    topics = {
        str(p): set(ast.literal_eval(t)) if isinstance(t, str) else set()
        for p, t in zip(info["project"], info["topics"], strict=True)
    }
    flags = pd.read_csv(path / "projects_info.csv")
    online = {str(p): bool(o) for p, o in zip(flags["project"], flags["is_online"], strict=True)}
    inactive_file = path / "non_active_projects.csv"
    inactive = set(pd.read_csv(inactive_file)["project"].astype(str)) if inactive_file.is_file() else set()
    joins = joins[~joins["item"].isin(inactive)]
    topics = {p: t for p, t in topics.items() if p not in inactive}
    online = {p: o for p, o in online.items() if p not in inactive}
    return joins, topics, online


def nyc_service(path: Path) -> pd.DataFrame:
    """NYC Service volunteer opportunities: one row per posting with its ``category``,
    ``borough`` (``(unknown)`` where none is given), ``month`` of its start (``YYYY-MM``),
    ``requested`` (volunteers asked for), ``views`` (page views) and ``lat``/``lon``."""
    file = path / "nyc-service-volunteer-opportunities.csv" if path.is_dir() else path
    if not file.is_file():
        raise ValidationError("path", f"{path} holds no nyc-service-volunteer-opportunities.csv")
    raw = pd.read_csv(file)
    missing = {"opportunity_id", "category_desc", "vol_requests", "hits", "start_date_date"} - set(
        raw.columns
    )
    if missing:
        raise ValidationError(
            "path", f"{file} is not the NYC Service opportunities file: no {sorted(missing)}"
        )
    starts = pd.to_datetime(raw["start_date_date"], format="%B %d %Y", errors="coerce")
    return pd.DataFrame(
        {
            "opportunity": raw["opportunity_id"].astype(str),
            "category": raw["category_desc"].fillna("(unknown)").astype(str),
            "borough": raw["Borough"].fillna("(unknown)").astype(str).str.title()
            if "Borough" in raw
            else "(unknown)",
            "month": starts.dt.strftime("%Y-%m").fillna("(unknown)"),
            "requested": pd.to_numeric(raw["vol_requests"], errors="coerce").fillna(0).astype(int),
            "views": pd.to_numeric(raw["hits"], errors="coerce").fillna(0).astype(int),
            "lat": pd.to_numeric(raw["Latitude"], errors="coerce") if "Latitude" in raw else float("nan"),
            "lon": pd.to_numeric(raw["Longitude"], errors="coerce") if "Longitude" in raw else float("nan"),
        }
    )


TIMEBANK_FILES = {
    "offers": ("offers_by_category_2019-02-10.csv", "count_offers"),
    "requests": ("requests_by_category_2019-03-03.csv", "count_requests"),
    "talents": ("talents_by_category_2019-01-28.csv", "count_talent"),
}


def timebanks(path: Path) -> pd.DataFrame:
    """TimeBanks.org counts per timebank and top-level category, from each timebank's latest
    snapshot: ``timebank``, ``category``, ``offers``, ``requests`` and ``talents`` (members who
    declared the talent). Category names that differ only in case are one category."""
    frames = []
    for kind, (name, column) in TIMEBANK_FILES.items():
        file = path / name
        if not file.is_file():
            raise ValidationError("path", f"{path} is not the TimeBanks dataset folder: no {name}")
        raw = pd.read_csv(file)
        latest = raw[raw["timestamp"] == raw.groupby("timebank")["timestamp"].transform("max")]
        top = latest[latest["cat_parent"].astype(str) == "is_parent"]
        counts = top.assign(key=top["category"].str.strip().str.casefold()).groupby(["timebank", "key"])
        frames.append(counts.agg(category=("category", "first"), **{kind: (column, "sum")}))
    merged = pd.concat(frames, axis=1)
    names = merged.filter(like="category").bfill(axis=1).iloc[:, 0]
    out = merged[list(TIMEBANK_FILES)].fillna(0).astype(int)
    out.insert(0, "category", names)
    return out.reset_index(level="timebank").reset_index(drop=True)
