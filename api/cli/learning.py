"""Learning and evaluation: ``volmatch train``, ``model list/activate/deactivate`` and
``evaluate demo/scistarter``."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from api.cli.common import (
    DbOption,
    JsonOption,
    _fail,
    _now,
    _progress,
    _store,
    app,
    out,
)
from api.usecases import evaluation, learning
from matcher.model.errors import MatcherError


@app.command()
def train(
    kind: Annotated[str, typer.Option(help="linear (weights on the factors) or boosted (trees)")] = "linear",
    since: Annotated[
        str | None, typer.Option(help="Only answers served from this instant (ISO 8601)")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Only answers served up to this instant (ISO 8601)")
    ] = None,
    seed: Annotated[int, typer.Option(help="random_state of the model")] = 0,
    activate: Annotated[bool, typer.Option("--activate", help="Rank with the new model at once.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fit a ranking model on the feedback log (answers served and what followed), store it with
    its version, training range and test metrics, and print them."""
    created = datetime.now(UTC)
    with _store(db) as store, _progress() as bar:
        try:
            model = learning.train(
                store,
                kind=kind,
                since_s=None if since is None else _now(since).timestamp(),
                until_s=None if until is None else _now(until).timestamp(),
                seed=seed,
                created=created,
                activate=activate,
                progress=lambda step: bar.add_task(step, total=None),
            )
        except MatcherError as e:
            _fail(str(e))
    described = model.describe() | {"active": activate}
    if as_json:
        sys.stdout.write(json.dumps(described) + "\n")
        return
    _print_model(described)


def _print_model(m: dict[str, Any]) -> None:
    table = Table(title=f"model {m['version']}" + (" (active)" if m.get("active") else ""))
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_row("kind", m["kind"])
    table.add_row("examples", f"{m['examples']:,}")
    table.add_row(
        "trained on",
        f"{datetime.fromtimestamp(m['trained_from'], UTC):%Y-%m-%d %H:%M} – "
        f"{datetime.fromtimestamp(m['trained_to'], UTC):%Y-%m-%d %H:%M} UTC",
    )
    for name, value in (m.get("weights") or {}).items():
        table.add_row(f"weight: {name}", f"{value:.3f}")
    for name, value in m["metrics"].items():
        table.add_row(f"test: {name}", f"{value:,.4g}")
    out.print(table)


model_app = typer.Typer(help="The ranking models the service may use.", no_args_is_help=True)
app.add_typer(model_app, name="model")


