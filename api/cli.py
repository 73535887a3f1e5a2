"""The ``volmatch`` command: demo, load, export, recommend, allocate, train, model, evaluate,
import, user, serve, bench, backup and restore (``volmatch --help`` lists them with what each
does).

Every command takes ``--db URL`` (default: ``VOLMATCH_DATABASE_URL``, else the embedded SQLite
file ``var/volmatch.db``). Tables for people, ``--json`` for machines; errors go to stderr with
exit status 2 and say which record and field to fix.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import orjson
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from api import bench as bench_mod
from api.live import Live
from api.schemas import city_midnight
from api.settings import Settings
from api.usecases import accounts, allocations, demand, evaluation, learning, recommend, setup
from matcher.matching.ranking import Ranking
from matcher.model.errors import MatcherError, NotFoundError
from matcher.model.vocabulary import Role
from matcher.store.base import Store, load_taxonomy
from matcher.store.connect import open_store

app = typer.Typer(
    help="volmatch: match volunteers and activities.", no_args_is_help=True, add_completion=False
)
recommend_app = typer.Typer(help="Ranked, explained recommendations.", no_args_is_help=True)
app.add_typer(recommend_app, name="recommend")
out = Console()
err = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Store URL (sqlite:///path.db); default VOLMATCH_DATABASE_URL or sqlite:///var/volmatch.db",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
LangOption = Annotated[
    str, typer.Option("--lang", help="Language of the reasons in the table: en or zh (JSON carries both).")
]
NowOption = Annotated[
    str | None, typer.Option("--now", help="Treat this ISO datetime as now (default: the current time).")
]


def _db_url(db: str | None) -> str:
    return db or Settings().database_url


@contextmanager
def _store(db: str | None) -> Iterator[Store]:
    store = open_store(_db_url(db))
    try:
        yield store
    finally:
        store.close()


def _signing_key(settings: Settings) -> str:
    try:
        return settings.signing_key()
    except ValueError as e:
        _fail(str(e))


def _fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(2)


def _now(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        _fail(f"--now {text!r} needs a UTC offset, e.g. 2026-12-01T09:00:00+08:00")
    return parsed


def _progress(*, auto_refresh: bool = True) -> Progress:
    """A progress display on stderr; ``auto_refresh=False`` redraws only when told (a timing
    loop must not share the interpreter with a redrawing thread)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        auto_refresh=auto_refresh,
    )


@app.command()
def load(path: Annotated[Path, typer.Argument(help="Interchange JSON file")], db: DbOption = None) -> None:
    """Import an interchange file, all or nothing."""
    try:
        document = orjson.loads(path.read_bytes())
    except OSError as e:
        _fail(f"cannot read {path}: {e.strerror}")
    except orjson.JSONDecodeError as e:
        _fail(f"{path} is not valid JSON: {e}")
    total = (
        sum(len(document.get(k) or ()) for k in ("volunteers", "activities", "service_records", "bookings"))
        if isinstance(document, dict)
        else 0
    )
    taxonomy = load_taxonomy()
    with _store(db) as store, _progress() as bar:
        task = bar.add_task("validating", total=total)
        try:
            counts = setup.load_document(store, document, taxonomy, on_item=lambda: bar.advance(task))
        except MatcherError as e:
            _fail(f"{e}; nothing was loaded")
    out.print("loaded " + ", ".join(f"{n:,} {k.replace('_', ' ')}" for k, n in counts.items()))


@app.command()
def export(
    db: DbOption = None,
    output: Annotated[Path | None, typer.Option("--out", "-o", help="Write here instead of stdout.")] = None,
) -> None:
    """Write everything in the interchange format."""
    with _store(db) as store:
        data = orjson.dumps(setup.export_document(store), option=orjson.OPT_INDENT_2)
    if output is None:
        sys.stdout.buffer.write(data + b"\n")
    else:
        output.write_bytes(data + b"\n")
        err.print(f"wrote {output}")


