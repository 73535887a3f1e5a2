"""``volmatch serve`` and ``volmatch bench``."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from api import bench as bench_mod
from api.cli.common import (
    DbOption,
    JsonOption,
    _db_url,
    _fail,
    _progress,
    _signing_key,
    _store,
    app,
    out,
)
from api.settings import Settings
from matcher.store.base import load_taxonomy


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
    notify: Annotated[
        bool,
        typer.Option("--notify/--no-notify", help="Messages sent per second, and queueing a call to 10,000"),
    ] = True,
    notify_only: Annotated[bool, typer.Option("--notify-only", help="Only the notification figures")] = False,
    notify_messages: Annotated[int, typer.Option(min=10, help="Messages for the sending rate")] = 3000,
    notify_call: Annotated[
        int, typer.Option(min=10, help="Volunteers an emergency call is queued to")
    ] = 10_000,
    as_json: JsonOption = False,
) -> None:
    """Build a large city in memory and print index build time, memory and query latencies;
    with --service (the default) also PostGIS import, the same top-50 in SQL, and HTTP load."""
    with _progress(auto_refresh=False) as bar:
        task = bar.add_task("benchmark", total=None)
        figures: dict[str, Any] = {}
        if not notify_only:
            figures |= bench_mod.run(
                load_taxonomy(),
                volunteers=volunteers,
                activities=activities,
                queries=queries,
                progress=lambda s: bar.update(task, description=s, refresh=True),
            )
        if notify or notify_only:
            from api import bench_notify

            figures |= bench_notify.run(
                postgres if service else None, messages=notify_messages, call_size=notify_call,
                progress=lambda s: bar.update(task, description=s, refresh=True),
            )  # fmt: skip
        if service and not notify_only:
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
def notify(
    once: Annotated[bool, typer.Option("--once", help="Send what is due now, then stop.")] = False,
    db: DbOption = None,
) -> None:
    """Send what volunteers are told (the outbox) through the configured channels
    (VOLMATCH_SMTP_URL), until stopped; several may run at once without sending anything twice."""
    from api.auth import Links
    from api.usecases.dispatch import Dispatcher, channels_from

    settings = Settings(database_url=_db_url(db))
    try:
        channels = channels_from(settings)
    except ValueError as e:
        _fail(f"notification channels: {e}")
    if not channels:
        out.print(
            "no channel configured (VOLMATCH_SMTP_URL, VOLMATCH_SMS_GATEWAY_URL, VOLMATCH_WECHAT_GATEWAY_URL): "
            "volunteers are told in the console inbox, and emergency calls still widen"
        )
    with _store(db) as store:
        sender = Dispatcher(
            store,
            channels,
            Links(settings.signing_key(), settings.public_url),
            claim_s=settings.notify_claim_seconds,
        )
        if once:
            sent = 0
            while (batch := sender.run_once()) > 0:
                sent += batch
            held = ", ".join(f"{n:,} {k}" for k, n in sender.counts().items())
            out.print(f"attempted {sent:,} deliveries; now {held}")
            return
        try:
            sender.run()
        except KeyboardInterrupt:
            sender.stop()
