"""``make load``: a bounded mixed workload against the service on PostgreSQL+PostGIS.

1. Generates a city (100,000 volunteers by default) and loads it into a fresh PostGIS schema;
   gives 2,000 of its volunteers and every organisation an account and a token.
2. Serves it with ``volmatch serve --workers 2`` on loopback, with the production defaults
   (each token's request budget included).
3. Runs locust (``scripts/locustfile.py``: 70 % recommendations, 20 % reads, 10 % writes
   including sign-ups; each simulated user acts for a share of all those accounts, its
   requests arriving as a Poisson process) headless for the given time, at ``--rate`` requests
   a second offered.
4. Prints offered and achieved rate, p50/p95/p99 latency and errors, overall and per kind of
   request, the share of a core each worker, the load generator and PostgreSQL used in the
   measured seconds and the workers' CPU time per request (``--json`` for machines), then
   drops the schema.

Target on a 2-core machine: 500 requests/s or more sustained, p99 at most 100 ms, no errors.
The first ``--warmup`` seconds (default 10) of load are run but not counted, in the rate and in
the latencies alike: the workers start cold (their plans, reasons and display copies fill in
those seconds); the whole run's p99 is printed beside the measured one.
"""

from __future__ import annotations

import argparse
import contextlib
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

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from api.auth import issue_token
from matcher.demo.city import generate_city
from matcher.model.domain import World
from matcher.store.base import Account
from matcher.store.connect import open_store

HERE = Path(__file__).resolve().parent
DEFAULT_URL = os.environ.get("VOLMATCH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--db", default=DEFAULT_URL, help="PostgreSQL with PostGIS (a schema is made and dropped)"
    )
    ap.add_argument("--volunteers", type=int, default=100_000)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=10, help="seconds of load before the measured ones")
    ap.add_argument(
        "--rate",
        type=float,
        default=510.0,
        help="requests a second offered (the target's 500 plus 2%%: a minute of Poisson arrivals "
        "varies by about 0.6%%, so the achieved rate clears 500 whenever the service keeps up)",
    )
    ap.add_argument(
        "--users", type=int, default=120, help="simulated users, each acting for a share of the accounts"
    )
    ap.add_argument("--workers", type=int, default=2, help="API worker processes (volmatch serve --workers)")
    ap.add_argument("--json", action="store_true", help="one JSON document instead of tables")
    ap.add_argument("--keep", type=Path, help="keep locust's CSV files and the server's log in this folder")
    args = ap.parse_args()
    console = Console(stderr=True)
    import psycopg

    schema = f"load_{secrets.token_hex(4)}"
    sep = "&" if "?" in args.db else "?"
    url = f"{args.db}{sep}options={quote(f'-csearch_path={schema},public')}"
    with psycopg.connect(args.db, autocommit=True) as admin, tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or scratch
        Path(tmp).mkdir(parents=True, exist_ok=True)
        admin.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            key = secrets.token_urlsafe(48)
            plan = _city(url, args.volunteers, args.users, key, Path(tmp), console)
            figures = _run(url, key, plan, args, Path(tmp), console)
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
    figures["volunteers"] = args.volunteers
    figures["machine_loop_ms"] = machine_loop_ms()
    if args.json:
        sys.stdout.write(json.dumps(figures) + "\n")
    else:
        _show(figures)
    return 0 if met_target(figures) or args.rate < 500 else 1


def met_target(f: dict[str, Any]) -> bool:
    """The target on a 2-core machine: 500 req/s or more, p99 at most 100 ms, no errors."""
    return bool(f["achieved_rps"] >= 500 and f["p99_ms"] <= 100 and f["errors"] == 0)