@app.command()
def demo(
    volunteers: Annotated[int, typer.Option(min=0, help="Number of volunteers")] = 20_000,
    activities: Annotated[int, typer.Option(min=0, help="Number of activities")] = 1_500,
    records: Annotated[int, typer.Option(min=0, help="Number of service records")] = 100_000,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same city")] = 7,
    as_of: Annotated[str, typer.Option(help="The city's today (shifts follow it)")] = "2026-12-01",
    outcomes: Annotated[
        int,
        typer.Option(
            min=0,
            help="Shifts whose served answers and outcomes (from hidden preferences) go in the feedback log",
        ),
    ] = 1_000,
    if_missing: Annotated[
        bool, typer.Option("--if-missing", help="Do nothing if the store already has volunteers.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Build the deterministic demo city (Hangzhou) into the store."""
    with _store(db) as store:
        held = setup.counts(store)
        if if_missing and held["volunteers"] > 0:
            out.print(f"demo city already in {_db_url(db)}: " + _counts_text(held))
            return
        with _progress() as bar:
            bar.add_task(f"building the demo city ({volunteers:,} volunteers)", total=None)
            counts = setup.build_demo(
                store,
                volunteers=volunteers,
                activities=activities,
                records=records,
                seed=seed,
                as_of=date.fromisoformat(as_of),
            )
            if outcomes:
                bar.add_task(f"serving {outcomes:,} shifts and drawing what followed", total=None)
                logged = setup.build_demo_outcomes(
                    store, load_taxonomy(), date.fromisoformat(as_of), queries=outcomes, seed=seed
                )
    out.print(f"demo city in {_db_url(db)}: " + _counts_text(counts))
    if outcomes:
        out.print(
            f"feedback log: {logged['answers']:,} answers ({logged['items']:,} people shown), "
            f"{logged['outcomes']:,} outcomes"
        )


def _live(store: Store, instant: datetime) -> Live:
    """The service's own ranking over ``store``: what the API answers, the CLI answers."""
    with _progress() as bar:
        bar.add_task("building the index", total=None)
        return Live(store, load_taxonomy(), instant.date())


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {k.replace('_', ' ')}" for k, n in counts.items())


def _instant(text: str, option: str) -> datetime:
    try:
        if len(text) == 10:
            return city_midnight(date.fromisoformat(text))
        found = datetime.fromisoformat(text)
    except ValueError:
        _fail(f"{option}: {text!r} is not a date (2026-12-05) or a time with its offset")
    if found.tzinfo is None:
        _fail(f"{option}: {text!r} has no offset; write 2026-12-05T08:00:00+08:00 or a plain date")
    return found


def _title(live: Live, activity_id: str) -> str:
    found = live.activities.get([activity_id]).get(activity_id)
    return "" if found is None else found.title


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


@app.command()
def bench(
    volunteers: Annotated[int, typer.Option(min=1000, help="Volunteers in the benchmark city")] = 1_000_000,
    activities: Annotated[int, typer.Option(min=100, help="Activities in the benchmark city")] = 100_000,
    queries: Annotated[int, typer.Option(min=10, help="Queries per direction")] = 300,
    service: Annotated[
        bool, typer.Option("--service/--core-only", help="Also PostGIS import, SQL vs service, HTTP load")
    ] = True,
    postgres: Annotated[
        str, typer.Option(help="PostgreSQL with PostGIS for the service figures")
    ] = "postgresql://postgres@127.0.0.1:5432/test",
    service_volunteers: Annotated[
        int, typer.Option(min=1000, help="Volunteers for PostGIS figures")
    ] = 1_000_000,
    http_volunteers: Annotated[int, typer.Option(min=1000, help="Volunteers for the HTTP load")] = 100_000,
    http_seconds: Annotated[float, typer.Option(min=1, help="Length of the HTTP load")] = 20.0,
    as_json: JsonOption = False,
) -> None:
    """Build a large city in memory and print index build time, memory and query latencies;
    with --service (the default) also PostGIS import, the same top-50 in SQL, and HTTP load."""
    with _progress(auto_refresh=False) as bar:
        task = bar.add_task("benchmark", total=None)
        figures = bench_mod.run(
            load_taxonomy(),
            volunteers=volunteers,
            activities=activities,
            queries=queries,
            progress=lambda s: bar.update(task, description=s, refresh=True),
        )
        if service:
            from api import bench_service

            figures |= bench_service.run(
                postgres_url=postgres,
                volunteers=service_volunteers,
                http_volunteers=http_volunteers,
                queries=min(queries, 5),  # one SQL statement takes ~20 s at 10^6
                http_seconds=http_seconds,
                progress=lambda s: bar.update(task, description=s, refresh=True),
            )
    if as_json:
        sys.stdout.write(json.dumps(figures) + "\n")
        return
    table = Table(title=f"volmatch bench: {volunteers:,} volunteers, {activities:,} activities")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        table.add_row(key, f"{value:,}" if isinstance(value, int) else str(value))
    out.print(table)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes")] = 1,
    db: DbOption = None,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    import os

    from api import serving

    url = _db_url(db)
    os.environ["VOLMATCH_DATABASE_URL"] = url  # the workers read their settings from it
    _signing_key(Settings(database_url=url))  # fail here, readably, on an unsafe configuration
    out.print(f"serving {url}: the console at http://{host}:{port}/, the API at http://{host}:{port}/docs")
    serving.serve(host, port, workers)


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


@app.command("backup")
def backup_command(
    path: Annotated[Path, typer.Argument(help="The backup file to write")],
    force: Annotated[bool, typer.Option("--force", help="Replace the file if it exists")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Copy the embedded database to a file: one consistent snapshot, safe while the service runs.
    (PostgreSQL: use pg_dump; see the README.)"""
    from matcher.store.backup import backup, sqlite_path

    _copy_database(lambda p: backup(sqlite_path(_db_url(db)), path, overwrite=force, progress=p),
                   "backing up", "backed up to", path, as_json)  # fmt: skip


@app.command("restore")
def restore_command(
    path: Annotated[Path, typer.Argument(help="A file written by volmatch backup")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace the database if one exists (stop the service first)")
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Put a backup in place as the embedded database, after checking it is whole and ours; the
    switch is atomic."""
    from matcher.store.backup import restore, sqlite_path

    target = sqlite_path(_db_url(db))
    _copy_database(
        lambda p: restore(path, target, overwrite=force, progress=p), "restoring", "restored", target, as_json
    )


def _copy_database(
    run: Callable[[Callable[[int, int], None]], int], doing: str, done: str, written: Path, as_json: bool
) -> None:
    with _progress() as bar:
        task = bar.add_task(f"{doing} (pages)", total=None)
        try:
            size = run(lambda done, total: bar.update(task, completed=done, total=total))
        except MatcherError as e:
            _fail(str(e))
    if as_json:
        sys.stdout.write(json.dumps({"path": str(written), "bytes": size}) + "\n")
        return
    out.print(f"{done} {written} ({size:,} bytes)")


import_app = typer.Typer(help="Import published demand-and-supply data into the store.", no_args_is_help=True)
app.add_typer(import_app, name="import")


@import_app.command("nyc-service")
def import_nyc_service(
    path: Annotated[Path, typer.Argument(help="The NYC Service opportunities CSV, or its folder")],
    by: Annotated[str, typer.Option(help="Group the table by category, borough and/or month")] = "category",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """NYC Service volunteer opportunities (NYC Open Data): volunteers requested against page
    views. Stored (replacing an earlier import), then summed by --by: least viewed first."""
    from matcher.analytics import observed
    from matcher.store.datasets import nyc_service

    _import_observations(
        "nyc-service", lambda: nyc_service(path), observed.nyc_observations,
        lambda frame: observed.nyc_table(frame, _keys(by)), db, as_json,
        lambda frame: f"NYC Service: {len(frame):,} postings, page views per volunteer requested",
    )  # fmt: skip


@import_app.command("timebanks")
def import_timebanks(
    path: Annotated[Path, typer.Argument(help="The TimeBanks dataset folder")],
    by: Annotated[str, typer.Option(help="Group the table by category and/or timebank")] = "category",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """TimeBanks.org offers, requests and declared talents per community and category (each
    timebank's latest snapshot). Stored, then summed by --by: most requested per offer first."""
    from matcher.analytics import observed
    from matcher.store.datasets import timebanks

    _import_observations(
        "timebanks", lambda: timebanks(path), observed.timebank_observations,
        lambda frame: observed.timebank_table(frame, _keys(by)), db, as_json,
        lambda frame: f"TimeBanks: {frame['timebank'].nunique()} timebanks, requests per offer",
    )  # fmt: skip


def _keys(by: str) -> list[str]:
    return [k.strip() for k in by.split(",") if k.strip()]


def _import_observations(
    source: str,
    read: Any,
    to_rows: Any,
    summarise: Any,
    db: str | None,
    as_json: bool,
    title: Any,
) -> None:
    """Read a published dataset, store it as ``source``'s observations (replacing the last
    import) and print its summary table."""
    try:
        frame = read()
        table = summarise(frame)
    except MatcherError as e:
        _fail(str(e))
    with _store(db) as store, _progress() as bar:
        bar.add_task(f"storing {len(frame):,} rows", total=None)
        demand.store_observations(store, source, to_rows(frame))
    _print_frame(table, as_json, title(frame))


def _print_frame(frame: Any, as_json: bool, title: str) -> None:
    if as_json:
        sys.stdout.write(frame.to_json(orient="records", force_ascii=False) + "\n")
        return
    view = Table(title=title)
    import pandas as pd

    for column in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[column])
        view.add_column(
            str(column).replace("_", " "), justify="right" if numeric else "left", no_wrap=not numeric
        )
    for row in frame.itertuples(index=False):
        view.add_row(*("" if v != v else f"{v:,}" if isinstance(v, int) else str(v) for v in row))
    out.print(view)


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


user_app = typer.Typer(help="Accounts that may call the API.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("create")
def user_create(
    role: Annotated[Role, typer.Option(help="What the account may do")],
    name: Annotated[str, typer.Option(help="Sign-in name (unique)")],
    org: Annotated[str | None, typer.Option("--org", help="The organiser's organisation id")] = None,
    volunteer: Annotated[
        str | None, typer.Option("--volunteer", help="The volunteer account's volunteer id")
    ] = None,
    db: DbOption = None,
) -> None:
    """Create an account and print a bearer token for it (on the last line)."""
    from api.auth import issue_token, new_account_id, utcnow
    from matcher.store.base import Account

    settings = Settings(database_url=_db_url(db))
    with _store(db) as store:
        try:
            account = accounts.register(
                store, Account(new_account_id(), name, role, organisation_id=org, volunteer_id=volunteer)
            )
        except NotFoundError as e:
            _fail(f"--volunteer: {e}")
        except MatcherError as e:
            _fail(str(e))
    key = _signing_key(settings)
    token = issue_token(account, key, now=utcnow(), ttl_hours=settings.token_ttl_hours)
    err.print(f"created {role} account {name!r} ({account.id}); its token:")
    print(token)


@user_app.command("demo")
def user_demo(db: DbOption = None) -> None:
    """Make sure the demo city has one account per role, and print a token for each."""
    from api.auth import issue_token, new_account_id, utcnow

    settings = Settings(database_url=_db_url(db))
    key = _signing_key(settings)
    with _store(db) as store:
        try:
            demo = accounts.demo_accounts(store, new_account_id)
        except MatcherError as e:
            _fail(str(e))
    out.print(
        "[bold]Demo accounts[/]: paste a token into the console's sign-in page (/) or into Authorize "
        "in /docs, or send 'Authorization: Bearer <token>'."
    )
    scope = {
        "admin": "everything",
        "analyst": "aggregates: demand-and-supply gaps, suggestions, forecast, ranking models",
        "organiser": "organisation {org}'s activities and their recommended volunteers",
        "volunteer": "volunteer {vol}'s profile and recommended activities",
    }
    for a in demo:
        token = issue_token(a, key, now=utcnow(), ttl_hours=settings.token_ttl_hours)
        out.print(f"[bold]{a.role}[/]: " + scope[a.role].format(org=a.organisation_id, vol=a.volunteer_id))
        print(f"  {token}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
