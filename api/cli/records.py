"""Records in and out: ``volmatch load``, ``export``, ``demo`` and ``user``."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import orjson
import typer

from api.cli.common import (
    DbOption,
    _counts_text,
    _db_url,
    _fail,
    _progress,
    _signing_key,
    _store,
    app,
    err,
    out,
)
from api.settings import Settings
from api.usecases import accounts, setup
from matcher.model.errors import MatcherError, NotFoundError
from matcher.model.vocabulary import Role
from matcher.store.base import load_taxonomy


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
        "org_admin": "organisation {org} and everything under it: approvals, invitations, members, teams",
        "volunteer": "volunteer {vol}'s profile and recommended activities",
    }
    for a in demo:
        token = issue_token(a, key, now=utcnow(), ttl_hours=settings.token_ttl_hours)
        out.print(f"[bold]{a.role}[/]: " + scope[a.role].format(org=a.organisation_id, vol=a.volunteer_id))
        print(f"  {token}")