def machine_loop_ms(repeats: int = 7) -> float:
    """How fast this machine runs Python: the median time of a loop of 10^6 integer additions.
    Most of a request's cost is interpreted Python (FastAPI, uvicorn, the service), so the
    rate a machine sustains scales with this figure; it is printed beside the load figures so
    that runs on different machines can be compared (measured after the load, on idle cores)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i
        times.append((time.perf_counter() - started) * 1000)
    return round(float(np.median(times)), 1)


def cpu_seconds(server_pid: int, locust_pid: int) -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) used so far by each API worker, the load generator and
    each PostgreSQL process, by process id: two readings give who used the cores in between."""
    import psutil

    def used(p: psutil.Process) -> float:
        t = p.cpu_times()
        return float(t.user + t.system)

    found: dict[int, tuple[str, float]] = {}
    with contextlib.suppress(psutil.Error):
        for p in psutil.Process(server_pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if "spawn_main" in " ".join(p.cmdline()):  # a worker, not multiprocessing's tracker
                    found[p.pid] = ("worker", used(p))
        found[locust_pid] = ("locust", used(psutil.Process(locust_pid)))
    for p in psutil.process_iter(["name"]):
        with contextlib.suppress(psutil.Error):
            if p.info["name"] == "postgres":
                found[p.pid] = ("PostgreSQL", used(p))
    return found


def cpu_shares(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]], seconds: float
) -> dict[str, float]:
    """Per cent of one core used between two :func:`cpu_seconds` readings ``seconds`` apart:
    each worker apart (``worker 1``, ``worker 2``... by process id), the load generator, and
    all of PostgreSQL's processes together (one that started in between counts from zero)."""
    shares: dict[str, float] = {}
    workers = sorted(pid for pid, (kind, _) in after.items() if kind == "worker")
    for pid, (kind, spent) in after.items():
        delta = spent - before.get(pid, (kind, 0.0))[1]
        name = f"worker {workers.index(pid) + 1}" if kind == "worker" else kind
        shares[name] = shares.get(name, 0.0) + 100 * delta / max(seconds, 1e-9)
    return {k: round(v, 1) for k, v in sorted(shares.items())}


def _city(url: str, n: int, users: int, key: str, tmp: Path, console: Console) -> Path:
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
                organisers.append(
                    {"token": issue_token(account, key, now=now, ttl_hours=2), "shifts": shifts}
                )
        finally:
            store.close()
    path = tmp / "plan.json"
    plan = {
        "volunteers": volunteers,
        "organisers": organisers,
        "refusals_file": str(tmp / "refusals.json"),
        "samples_file": str(tmp / "samples.json"),
        "users": users,
    }
    path.write_text(json.dumps(plan), encoding="utf-8")
    console.print(
        f"city: {n:,} volunteers, {len(world.activities):,} postings; "
        f"{len(volunteers):,} volunteer and {len(organisers):,} organiser accounts"
    )
    return path


