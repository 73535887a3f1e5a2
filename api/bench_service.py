"""``volmatch bench --service``: the figures of the running service, beside the core's.

- ``postgis_import_volunteers_per_s``: ``load_world`` of a demo city's volunteers into a fresh
  PostGIS schema (COPY into a temporary table, merged in one transaction), volunteers per second;
- ``postgis_sql_top50_p50_ms`` / ``service_top50_p50_ms`` / ``service_speedup``: the same
  top-50 question (a shift of an activity, 25 km, travel limits, availability on the shift's
  day, skills and distance in the score) asked as one PostGIS SQL statement and of the service's
  in-memory ranking, on the same data, medians over the same activities;
- ``http_*``: ``volmatch serve --workers 2`` on a SQLite demo city, a load of recommendation
  requests on 16 kept-alive connections for a fixed time: requests per second, p50/p99 latency
  and errors. ``http_*``: 500 questions (a shift of a posting, top 10) asked over and over, as
  organisers reload and share postings: answered from what the service kept since the last
  write. ``http_new_*``: every question a new one (other postings, other shifts), each searched
  afresh. The load generator is a small asyncio HTTP/1.1 client in this process.
- ``gap_endpoint_p50_ms``: GET /api/v1/analytics/gaps (district × category × weekday, four
  weeks) on the same served city, median of five.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from api.auth import issue_token
from api.live import Live
from api.usecases import accounts, recommend, records, setup
from matcher.demo.city import generate_city
from matcher.model.domain import World
from matcher.store.base import Account, load_taxonomy
from matcher.store.connect import open_store

SQL_TOP50 = """
WITH shift AS (
    SELECT s.starts_utc, s.ends_utc, a.location, a.required_skills,
           -- 25 km around the activity as a longitude/latitude box, for the volunteers' index
           ST_Expand(a.location::geometry, 25.0 / (111.32 * cos(radians(ST_Y(a.location::geometry)))),
                     25.0 / 111.32) AS box,
           extract(isodow FROM to_timestamp(s.starts_utc) AT TIME ZONE a.timezone)::int - 1 AS day,
           (extract(hour FROM to_timestamp(s.starts_utc) AT TIME ZONE a.timezone) * 60
            + extract(minute FROM to_timestamp(s.starts_utc) AT TIME ZONE a.timezone))::int AS start_min,
           ((s.ends_utc - s.starts_utc) / 60)::int AS minutes
    FROM shifts s JOIN activities a ON a.id = s.activity_id WHERE s.id = %(shift)s
), candidates AS (
    SELECT v.id, v.skills, v.availability, v.max_travel_km,
           ST_Distance(v.home, shift.location, false) / 1000.0 AS km, shift.*
    FROM volunteers v, shift
    WHERE v.erased_at IS NULL AND v.home::geometry && shift.box
      AND ST_DWithin(v.home, shift.location, 25000, false)
), scored AS (
    SELECT c.id,
           (SELECT count(*) FROM jsonb_array_elements_text(c.required_skills) r
             WHERE EXISTS (SELECT 1 FROM json_array_elements(c.skills::json) h WHERE h->>0 = r))::float
             / greatest(jsonb_array_length(c.required_skills), 1) AS skill,
           1.0 / (1.0 + power(2.0 * c.km / greatest(c.max_travel_km, 0.1), 2)) AS near,
           (SELECT coalesce(sum(greatest(0, least((w->>2)::int, c.start_min + c.minutes)
                                          - greatest((w->>1)::int, c.start_min))), 0)
              FROM json_array_elements(c.availability::json) w WHERE (w->>0)::int = c.day)::float
             / greatest(c.minutes, 1) AS coverage,
           jsonb_array_length(c.required_skills) AS n_required
    FROM candidates c
    WHERE c.km <= c.max_travel_km
)
SELECT id, 0.35 * skill + 0.25 * near + 0.25 * least(coverage, 1.0) + 0.15 * 0.36 AS score
FROM scored
WHERE coverage > 0 AND (n_required = 0 OR skill = 1.0)
ORDER BY score DESC, id
LIMIT 50
"""


def run(
    *,
    postgres_url: str,
    volunteers: int,
    http_volunteers: int,
    queries: int,
    http_seconds: float,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    taxonomy = load_taxonomy()
    progress(f"generating {volunteers:,} volunteers for PostGIS")
    city = generate_city(volunteers, max(volunteers // 10, 100), volunteers, seed=11)
    world = city.to_world()
    schema = f"bench_{secrets.token_hex(4)}"
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            sep = "&" if "?" in postgres_url else "?"
            url = f"{postgres_url}{sep}options={quote(f'-csearch_path={schema},public')}"
            store = open_store(url)
            try:
                progress(f"COPY {volunteers:,} volunteers into PostGIS")
                t = time.perf_counter()
                setup.write_world(store, World(volunteers=world.volunteers))
                figures["postgis_import_volunteers"] = volunteers
                figures["postgis_import_volunteers_per_s"] = round(volunteers / (time.perf_counter() - t))
                setup.write_world(
                    store, World(activities=world.activities, service_records=world.service_records)
                )
                with psycopg.connect(url, autocommit=True) as db:
                    db.execute("ANALYZE")
                progress("the same top-50 in SQL and in the service")
                figures |= _sql_against_service(store, url, taxonomy, city, queries)
            finally:
                store.close()
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
    progress(f"HTTP: 2 workers, 16 connections, {http_volunteers:,} volunteers")
    figures |= _http(http_volunteers, http_seconds, progress)
    return figures


def _sql_against_service(store: Any, url: str, taxonomy: Any, city: Any, queries: int) -> dict[str, Any]:
    import psycopg

    from api.bench import DENSE

    now = datetime.combine(city.as_of, datetime.min.time(), UTC)
    live = Live(store, taxonomy, city.as_of)
    rng = np.random.default_rng(3)
    dense = [
        i
        for i in range(len(city.activities))
        if int(city.activity_district[i]) in DENSE and not bool(city.activities.online[i])
    ]
    picks = rng.choice(dense, min(queries, len(dense)), replace=False)
    sql_ms, service_ms = [], []
    with psycopg.connect(url) as db:
        for a in picks.tolist():
            aid = city.activities.ids[a]
            shift = records.activity(live, aid).shifts[0].id
            t = time.perf_counter()
            db.execute(SQL_TOP50, {"shift": shift}).fetchall()
            sql_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            recommend.volunteers_for(live, aid, now=now, shift_id=shift, k=50, radius_km=25.0, banded=True)
            service_ms.append((time.perf_counter() - t) * 1000)
    sql_p50, service_p50 = float(np.median(sql_ms)), float(np.median(service_ms))
    return {
        "postgis_sql_top50_p50_ms": round(sql_p50, 1),
        "service_top50_p50_ms": round(service_p50, 2),
        "service_speedup": round(sql_p50 / service_p50, 1),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _http(n_volunteers: int, seconds: float, progress: Callable[[str], None]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        city = generate_city(n_volunteers, max(n_volunteers // 20, 100), n_volunteers, seed=5)
        world = city.to_world()
        store = open_store(url)
        setup.write_world(store, world)
        admin = accounts.register(store, Account("acct_bench", "bench", "admin"))
        store.close()
        key = secrets.token_urlsafe(48)
        token = issue_token(admin, key, now=datetime.now(UTC), ttl_hours=1)
        port = _free_port()
        # One admin token carries the whole load: its request budget is lifted (capacity is
        # measured here, not the per-token limit).
        env = {
            **os.environ,
            "VOLMATCH_SECRET_KEY": key,
            "VOLMATCH_ENVIRONMENT": "production",
            "VOLMATCH_RATE_PER_S": "0",
        }
        log = (Path(tmp) / "serve.log").open("w")
        server = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "2", "--db", url],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready(port, 180)
            # An organiser's question: the best 10 for one shift of a posting. Organisers ask
            # the same questions again (a roster page reloaded, colleagues on the same posting);
            # the service answers a repeated one from what it kept since the last write
            # (``MatchIndex.memo``). The second load asks only questions not asked before.
            rng = np.random.default_rng(1)
            order = rng.permutation(len(world.activities)).tolist()

            def question(i: int, shift: int = 0) -> str:
                a = world.activities[i]
                return f"/api/v1/activities/{a.id}/recommended-volunteers?k=10&shift_id={a.shifts[shift].id}"

            split = min(500, len(order) // 2)
            repeated = [question(i) for i in order[:split]]
            fresh = [question(i, n) for i in order[split:] for n in range(len(world.activities[i].shifts))]
            fresh = [fresh[j] for j in rng.permutation(len(fresh))]
            asyncio.run(_load(port, token, repeated, 16, 2.0))  # warm-up: both workers' caches
            progress(f"HTTP load for {seconds:.0f} s: repeated questions")
            figures = _figures("http", *asyncio.run(_load(port, token, repeated, 16, seconds)))
            progress(f"HTTP load for {seconds:.0f} s: new questions")
            figures |= _figures("http_new", *asyncio.run(_load(port, token, fresh, 16, seconds)))
            figures["http_new_questions_repeated"] = max(figures["http_new_requests"] - len(fresh), 0)
            progress("the gap table over HTTP")
            figures["gap_endpoint_p50_ms"] = _gap_endpoint_ms(port, token, city.as_of)
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
    return {"http_volunteers": n_volunteers, "http_workers": 2, "http_connections": 16, **figures}


def _gap_endpoint_ms(port: int, token: str, as_of: Any, repeat: int = 5) -> float:
    """Median time of GET /analytics/gaps (district x category x weekday, four weeks)."""
    import urllib.request

    url = (
        f"http://127.0.0.1:{port}/api/v1/analytics/gaps?by=district,category,weekday"
        f"&from={as_of.isoformat()}&to={(as_of + timedelta(days=28)).isoformat()}"
    )
    times = []
    for _ in range(repeat):
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        t = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as answer:
            answer.read()
        times.append((time.perf_counter() - t) * 1000)
    return round(float(np.median(times)), 1)


def _figures(prefix: str, latencies: list[float], errors: int, elapsed: float) -> dict[str, Any]:
    lat = np.array(latencies) * 1000
    return {
        f"{prefix}_requests": len(latencies),
        f"{prefix}_requests_per_s": round(len(latencies) / elapsed, 1),
        f"{prefix}_p50_ms": round(float(np.median(lat)), 2) if lat.size else None,
        f"{prefix}_p99_ms": round(float(np.percentile(lat, 99)), 2) if lat.size else None,
        f"{prefix}_errors": errors,
    }


def _wait_ready(port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the server did not become ready")


async def _load(
    port: int, token: str, paths: list[str], connections: int, seconds: float
) -> tuple[list[float], int, float]:
    """Keep ``connections`` HTTP/1.1 connections busy for ``seconds``; latencies of the answers
    with status 200, and how many were errors."""
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds

    async def worker(n: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = n
        try:
            while time.monotonic() < stop:
                path = paths[i % len(paths)]
                i += connections
                request = f"GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\r\n"
                t = time.perf_counter()
                writer.write(request.encode())
                status = await reader.readline()
                length = 0
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                if status.startswith(b"HTTP/1.1 200"):
                    latencies.append(time.perf_counter() - t)
                else:
                    errors += 1
        finally:
            writer.close()

    started = time.monotonic()
    await asyncio.gather(*(worker(n) for n in range(connections)))
    return latencies, errors, time.monotonic() - started
