"""Data in and out of the store: ``volmatch import nyc-service/timebanks``, ``backup`` and
``restore``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from api.cli.common import (
    DbOption,
    JsonOption,
    _db_url,
    _fail,
    _progress,
    _store,
    app,
    out,
)
from api.usecases import demand
from matcher.model.errors import MatcherError


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