def _run(
    url: str, key: str, plan: Path, args: argparse.Namespace, tmp: Path, console: Console
) -> dict[str, Any]:
    port = _free_port()
    env = {**os.environ, "VOLMATCH_SECRET_KEY": key, "VOLMATCH_ENVIRONMENT": "production"}
    log = (tmp / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", str(args.workers), "--db", url],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    readings: list[tuple[float, dict[int, tuple[str, float]]]] = []  # (seconds into the load, CPU used)
    try:
        with console.status(f"starting the service ({args.workers} workers)"):
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
                elapsed = time.monotonic() - started
                bar.update(job, completed=min(total, elapsed))
                # who used the cores in the measured seconds: a reading as they start, one as they end
                if (not readings and elapsed >= args.warmup) or (len(readings) == 1 and elapsed >= total - 1):
                    readings.append((elapsed, cpu_seconds(server.pid, locust.pid)))
        if locust.returncode not in (0, 1):  # 1: some requests failed; they are counted below
            raise SystemExit(f"locust failed:\n{(tmp / 'locust.log').read_text()[-3000:]}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    figures = _figures(json.loads((tmp / "samples.json").read_text()), args.warmup, args.seconds)
    figures["offered_rps"] = round(args.rate, 1)
    if len(readings) == 2:
        figures["cpu_percent"] = shares = cpu_shares(
            readings[0][1], readings[1][1], readings[1][0] - readings[0][0]
        )
        # what a request costs the workers, whatever the machine's load: comparable across runs
        spent = sum(v for k, v in shares.items() if k.startswith("worker")) / 100
        figures["worker_cpu_ms_per_request"] = round(1000 * spent / max(figures["achieved_rps"], 1e-9), 2)
    figures["users"] = args.users
    figures["seconds"] = args.seconds
    figures["warmup"] = args.warmup
    figures["workers"] = args.workers
    refusals = tmp / "refusals.json"
    figures["refused_by_rules"] = json.loads(refusals.read_text()) if refusals.exists() else {}
    return figures


def _figures(samples: list[list[Any]], warmup: int, seconds: int) -> dict[str, Any]:
    """Rate, latency and errors over the measured window (``seconds`` after the first
    ``warmup`` seconds of load), overall and per kind of request; the whole run's p99 beside
    them, warm-up included. ``samples``: (finished at, kind, ms, failed) per request."""
    if not samples:
        raise SystemExit("locust made no requests")
    t0 = min(s[0] for s in samples)
    window = [s for s in samples if t0 + warmup <= s[0] < t0 + warmup + seconds]
    span = min(seconds, max(s[0] for s in samples) - t0 - warmup)

    def summary(chosen: list[list[Any]]) -> dict[str, Any]:
        ms = np.array([s[2] for s in chosen], dtype=float)
        p50, p95, p99 = np.percentile(ms, [50, 95, 99]) if ms.size else (np.nan,) * 3
        return {
            "requests": len(chosen),
            "errors": int(sum(s[3] for s in chosen)),
            "p50_ms": round(float(p50), 1),
            "p95_ms": round(float(p95), 1),
            "p99_ms": round(float(p99), 1),
        }

    kinds = sorted({s[1] for s in window})
    whole = np.percentile([s[2] for s in samples], 99)
    return {
        **summary(window),
        "achieved_rps": round(len(window) / max(span, 1e-9), 1),
        "whole_run_p99_ms": round(float(whole), 1),
        "by_kind": [{"name": k, **summary([s for s in window if s[1] == k])} for k in kinds],
    }


def _show(f: dict[str, Any]) -> None:
    console = Console()
    table = Table(
        title=f"make load: {f['seconds']} s after {f['warmup']} s of warm-up, {f['users']} people, "
        f"{f['volunteers']:,} volunteers, PostGIS, {f['workers']} workers"
    )
    for col in ("offered req/s", "achieved req/s", "p50 ms", "p95 ms", "p99 ms", "errors"):
        table.add_column(col, justify="right")
    table.add_row(
        f"{f['offered_rps']:.0f}", f"{f['achieved_rps']:.0f}", f"{f['p50_ms']:.0f}", f"{f['p95_ms']:.0f}",
        f"{f['p99_ms']:.0f}", str(f["errors"]),
    )  # fmt: skip
    console.print(table)
    kinds = Table(title="by kind of request (after the warm-up)")
    for col in ("request", "count", "p50 ms", "p95 ms", "p99 ms", "errors"):
        kinds.add_column(col, justify="left" if col == "request" else "right")
    for k in f["by_kind"]:
        kinds.add_row(
            k["name"],
            f"{k['requests']:,}",
            f"{k['p50_ms']:.0f}",
            f"{k['p95_ms']:.0f}",
            f"{k['p99_ms']:.0f}",
            str(k["errors"]),
        )
    console.print(kinds)
    for what, n in f["refused_by_rules"].items():
        console.print(f"{what}: {n:,} (correct answers, not errors)")
    console.print(f"p99 over the whole run, warm-up included: {f['whole_run_p99_ms']:.0f} ms")
    if f.get("cpu_percent"):
        shares = ", ".join(f"{k} {v:.0f} %" for k, v in f["cpu_percent"].items())
        cores = os.cpu_count() or 1
        console.print(
            f"share of a core used in the measured seconds ({cores} cores: {100 * cores} %): {shares}"
        )
        console.print(f"the workers' CPU time per request: {f['worker_cpu_ms_per_request']:.2f} ms")
    console.print(f"this machine's Python speed: 10^6 additions in a loop take {f['machine_loop_ms']:.0f} ms")
    console.print(f"target (>= 500 req/s, p99 <= 100 ms, 0 errors): {'met' if met_target(f) else 'NOT met'}")


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
