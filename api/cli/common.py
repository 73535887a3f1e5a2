"""What every ``volmatch`` command shares: the app, the consoles (tables on stdout, progress and
errors on stderr), the common options, opening the store, and failing with exit status 2."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Annotated, NoReturn

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

from api.live import Live
from api.schemas import city_midnight
from api.settings import Settings
from matcher.store.base import Store, load_taxonomy
from matcher.store.connect import open_store

app = typer.Typer(
    help="volmatch: match volunteers and activities.", no_args_is_help=True, add_completion=False
)
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
