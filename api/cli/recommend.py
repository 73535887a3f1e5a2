"""``volmatch recommend volunteers`` and ``recommend activities``: ranked through the same use
case as the API (the active model; bands for organisers), printed as tables or JSON."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from api.cli.common import (
    DbOption,
    JsonOption,
    LangOption,
    NowOption,
    _fail,
    _live,
    _now,
    _store,
    _title,
    app,
    out,
)
from api.usecases import recommend
from matcher.matching.ranking import Ranking
from matcher.model.errors import MatcherError

recommend_app = typer.Typer(help="Ranked, explained recommendations.", no_args_is_help=True)
app.add_typer(recommend_app, name="recommend")


WIDE_TERMINAL = 140
"""Columns from which a ranking table also shows each factor's part."""


def _print_ranking(
    r: Ranking,
    as_json: bool,
    title: str,
    with_shift: bool,
    lang: str = "en",
    names: dict[str, str] | None = None,
) -> None:
    """A ranking as a table (``names``: each id's title, or a volunteer's name and district),
    or as JSON; reasons one per line, wrapped at the terminal's width."""
    names = names or {}
    if as_json:
        rows: list[dict[str, Any]] = []
        for m in r.matches:
            item: dict[str, Any] = {
                "id": m.id,
                "name": names.get(m.id, ""),
                "score": m.score,
                "parts": dict(m.parts),
                "reasons": [str(x) for x in m.reasons],
            }
            if with_shift:
                item["shift_id"] = m.shift_id
            rows.append(item)
        note = None if r.note is None else r.note.to_json()
        sys.stdout.write(json.dumps({"matches": rows, "note": note, "excluded": dict(r.excluded)},
                                    ensure_ascii=False, indent=2) + "\n")  # fmt: skip
        return
    if not r.matches:
        why = (r.note.zh if lang == "zh" else r.note.en) if r.note else "nobody eligible"
        excluded = ", ".join(f"{k}: {v:,}" for k, v in sorted(r.excluded.items(), key=lambda kv: -kv[1]))
        out.print(f"no matches ({why})" + (f"; excluded {excluded}" if excluded else ""))
        return
    # The per-factor parts only where the terminal has room for them (always in --json).
    parts = list(r.matches[0].parts) if out.width >= WIDE_TERMINAL else []
    table = Table(title=title, show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("id / name", ratio=1, min_width=14, overflow="fold")
    if with_shift:
        table.add_column("shift", no_wrap=True)
    table.add_column("score", justify="right")
    for name in parts:
        table.add_column(name.replace("_", " "), justify="right")
    table.add_column("reasons", ratio=2, min_width=24, overflow="fold")
    for i, m in enumerate(r.matches, 1):
        label = f"{m.id}\n{names[m.id]}" if names.get(m.id) else m.id
        cells = [str(i), label] + ([m.shift_id or ""] if with_shift else []) + [f"{m.score:.3f}"]
        cells += [f"{m.parts[name]:.2f}" for name in parts]
        cells.append("\n".join(x.zh if lang == "zh" else x.en for x in m.reasons))
        table.add_row(*cells)
    out.print(table)
    if r.note is not None:
        out.print(r.note.zh if lang == "zh" else r.note.en)


@recommend_app.command("volunteers")
def recommend_volunteers_cmd(
    activity: Annotated[str, typer.Option("--activity", help="Activity id")],
    shift: Annotated[
        str | None, typer.Option("--shift", help="Shift id (default: best open shift per volunteer)")
    ] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="How many")] = 10,
    radius_km: Annotated[
        float | None,
        typer.Option("--radius-km", min=0, max=200, help="Search radius on top of travel limits"),
    ] = None,
    as_json: JsonOption = False,
    lang: LangOption = "en",
    now: NowOption = None,
    db: DbOption = None,
) -> None:
    """Top-k volunteers for an activity (organisers)."""
    instant = _now(now)
    with _store(db) as store:
        live = _live(store, instant)
        try:
            # Ranked as the API ranks (the active model, if any); as an organiser sees them:
            # distances as bands, never exact.
            r = recommend.volunteers_for(
                live, activity, now=instant, shift_id=shift, k=k, radius_km=radius_km, banded=True
            )
            cards = live.cards.get([m.id for m in r.matches])
            title = _title(live, activity)
        except MatcherError as e:
            _fail(str(e))
    names = {v: " · ".join(x for x in card if x) for v, card in cards.items()}
    _print_ranking(
        r, as_json, f"volunteers for {activity} {title}", with_shift=shift is None, lang=lang, names=names
    )


@recommend_app.command("activities")
def recommend_activities_cmd(
    volunteer: Annotated[str, typer.Option("--volunteer", help="Volunteer id")],
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="How many")] = 10,
    as_json: JsonOption = False,
    lang: LangOption = "en",
    now: NowOption = None,
    db: DbOption = None,
) -> None:
    """Top-k activities, each with its best shift, for a volunteer."""
    instant = _now(now)
    with _store(db) as store:
        live = _live(store, instant)
        try:
            r = recommend.activities_for(live, volunteer, now=instant, k=k)
            names = {m.id: _title(live, m.id) for m in r.matches}
        except MatcherError as e:
            _fail(str(e))
    _print_ranking(r, as_json, f"activities for {volunteer}", with_shift=True, lang=lang, names=names)
