"""Notification figures for ``volmatch bench``: how many messages one dispatcher hands to an SMTP
server per second (a local aiosmtpd sink in its own process, so that the server does not share
the dispatcher's interpreter), and how long queueing an emergency call to 10,000 volunteers
takes (the call, its asks, the messages and their deliveries in one transaction), on the
embedded SQLite store and on PostgreSQL. Medians of several runs."""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from api.auth import Links
from api.usecases import calls, setup
from api.usecases.dispatch import Dispatcher, Smtp
from matcher.model.domain import Activity, GeoPoint, Shift, Volunteer, World
from matcher.store.base import Store
from matcher.store.connect import open_store

KEY = "bench-signing-key-of-at-least-32-characters"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _world(n: int) -> World:
    home = GeoPoint(30.25, 120.14)
    starts = datetime.now(UTC) + timedelta(days=3)
    shift = Shift("s1", starts, starts + timedelta(hours=4), 10)
    people = tuple(
        Volunteer(id=f"v{i}", name=f"v{i}", home=home, max_travel_km=10.0, email=f"v{i}@example.org")
        for i in range(n)
    )
    flood = Activity(
        "a1", "o1", "防汛值守 Flood watch", "emergency", "Asia/Shanghai", (shift,), location=home
    )
    return World(people, (flood,))


def _fresh(url: str, n: int) -> Store:
    store = open_store(url)
    setup.write_world(store, _world(n))
    return store


def _smtp_rate(url: str, messages: int) -> float:
    """Messages a second one dispatcher hands to the sink, ``messages`` queued first."""
    store = _fresh(url, messages)
    try:
        calls.queue(store, "call_rate", "s1", [f"v{i}" for i in range(messages)], messages, int(time.time()))
        port = _free_port()
        sink = subprocess.Popen(
            [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    time.sleep(0.1)
            sender = Dispatcher(store, {"email": Smtp(f"smtp://127.0.0.1:{port}", "bench@example.org")},
                                Links(KEY, "http://127.0.0.1:8000"))  # fmt: skip
            started = time.perf_counter()
            sent = 0
            while (batch := sender.run_once()) > 0:
                sent += batch
            elapsed = time.perf_counter() - started
        finally:
            sink.terminate()
            sink.wait(10)
        assert sent == messages and sender.counts() == {"sent": messages}
        return messages / elapsed
    finally:
        store.close()


def _queue_call_s(url: str, n: int) -> float:
    """Seconds to open a call whose first wave asks ``n`` volunteers (one transaction)."""
    store = _fresh(url, n)
    try:
        candidates = [f"v{i}" for i in range(n)]
        started = time.perf_counter()
        told = calls.queue(store, "call_bench", "s1", candidates, n, int(time.time()))
        elapsed = time.perf_counter() - started
        assert told["asked"] == n and told["deliveries"] == {"email": {"pending": n}}
        return elapsed
    finally:
        store.close()


def run(
    postgres_url: str | None,
    *,
    messages: int = 3000,
    call_size: int = 10_000,
    repeat: int = 3,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """The figures, on SQLite and (when ``postgres_url`` is given) on PostgreSQL."""
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        backends: list[tuple[str, Callable[[int], str]]] = [
            ("sqlite", lambda i: f"sqlite:///{Path(tmp) / f'n{i}.db'}")
        ]
        if postgres_url:
            backends.append(("postgis", lambda i: _schema(postgres_url, f"bench_notify_{i}")))
        for name, url in backends:
            progress(f"notifications: SMTP rate on {name}")
            rates = [_smtp_rate(url(i), messages) for i in range(repeat)]
            out[f"notify_smtp_msgs_per_s_{name}"] = round(statistics.median(rates))
            progress(f"notifications: queueing a call to {call_size:,} on {name}")
            times = [_queue_call_s(url(repeat + i), call_size) for i in range(repeat)]
            out[f"notify_queue_call_s_{name}"] = round(statistics.median(times), 3)
            out["notify_call_size"] = call_size
    return out


def _schema(postgres_url: str, name: str) -> str:
    """A fresh schema for one run, as a store URL."""
    from urllib.parse import quote

    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        db.execute(f"CREATE SCHEMA {name}")
    sep = "&" if "?" in postgres_url else "?"
    return f"{postgres_url}{sep}options={quote(f'-csearch_path={name},public')}"
