"""``volmatch serve --workers N``: N processes answering on one port.

uvicorn's own multi-process mode shares one listening socket between the workers, and asyncio
accepts every pending connection in one wake-up: clients that open their connections together
(a partner site's connection pool, a load test) can all land on one worker while the others
idle, for as long as the connections are kept alive. Here each worker listens on its own socket
bound with ``SO_REUSEPORT``, and the kernel spreads new connections across them.

The parent process checks that the port is free (``SO_REUSEPORT`` would otherwise let a second
``volmatch serve`` on the same port silently share it), starts the workers, starts a worker
again if one dies, and stops them all on SIGINT or SIGTERM. Where ``SO_REUSEPORT`` is missing,
or with one worker, uvicorn serves as usual.
"""

from __future__ import annotations

import copy
import logging
import multiprocessing
import signal
import socket
import time
from types import FrameType
from typing import Any

import uvicorn

APP = "api.main:app"
BACKLOG = 2048
RESTART_PAUSE_S = 1.0


class WithoutQuery(logging.Filter):
    """Access log lines without their query strings: a volunteer asking for activities near
    their home sends its coordinates in one (``?near=lat,lon``), and logs travel further than
    the database. The path stays, with ``?…`` where a query was."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (args[0], args[1], args[2].split("?", 1)[0] + "?…", args[3], args[4])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging, with :class:`WithoutQuery` on the access log."""
    config: dict[str, Any] = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["filters"] = {"without_query": {"()": f"{__name__}.WithoutQuery"}}
    config["handlers"]["access"]["filters"] = ["without_query"]
    return config


def serve(host: str, port: int, workers: int) -> None:
    """Serve the API on ``host:port`` with ``workers`` processes until told to stop."""
    if workers == 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(
            APP,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            log_config=log_config(),
        )
        return
    _check_free(host, port)
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_worker, args=(host, port)) for _ in range(workers)]
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for p in processes:
            if p.is_alive():
                p.terminate()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for p in processes:
        p.start()
    while not stopping:
        time.sleep(RESTART_PAUSE_S)
        for i, p in enumerate(processes):
            if not p.is_alive() and not stopping:
                processes[i] = context.Process(target=_worker, args=(host, port))
                processes[i].start()
    for p in processes:
        p.join(timeout=30)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _check_free(host: str, port: int) -> None:
    """Refuse a port something else listens on (a bind fails even against a SO_REUSEPORT
    group). ``SO_REUSEADDR`` lets the probe past connections of a server that just died, still
    in TIME_WAIT: a restart right after a crash must not be refused."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as e:
            raise SystemExit(f"cannot serve on {host}:{port}: {e.strerror}") from e


def _worker(host: str, port: int) -> None:
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    config = uvicorn.Config(
        APP, factory=True, host=host, port=port, log_level="info", log_config=log_config()
    )
    uvicorn.Server(config).run(sockets=[sock])
