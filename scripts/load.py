"""``make load``: a bounded mixed workload against the service on PostgreSQL+PostGIS.

1. Generates a city (100,000 volunteers by default) and loads it into a fresh PostGIS schema;
   gives 2,000 of its volunteers and every organisation an account and a token.
2. Serves it with ``volmatch serve --workers 2`` on loopback, with the production defaults
   (each token's request budget included).
3. Runs locust (``scripts/locustfile.py``: 70 % recommendations, 20 % reads, 10 % writes
   including sign-ups) headless for the given time, at ``--rate`` requests a second offered.
4. Prints offered and achieved rate, p50/p95/p99 latency and errors, overall and per kind of
   request (``--json`` for machines), then drops the schema.

Target on a 2-core machine: 500 requests/s or more sustained, p99 at most 100 ms, no errors.
The first ``--warmup`` seconds (default 5) of load are run but not counted: the workers start
cold.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from api.auth import issue_token
from matcher.demo import generate_city
from matcher.domain import World
from matcher.store.base import Account, open_store

HERE = Path(__file__).resolve().parent
DEFAULT_URL = os.environ.get("VOLMATCH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default=DEFAULT_URL, help="PostgreSQL with PostGIS (a schema is made and dropped)")
    ap.add_argument("--volunteers", type=int, default=100_000)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--rate", type=float, default=600.0, help="requests a second offered")
    ap.add_argument("--users", type=int, default=120, help="simulated people, each with a token")
    ap.add_argument("--json", action="store_true", help="one JSON document instead of tables")
    args = ap.parse_args()
    console = Console(stderr=True)
    import psycopg

    schema = f"load_{secrets.token_hex(4)}"
    sep = "&" if "?" in args.db else "?"
    url = f"{args.db}{sep}options={quote(f'-csearch_path={schema},public')}"
    with psycopg.connect(args.db, autocommit=True) as admin, tempfile.TemporaryDirectory() as tmp:
        admin.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            key = secrets.token_urlsafe(48)
            plan = _city(url, args.volunteers, key, Path(tmp), console)
            figures = _run(url, key, plan, args, Path(tmp), console)
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
    figures["volunteers"] = args.volunteers
    if args.json:
        sys.stdout.write(json.dumps(figures) + "\n")
    else:
        _show(figures)
    met = figures["achieved_rps"] >= 500 and figures["p99_ms"] <= 100 and figures["errors"] == 0
    return 0 if met or args.rate < 500 else 1


def _city(url: str, n: int, key: str, tmp: Path, console: Console) -> Path:
    with console.status(f"generating a city of {n:,} volunteers and loading it into PostGIS"):
        city = generate_city(n, max(n // 20, 100), n, seed=23)
        world = city.to_world()
        store = open_store(url)
        try:
            store.load_world(World(volunteers=world.volunteers))
            store.load_world(World(activities=world.activities, service_records=world.service_records))
            now = datetime.now(UTC)
            volunteers = []
            for v in world.volunteers[: min(2000, n)]:
                account = Account(f"acct_{v.id}", f"load-{v.id}", "volunteer", volunteer_id=v.id)
                store.create_account(account)
                volunteers.append({"id": v.id, "token": issue_token(account, key, now=now, ttl_hours=2)})
            by_org: dict[str, list[list[str]]] = {}
            for a in world.activities:
                for s in a.shifts:
                    if s.starts_at > now:
                        by_org.setdefault(a.organisation_id, []).append([a.id, s.id])
            organisers = []
            for org, shifts in sorted(by_org.items()):
                account = Account(f"acct_{org}", f"load-{org}", "organiser", organisation_id=org)
                store.create_account(account)
                organisers.append({"token": issue_token(account, key, now=now, ttl_hours=2), "shifts": shifts})
        finally:
            store.close()
    path = tmp / "plan.json"
    plan = {"volunteers": volunteers, "organisers": organisers, "refusals_file": str(tmp / "refusals.json")}
    path.write_text(json.dumps(plan), encoding="utf-8")
    console.print(
        f"city: {n:,} volunteers, {len(world.activities):,} postings; "
        f"{len(volunteers):,} volunteer and {len(organisers):,} organiser accounts"
    )
    return path


def _run(url: str, key: str, plan: Path, args: argparse.Namespace, tmp: Path, console: Console) -> dict[str, Any]:
    port = _free_port()
    env = {**os.environ, "VOLMATCH_SECRET_KEY": key, "VOLMATCH_ENVIRONMENT": "production"}
    log = (tmp / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "2", "--db", url],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        with console.status("starting the service (two workers)"):
            _wait_ready(port, 300)
        per_user = args.rate / args.users
        total = args.warmup + args.seconds
        load_env = {
            **os.environ,
            "VOLMATCH_LOAD_PLAN": str(plan),
            "VOLMATCH_LOAD_USER_RATE": str(per_user),
        }
        locust = subprocess.Popen(
            [
                sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless",
                "--users", str(args.users), "--spawn-rate", str(args.users), "--run-time", f"{total}s",
                "--host", f"http://127.0.0.1:{port}", "--csv", str(tmp / "load"), "--csv-full-history",
                "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "5",
            ],
            env=load_env, stdout=subprocess.DEVNULL, stderr=(tmp / "locust.log").open("w"),
        )  # fmt: skip
        with Progress(
            TextColumn("[bold]load"), BarColumn(), TextColumn("{task.completed:.0f}/{task.total:.0f} s"),
            TimeRemainingColumn(), console=console,
        ) as bar:  # fmt: skip
            job = bar.add_task("load", total=total)
            started = time.monotonic()
            while locust.poll() is None:
                time.sleep(0.5)
                bar.update(job, completed=min(total, time.monotonic() - started))
        if locust.returncode not in (0, 1):  # 1: some requests failed; they are counted below
            raise SystemExit(f"locust failed:\n{(tmp / 'locust.log').read_text()[-3000:]}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    figures = _figures(tmp / "load_stats_history.csv", tmp / "load_stats.csv", args.warmup)
    figures["offered_rps"] = round(args.rate, 1)
    figures["users"] = args.users
    figures["seconds"] = args.seconds
    refusals = tmp / "refusals.json"
    figures["refused_by_rules"] = json.loads(refusals.read_text()) if refusals.exists() else {}
    return figures


def _figures(history: Path, totals: Path, warmup: int) -> dict[str, Any]:
    """Rate and latency after the warm-up: from locust's per-second history of the aggregate
    (cumulative counts, so the difference between the last row and the first row after the
    warm-up), and per request kind from its totals."""
    rows = [r for r in csv.DictReader(history.open()) if r["Name"] == "Aggregated"]
    t0 = int(rows[0]["Timestamp"])
    counted = [r for r in rows if int(r["Timestamp"]) - t0 >= warmup]
    first, last = counted[0], counted[-1]
    span = max(1, int(last["Timestamp"]) - int(first["Timestamp"]))
    requests = int(last["Total Request Count"]) - int(first["Total Request Count"])
    errors = int(last["Total Failure Count"]) - int(first["Total Failure Count"])
    kinds = []
    for r in csv.DictReader(totals.open()):
        if r["Name"] == "Aggregated":
            continue
        kinds.append(
            {
                "name": r["Name"],
                "requests": int(r["Request Count"]),
                "errors": int(r["Failure Count"]),
                "p50_ms": float(r["50%"]),
                "p95_ms": float(r["95%"]),
                "p99_ms": float(r["99%"]),
            }
        )
    total_row = next(r for r in csv.DictReader(totals.open()) if r["Name"] == "Aggregated")
    return {
        "requests": requests,
        "achieved_rps": round(requests / span, 1),
        "errors": errors,
        # Locust keeps whole-run percentiles; the warm-up is a few seconds of a minute.
        "p50_ms": float(total_row["50%"]),
        "p95_ms": float(total_row["95%"]),
        "p99_ms": float(total_row["99%"]),
        "by_kind": kinds,
    }


def _show(f: dict[str, Any]) -> None:
    console = Console()
    table = Table(title=f"make load: {f['seconds']} s, {f['users']} people, {f['volunteers']:,} volunteers, PostGIS")
    for col in ("offered req/s", "achieved req/s", "p50 ms", "p95 ms", "p99 ms", "errors"):
        table.add_column(col, justify="right")
    table.add_row(
        f"{f['offered_rps']:.0f}", f"{f['achieved_rps']:.0f}", f"{f['p50_ms']:.0f}", f"{f['p95_ms']:.0f}",
        f"{f['p99_ms']:.0f}", str(f["errors"]),
    )  # fmt: skip
    console.print(table)
    kinds = Table(title="by kind of request (whole run)")
    for col in ("request", "count", "p50 ms", "p95 ms", "p99 ms", "errors"):
        kinds.add_column(col, justify="left" if col == "request" else "right")
    for k in f["by_kind"]:
        kinds.add_row(k["name"], f"{k['requests']:,}", f"{k['p50_ms']:.0f}", f"{k['p95_ms']:.0f}", f"{k['p99_ms']:.0f}", str(k["errors"]))
    console.print(kinds)
    for what, n in f["refused_by_rules"].items():
        console.print(f"{what}: {n:,} (correct answers, not errors)")
    met = f["achieved_rps"] >= 500 and f["p99_ms"] <= 100 and f["errors"] == 0
    console.print(f"target (>= 500 req/s, p99 <= 100 ms, 0 errors): {'met' if met else 'NOT met'}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(port: int, timeout_s: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit("the service did not become ready")


if __name__ == "__main__":
    sys.exit(main())
