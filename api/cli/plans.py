"""``volmatch allocate``: a campaign filled at once, beside greedy, with the fairness cost."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import (
    DbOption,
    JsonOption,
    NowOption,
    _fail,
    _instant,
    _live,
    _now,
    _progress,
    _store,
    app,
    out,
)
from api.usecases import allocations
from matcher.model.errors import MatcherError


@app.command()
def allocate(
    activity: Annotated[
        list[str] | None, typer.Option("--activity", help="An activity of the campaign (repeat for more)")
    ] = None,
    organisation: Annotated[
        str | None, typer.Option("--organisation", help="Every open activity of this organisation")
    ] = None,
    starts_from: Annotated[
        str | None, typer.Option("--from", help="Only shifts starting on or after this date or time")
    ] = None,
    starts_to: Annotated[
        str | None, typer.Option("--to", help="Only shifts starting before this date or time")
    ] = None,
    max_shifts: Annotated[int, typer.Option(min=1, max=50, help="Shifts one volunteer may be given")] = 2,
    max_hours_per_week: Annotated[
        float | None, typer.Option(min=0.5, help="Hours one volunteer may be given a week")
    ] = None,
    rest_hours: Annotated[
        float, typer.Option(min=0, max=72, help="Rest between one volunteer's shifts")
    ] = 0.0,
    spread: Annotated[
        float, typer.Option(min=0, max=1, help="Score a volunteer's every shift beyond the first costs")
    ] = 0.0,
    newcomer_share: Annotated[
        float, typer.Option(min=0, max=1, help="Share of the places held for newcomers")
    ] = 0.0,
    db: DbOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fill every open shift of the given activities at once: the best total match within
    capacity and each volunteer's limits, proven optimal (or said not to be), beside what
    filling the shifts one by one (greedy) would give."""
    from matcher.operations import allocation

    instant = _now(now)
    if not activity and not organisation:
        _fail("name the campaign: --activity (repeatable) or --organisation")
    lo = None if starts_from is None else _instant(starts_from, "--from")
    hi = None if starts_to is None else _instant(starts_to, "--to")
    with _store(db) as store:
        live = _live(store, instant)
        with _progress() as bar:
            task = bar.add_task("ranking candidates for each shift", total=None)
            try:
                # Ranked as the API ranks campaigns (the active model), with exact distances: the
                # CLI is an administrator's tool. No cap on the shifts: the terminal may wait.
                slots, pairs = allocations.campaign(
                    live, now=instant, activity_ids=list(activity or []), shift_ids=[], organisation=organisation,
                    starts_from=lo, starts_to=hi, limit=None, banded=False,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )  # fmt: skip
            except MatcherError as e:
                _fail(str(e))
    limits = allocation.Limits(max_shifts, max_hours_per_week, rest_hours)
    fairness = allocation.Fairness(spread=spread, newcomer_share=newcomer_share)
    with _progress() as bar:
        bar.add_task(f"solving for {len(slots):,} shifts, {len(pairs):,} candidate pairs", total=None)
        plan = allocation.allocate(slots, pairs, limits, fairness)
        greedy = allocation.greedy(slots, pairs, limits)
        fair = spread > 0 or newcomer_share > 0
        unfair = allocation.allocate(slots, pairs, limits, allocation.Fairness()) if fair else plan
    cost = unfair.total_score - plan.total_score
    if as_json:
        document = {"shifts": len(slots), "candidate_pairs": len(pairs), **plan.to_json(), "greedy": greedy.figures(),
                    "fairness_cost": round(cost, 4) if fair else 0.0}  # fmt: skip
        sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\n")
        return
    table = Table(title=f"{len(slots):,} shifts, {len(pairs):,} candidate pairs: the plan against greedy")
    for column in ("", "score", "fill", "assigned", "Gini", "max shifts", "newcomers", "optimal"):
        table.add_column(column, justify="left" if not column else "right")
    for name, p in (("plan", plan), ("greedy", greedy)):
        table.add_row(name, f"{p.total_score:.2f}", f"{p.fill_rate:.1%}", f"{len(p.assignments):,}",
                      f"{p.assignment_gini:.3f}", str(p.max_load), f"{p.newcomer_share:.1%}",
                      "yes" if p.optimal else "no")  # fmt: skip
    out.print(table)
    if fair:
        share = cost / unfair.total_score if unfair.total_score else 0.0
        out.print(f"fairness cost: the plan's total is {plan.total_score:.2f} against {unfair.total_score:.2f} "
                  f"without --spread/--newcomer-share ({-cost:+.2f}, {-share:+.1%}): the price of spreading "
                  "shifts and holding places for newcomers")  # fmt: skip
    for u in plan.unfilled[:20]:
        out.print(f"unfilled: {u['shift_id']} ({u['places']} places): {u['reason']}")
