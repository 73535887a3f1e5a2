"""A real SMTP server for the notification tests (aiosmtpd, in the test's process): every mail
handed to it parsed, with when it arrived, and its delivery keys counted (a bundle carries
several), so a test can count by key as a receiver would."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.api.served import free_port


class Mailbox:
    """The server's handler; each mail takes ``delay_s`` (so a sender can be killed midway)."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.mails: list[EmailMessage] = []
        self.arrived: list[float] = []
        self.keys: Counter[str] = Counter()
        self.delay_s = delay_s
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        mail = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        with self._lock:
            self.mails.append(mail)
            self.arrived.append(time.monotonic())
            self.keys.update(str(mail["X-Volmatch-Delivery"]).split(","))
        return "250 OK"

    def distinct(self) -> int:
        """Delivery keys received, each counted once."""
        with self._lock:
            return len(self.keys)

    def received(self) -> list[tuple[float, EmailMessage]]:
        with self._lock:
            return list(zip(self.arrived, self.mails, strict=True))


@contextmanager
def smtp_server(box: Mailbox) -> Iterator[str]:
    """The server on a free port for the ``with`` block; yields its ``smtp://`` URL."""
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()
