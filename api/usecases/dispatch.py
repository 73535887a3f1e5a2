"""Sending what volunteers are told: the dispatcher claims due deliveries from the outbox, sends
each through its channel, and records the attempt (sent; or failed, retried with backoff, then
dead-lettered). ``volmatch notify`` runs one; ``volmatch serve`` runs one beside the workers
unless ``VOLMATCH_NOTIFY=false``. Several may run at once: a delivery is one dispatcher's at a
time (see :mod:`matcher.store.deliveries`)."""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Protocol
from urllib.parse import unquote, urlsplit

from api.usecases.notifications import word
from matcher.store.base import Store
from matcher.store.deliveries import Delivery

log = logging.getLogger("volmatch.notify")

BATCH = 200
"""Deliveries one dispatcher claims at a time."""
IDLE_S = 1.0
"""How long a dispatcher waits when nothing is due."""


class Channel(Protocol):
    """Somewhere a message can be sent (e-mail today; SMS and WeChat gateways next)."""

    name: str

    def send(self, deliveries: list[Delivery]) -> list[str | None]:
        """Send each; per delivery, None when it was handed over, else why it failed."""
        ...


class Smtp:
    """E-mail through an SMTP server (``smtp://user:password@host:port``; ``smtps://`` for TLS
    from the start, ``?starttls=1`` to upgrade). The delivery key goes in the Message-ID, so
    the receiving side counts a message sent twice (after a crash) once."""

    name = "email"

    def __init__(self, url: str, sender: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("the SMTP URL is smtp://[user:password@]host[:port] (or smtps://)")
        self.host, self.port = parts.hostname, parts.port or (465 if parts.scheme == "smtps" else 25)
        self.tls = parts.scheme == "smtps"
        self.starttls = "starttls=1" in parts.query
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender

    def _connect(self) -> smtplib.SMTP:
        server = (smtplib.SMTP_SSL if self.tls else smtplib.SMTP)(self.host, self.port, timeout=10)
        if self.starttls:
            server.starttls()
        if self.user:
            server.login(self.user, self.password or "")
        return server

    def send(self, deliveries: list[Delivery]) -> list[str | None]:
        results: list[str | None] = []
        try:
            server = self._connect()
        except (OSError, smtplib.SMTPException) as e:
            return [f"cannot reach the SMTP server: {e}"] * len(deliveries)
        with server:
            for d in deliveries:
                try:
                    server.send_message(self._email(d))
                    results.append(None)
                except (OSError, smtplib.SMTPException) as e:
                    results.append(str(e) or type(e).__name__)
        return results

    def _email(self, d: Delivery) -> EmailMessage:
        text = word(d.message)
        mail = EmailMessage()
        mail["From"] = formataddr(("志愿服务 volmatch", self.sender))
        mail["To"] = d.address
        mail["Subject"] = f"{text['zh']} · {text['en']}"
        mail["Message-ID"] = make_msgid(idstring=d.key, domain="volmatch")
        mail["X-Volmatch-Delivery"] = d.key
        mail.set_content(f"{text['zh']}\n{text['en']}\n")
        return mail


def channels_from(smtp_url: str | None, mail_from: str) -> dict[str, Channel]:
    """The channels the configuration names (none: the console inbox only)."""
    return {"email": Smtp(smtp_url, mail_from)} if smtp_url else {}


class Dispatcher:
    """Claims, sends and records, a batch at a time, until stopped."""

    def __init__(
        self, store: Store, channels: dict[str, Channel], clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.channels = channels
        self.clock = clock
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self._stop = threading.Event()

    def run_once(self, limit: int = BATCH) -> int:
        """One batch: returns how many deliveries were attempted."""
        claimed = self.store.deliveries.claim(self.worker, int(self.clock()), limit)
        by_channel: dict[str, list[Delivery]] = {}
        for d in claimed:
            by_channel.setdefault(d.channel, []).append(d)
        for name, batch in by_channel.items():
            channel = self.channels.get(name)
            errors = channel.send(batch) if channel else [f"channel {name!r} is not configured"] * len(batch)
            now_s = int(self.clock())
            for d, error in zip(batch, errors, strict=True):
                if error is None:
                    self.store.deliveries.sent(d, self.worker, now_s)
                elif self.store.deliveries.failed(d, self.worker, now_s, error) == "dead":
                    log.warning("delivery %s dead-lettered: %s", d.key, error)
        return len(claimed)

    def run(self) -> None:
        """Until :meth:`stop`: batches back to back while there is work, a pause when idle."""
        while not self._stop.is_set():
            try:
                if self.run_once() == 0:
                    self._stop.wait(IDLE_S)
            except Exception as e:  # the store is down: the outbox keeps everything for later
                log.warning("notifications not sent (%s); trying again in %.0f s", e, IDLE_S)
                self._stop.wait(IDLE_S)

    def stop(self) -> None:
        self._stop.set()

    def counts(self) -> dict[str, int]:
        """Deliveries by status (pending, sending, sent, dead)."""
        return self.store.deliveries.counts()
