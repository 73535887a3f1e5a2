"""``volmatch serve`` in a subprocess for tests that need the real server: several worker
processes, real sockets, and a process that can be killed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from matcher.store.base import Account


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """The server on ``url`` with ``workers`` processes, on a free port, until the ``with``
    block ends; ``kill`` takes it down at once (SIGKILL to every process), ``start`` again."""

    def __init__(
        self, url: str, secret: str, log: Path, workers: int = 2, env: dict[str, str] | None = None
    ) -> None:
        self.url = url
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # Tests that drive many requests through one token lift its request budget (the
        # budget has its own tests); ``env`` sets other VOLMATCH_ settings.
        self.env = {
            **os.environ,
            "VOLMATCH_SECRET_KEY": secret,
            "VOLMATCH_ENVIRONMENT": "test",
            "VOLMATCH_RATE_PER_S": "0",
            **(env or {}),
        }
        self.log_path = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, ready_within_s: float = 90) -> None:
        log = self.log_path.open("a")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "api.cli",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
                "--db",
                self.url,
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() reaches the workers too
        )
        log.close()
        deadline = time.monotonic() + ready_within_s
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError(f"the server did not come up:\n{self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> Served:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def role_accounts(volunteer_id: str, organisation_id: str = "o1") -> dict[str, Account]:
    """An account for each role: the volunteer ``volunteer_id``, an organiser of
    ``organisation_id``, an analyst and an admin."""
    return {
        "volunteer": Account(f"acct_{volunteer_id}", volunteer_id, "volunteer", volunteer_id=volunteer_id),
        "organiser": Account(
            f"acct_{organisation_id}", organisation_id, "organiser", organisation_id=organisation_id
        ),
        "analyst": Account("acct_an", "an", "analyst"),
        "admin": Account("acct_ad", "ad", "admin"),
    }