@model_app.command("list")
def model_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every stored model, newest first, and which one the service ranks with."""
    with _store(db) as store:
        models = learning.stored_models(store)
    if as_json:
        sys.stdout.write(json.dumps(models) + "\n")
        return
    table = Table(title="ranking models and their test metrics (* ranks now; none: default weights)")
    for column in ("version", "examples", "AUC", "NDCG@10", "default"):
        table.add_column(column, no_wrap=True, justify="left" if column == "version" else "right")
    for m in models:
        metrics = m["metrics"]
        table.add_row(
            m["version"] + (" *" if m["active"] else ""),
            f"{m['examples']:,}",
            f"{metrics.get('auc', float('nan')):.3f}",
            f"{metrics['ndcg_at_10']:.3f}",
            f"{metrics['default_ndcg_at_10']:.3f}",
        )
    out.print(table)


@model_app.command("activate")
def model_activate(
    version: Annotated[str, typer.Argument(help="A version from `volmatch model list`")], db: DbOption = None
) -> None:
    """Rank with this model, in every serving process (within a second)."""
    with _store(db) as store:
        try:
            learning.activate_stored(store, version)
        except MatcherError as e:
            _fail(str(e))
    out.print(f"ranking with {version}")


@model_app.command("deactivate")
def model_deactivate(db: DbOption = None) -> None:
    """Rank with the default weights again."""
    with _store(db) as store:
        learning.activate_stored(store, None)
    out.print("ranking with the default weights")


evaluate_app = typer.Typer(help="Offline evaluation of the ranking on real data.", no_args_is_help=True)
app.add_typer(evaluate_app, name="evaluate")


@evaluate_app.command("demo")
def evaluate_demo(
    volunteers: Annotated[int, typer.Option(min=100, help="Volunteers in the demo city")] = 20_000,
    activities: Annotated[int, typer.Option(min=10, help="Activities in the demo city")] = 1_500,
    queries: Annotated[int, typer.Option(min=20, help="Shifts served, with outcomes drawn")] = 1_000,
    seed: Annotated[int, typer.Option(help="Seed of the city, the outcomes and the models")] = 7,
    as_json: JsonOption = False,
) -> None:
    """The known answer: serve the demo city, draw outcomes from its documented hidden
    preferences, and compare every ordering of the newest answers (baselines, default weights,
    learned models) against what people did and against the hidden preferences."""
    with _progress(auto_refresh=False) as bar:
        task = bar.add_task("", total=None)
        table = evaluation.demo(
            volunteers,
            activities,
            queries,
            seed,
            lambda step: bar.update(task, description=step, refresh=True),
        )
    _print_estimates(
        table, as_json, f"Demo city, {queries:,} shifts served; the newest fifth ranked; mean (95% interval)"
    )


@evaluate_app.command("scistarter")
def evaluate_scistarter(
    path: Annotated[Path, typer.Option(help="The SciStarter dataset folder")] = Path(
        "../shared/datasets/scistarter"
    ),
    seeds: Annotated[
        str, typer.Option(help="Split seeds, comma-separated: which join is held out, the models' seeds")
    ] = "0,1,2,3,4",
    as_json: JsonOption = False,
) -> None:
    """Leave one join out per SciStarter user with two or more, rank all projects, and report
    HR@10, NDCG@10 and MRR for every baseline and volmatch ranking: the mean and the range over
    the split seeds (one split's figures move with the split far more than its bootstrap says)."""
    try:
        seed_list = [int(x) for x in seeds.split(",") if x.strip()]
    except ValueError:
        _fail(f"--seeds: {seeds!r} is not a comma-separated list of whole numbers")
    if not seed_list:
        _fail("--seeds: give at least one seed")
    with _progress(auto_refresh=False) as bar:
        task = bar.add_task("SciStarter", total=None)
        try:
            table, users = evaluation.scistarter_seeds(
                path, seed_list, progress=lambda step: bar.update(task, description=step, refresh=True)
            )
        except MatcherError as e:
            _fail(str(e))
    if as_json:
        document = {"seeds": seed_list, "users": users,
                    "methods": {m: {k: v.to_json() for k, v in metrics.items()} for m, metrics in table.items()}}  # fmt: skip
        sys.stdout.write(json.dumps(document) + "\n")
        return
    view = Table(title=f"SciStarter, one join held out per user; mean (lowest–highest) over seeds {seeds}")
    view.add_column("method", no_wrap=True)
    for name in ("HR@10", "NDCG@10", "MRR"):
        view.add_column(name, justify="right")  # the range wraps under the mean on narrow terminals
    for method, values in table.items():
        view.add_row(method, *(f"{e.mean:.3f} ({e.low:.3f}–{e.high:.3f})" for e in values.values()))
    out.print(view)
    if table["learned_linear"]["ndcg_at_10"].values == table["default"]["ndcg_at_10"].values:
        out.print(
            "learned_linear: no factor weighed for joining on these splits, so the default weights stood in"
        )


def _print_estimates(table: dict[str, dict[str, Any]], as_json: bool, title: str) -> None:
    from matcher.learning.evaluation import estimates_as_json

    if as_json:
        sys.stdout.write(json.dumps(estimates_as_json(table)) + "\n")
        return
    names = {
        "hr_at_10": "HR@10",
        "ndcg_at_10": "NDCG@10",
        "mrr": "MRR",
        "hidden_ndcg_at_10": "hidden NDCG@10",
    }
    metrics = list(next(iter(table.values())))
    view = Table(title=title)
    view.add_column("method", no_wrap=True)
    for metric in metrics:
        view.add_column(names.get(metric, metric), justify="right", no_wrap=True)
    for method, values in table.items():
        view.add_row(method, *(f"{e.mean:.3f} ({e.low:.2f}–{e.high:.2f})" for e in values.values()))
    out.print(view)
