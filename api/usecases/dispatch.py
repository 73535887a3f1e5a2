"""Sending what volunteers are told: the dispatcher claims due deliveries from the outbox, words
them in each volunteer's language, sends them through their channel, and records each attempt
(sent or delivered; or failed, retried with backoff, then dead-lettered). Several updates due
for one person on one channel go as one message; urgent ones go alone. Between batches it sends
the next wave of open emergency calls. ``volmatch notify`` runs one; ``volmatch serve`` runs one
beside the workers unless ``VOLMATCH_NOTIFY=false``. Several may run at once: a delivery is one
dispatcher's at a time (see :mod:`matcher.store.deliveries`).

Channels (one small interface, chosen by configuration): e-mail through SMTP, and SMS or WeChat
template messages through an HTTP gateway (:class:`Gateway`). The console inbox needs none."""

from __future__ import annotations

import json
import logging
import os
import smtplib
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formataddr, make_msgid
from typing import Any, Protocol, TypeVar
from urllib.parse import unquote, urlsplit

from api.auth import Links
from api.usecases import wording
from matcher.model.vocabulary import MessageKind
from matcher.store.base import Store
from matcher.store.deliveries import CLAIM_S, Delivery

log = logging.getLogger("volmatch.notify")

BATCH = 500
"""Deliveries one dispatcher claims at a time."""
CONNECTIONS = 8
"""SMTP connections one dispatcher sends a batch over at once."""
IDLE_S = 1.0
"""How long a dispatcher waits when nothing is due (it is woken early by :meth:`Dispatcher.wake`)."""


@dataclass(frozen=True)
class Outgoing:
    """One message as a channel sends it: to one address, one or several deliveries bundled."""

    keys: tuple[str, ...]
    address: str
    subject: str
    body: str
    kind: str
    """The message's kind (``bundle`` for several)."""
    params: dict[str, str] = field(default_factory=dict)
    """The single message's template fields (for gateways' registered templates)."""
    language: str = "zh"
    unsubscribe_url: str | None = None


@dataclass(frozen=True)
class Result:
    error: str | None = None
    """Why it failed (None: the channel took it)."""
    permanent: bool = False
    """Failed for good (a refused address): dead at once, not retried."""
    provider_id: str | None = None
    delivered: bool = False


class Channel(Protocol):
    """Somewhere a message can be sent."""

    name: str

    def send(self, outgoing: list[Outgoing]) -> list[Result]:
        """Send each; one result per message, in order."""
        ...


class Smtp:
    """E-mail through an SMTP server (``smtp://user:password@host:port``; ``smtps://`` for TLS
    from the start, ``?starttls=1`` to upgrade). The delivery keys go in a header and the first
    in the Message-ID, so the receiving side counts a message sent twice (after a crash) once.
    Every e-mail carries its unsubscribe link (in the body and as ``List-Unsubscribe``)."""

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

    def send(self, outgoing: list[Outgoing]) -> list[Result]:
        """Over up to ``CONNECTIONS`` connections at once (each mail waits on the server's
        replies; several connections keep it busy), results in the given order."""
        if len(outgoing) <= 1:
            return self._send(outgoing)
        n = min(CONNECTIONS, len(outgoing))
        chunks = [outgoing[i::n] for i in range(n)]
        with ThreadPoolExecutor(n, thread_name_prefix="smtp") as pool:
            answers = list(pool.map(self._send, chunks))
        results: list[Result] = [Result()] * len(outgoing)
        for i, answer in enumerate(answers):
            results[i::n] = answer
        return results

    def _send(self, outgoing: list[Outgoing]) -> list[Result]:
        results: list[Result] = []
        try:
            server = self._connect()
        except (OSError, smtplib.SMTPException) as e:
            return [Result(f"cannot reach the SMTP server: {e}")] * len(outgoing)
        with server:
            for o in outgoing:
                try:
                    server.sendmail(self.sender, [o.address], self.email(o).as_string())
                    results.append(Result())
                except smtplib.SMTPRecipientsRefused as e:
                    results.append(Result(f"address refused: {e}", permanent=True))
                except (OSError, smtplib.SMTPException) as e:
                    results.append(Result(str(e) or type(e).__name__))
        return results

    def email(self, o: Outgoing) -> MIMEText:
        """The e-mail: UTF-8 text, the subject and sender's name as RFC 2047 words (built with
        the compat32 classes: the default policy's header folding cost more than the sending)."""
        footer = ""
        if o.unsubscribe_url:
            words = "不再接收邮件通知" if o.language == "zh" else "Stop these e-mails"
            footer = f"\n\n--\n{words}: {o.unsubscribe_url}\n"
        mail = MIMEText(o.body + footer, "plain", "utf-8")
        name = "志愿服务 volmatch" if o.language == "zh" else "volmatch volunteering"
        mail["From"] = formataddr((str(Header(name, "utf-8")), self.sender))
        mail["To"] = o.address
        mail["Subject"] = Header(o.subject, "utf-8").encode()
        mail["Message-ID"] = make_msgid(idstring=o.keys[0], domain="volmatch")
        mail["X-Volmatch-Delivery"] = ",".join(o.keys)
        if o.unsubscribe_url:
            mail["List-Unsubscribe"] = f"<{o.unsubscribe_url}>"
            mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return mail


class Gateway:
    """SMS or WeChat template messages through an HTTP gateway (the association's SMS provider
    or WeChat service-account bridge). One POST per message, JSON::

        POST <url>   Authorization: Bearer <token>   Idempotency-Key: <first delivery key>
        {"to": "+8613800138000", "template_id": "SMS_0001" or null, "params": {...},
         "text": "the message's line", "language": "zh", "keys": ["12.sms"]}

    The gateway answers 200 or 202 with ``{"id": "<its id>", "status": "accepted" | "delivered"}``;
    a 4xx other than 408 and 429 is a refusal (dead at once, its ``error`` recorded), anything
    else is tried again later. Template ids are per kind (``templates``); a kind without one is
    sent as text. Later delivery receipts come to ``POST /api/v1/notifications/receipts``."""

    def __init__(
        self, name: str, url: str, token: str | None, templates: dict[str, str], timeout_s: float = 10
    ) -> None:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"the {name} gateway URL is http(s)://host/path")
        self.name, self.url, self.token, self.templates, self.timeout_s = (
            name,
            url,
            token,
            templates,
            timeout_s,
        )

    def send(self, outgoing: list[Outgoing]) -> list[Result]:
        return [self._one(o) for o in outgoing]

    def _one(self, o: Outgoing) -> Result:
        body = {
            "to": o.address, "template_id": self.templates.get(o.kind), "params": o.params,
            "text": o.subject, "language": o.language, "keys": list(o.keys),
        }  # fmt: skip
        request = urllib.request.Request(
            self.url, data=json.dumps(body, ensure_ascii=False).encode("utf-8"), method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": o.keys[0],
                     **({"Authorization": f"Bearer {self.token}"} if self.token else {})},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                said: dict[str, Any] = json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as e:
            why = e.read()[:300].decode("utf-8", "replace")
            return Result(
                f"{self.name} gateway answered {e.code}: {why}",
                permanent=400 <= e.code < 500 and e.code not in (408, 429),
            )
        except (OSError, ValueError) as e:
            return Result(f"cannot reach the {self.name} gateway: {e}")
        return Result(
            provider_id=str(said.get("id") or "") or None, delivered=said.get("status") == "delivered"
        )


def _templates(text: str | None) -> dict[str, str]:
    """``kind=TEMPLATE_ID,kind=...`` (a gateway's registered templates)."""
    pairs = [p.split("=", 1) for p in (text or "").split(",") if p.strip()]
    if any(len(p) != 2 for p in pairs):
        raise ValueError("templates are kind=TEMPLATE_ID pairs separated by commas")
    kinds = {k.value for k in MessageKind}
    for kind, _ in pairs:
        if kind.strip() not in kinds:
            raise ValueError(f"unknown kind of message {kind.strip()!r} in the templates")
    return {k.strip(): v.strip() for k, v in pairs}


def channels_from(settings: Any) -> dict[str, Channel]:
    """The channels the configuration names (none: the console inbox only)."""
    out: dict[str, Channel] = {}
    if settings.smtp_url:
        out["email"] = Smtp(settings.smtp_url, settings.mail_from)
    for name in ("sms", "wechat"):
        url = getattr(settings, f"{name}_gateway_url")
        if url:
            out[name] = Gateway(
                name,
                url,
                getattr(settings, f"{name}_gateway_token"),
                _templates(getattr(settings, f"{name}_templates")),
            )
    return out


class Dispatcher:
    """Claims, words, sends and records, a batch at a time, until stopped."""

    def __init__(
        self,
        store: Store,
        channels: dict[str, Channel],
        links: Links,
        clock: Callable[[], float] = time.time,
        claim_s: int = CLAIM_S,
    ) -> None:
        self.store = store
        self.claim_s = claim_s
        self.channels = channels
        self.links = links
        self.clock = clock
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self._stop = threading.Event()
        self._wake = threading.Event()

    def run_once(self, limit: int = BATCH) -> int:
        """Open calls' next waves, then one batch: returns how many deliveries were attempted."""
        self.store.calls.widen(int(self.clock()))
        claimed = self.store.deliveries.claim(self.worker, int(self.clock()), limit, self.claim_s)
        if not claimed:
            return 0
        overrides = self.store.notices.templates()
        for name, group in _by(claimed, lambda d: d.channel).items():
            channel = self.channels.get(name)
            if channel is None:  # not configured here: the inbox has it
                for d in group:
                    self.store.deliveries.dropped(d, self.worker, f"{name} is not configured")
                continue
            sendable = [d for d in group if d.address]
            for d in group:
                if not d.address:
                    self.store.deliveries.dropped(d, self.worker, f"no {name} address (or consent) any more")
            parcels = self._parcels(sendable, name, overrides)
            results = channel.send([o for o, _ in parcels])
            self._record(parcels, results, int(self.clock()))
        return len(claimed)

    def _record(
        self, parcels: list[tuple[Outgoing, list[Delivery]]], results: list[Result], now_s: int
    ) -> None:
        """What was sent, in one transaction; each failure on its own (its backoff or death)."""
        sent = [(d, r.provider_id, r.delivered) for (_, ds), r in zip(parcels, results, strict=True)
                for d in ds if r.error is None]  # fmt: skip
        self.store.deliveries.sent_many(sent, self.worker, now_s)
        for (_, ds), r in zip(parcels, results, strict=True):
            for d in ds:
                if r.error is None:
                    continue
                why = r.error.replace(d.address, "<address>") if d.address else r.error  # no contact kept
                if self.store.deliveries.failed(d, self.worker, now_s, why, final=r.permanent) == "dead":
                    log.warning("delivery %s dead-lettered: %s", d.key, why)

    def _parcels(
        self, ds: list[Delivery], channel: str, overrides: wording.Templates
    ) -> list[tuple[Outgoing, list[Delivery]]]:
        """The messages to send: one per urgent delivery; the rest for one address together."""
        out: list[tuple[Outgoing, list[Delivery]]] = []
        for group in _by(ds, lambda d: (d.address, d.message.volunteer_id)).values():
            urgent = [d for d in group if d.message.urgent]
            rest = [d for d in group if not d.message.urgent]
            out += [(self._word([d], channel, overrides), [d]) for d in urgent]
            if rest:
                out.append((self._word(rest, channel, overrides), rest))
        return out

    def _word(self, ds: list[Delivery], channel: str, overrides: wording.Templates) -> Outgoing:
        first = ds[0]
        m, language = first.message, first.language
        unsubscribe = self.links.unsubscribe(m.volunteer_id, channel) if channel == "email" else None
        links = [self._links(d) for d in ds]
        worded = [
            wording.render(d.message, language, d.timezone, overrides, ln)
            for d, ln in zip(ds, links, strict=True)
        ]
        if len(ds) == 1:
            params = {k: str(v) for k, v in wording.fields(m, first.timezone, links[0]).items()
                      if k in wording.FIELDS[m.kind]}  # fmt: skip
            return Outgoing((first.key,), first.address, worded[0].subject, worded[0].body, m.kind.value, params,
                            language, unsubscribe)  # fmt: skip
        head = f"你有 {len(ds)} 条新通知" if language == "zh" else f"{len(ds)} updates for you"
        body = "\n\n".join(f"• {w.subject}\n{w.body}" for w in worded)
        lines = (
            "；".join(w.subject for w in worded) if language == "zh" else "; ".join(w.subject for w in worded)
        )
        return Outgoing(tuple(d.key for d in ds), first.address, f"{head}: {lines}"[:190] if channel != "email" else head,
                        body, "bundle", {"count": str(len(ds))}, language, unsubscribe)  # fmt: skip

    def _links(self, d: Delivery) -> dict[str, str]:
        m = d.message
        if m.kind == MessageKind.EMERGENCY_CALL:
            return self.links.call(
                str(m.detail.get("call_id")), m.volunteer_id, int(m.detail.get("until_s", 0))
            )
        return {}

    def run(self) -> None:
        """Until :meth:`stop`: batches back to back while there is work, a pause when idle."""
        while not self._stop.is_set():
            try:
                if self.run_once() == 0:
                    self._wake.wait(IDLE_S)
                    self._wake.clear()
            except Exception as e:  # the store is down: the outbox keeps everything for later
                log.warning("notifications not sent (%s); trying again in %.0f s", e, IDLE_S)
                self._stop.wait(IDLE_S)

    def wake(self) -> None:
        """Something is due now (an emergency call was made): do not wait out the pause."""
        self._wake.set()

    def start(self) -> None:
        """:meth:`run` in a thread of its own (what each serving worker does)."""
        self._thread = threading.Thread(target=self.run, name="notify", daemon=True)
        self._thread.start()

    def stop(self, wait_s: float = 30.0) -> None:
        """Stop after the batch in hand, and wait for it: the store may be closed next (closing
        it under a transaction in flight would take the process down)."""
        self._stop.set()
        self._wake.set()
        thread = getattr(self, "_thread", None)
        if thread is not None and thread is not threading.current_thread():
            thread.join(wait_s)

    def counts(self) -> dict[str, int]:
        """Deliveries by status (pending, sending, sent, delivered, dead, dropped)."""
        return self.store.deliveries.counts()


_T = TypeVar("_T")
_K = TypeVar("_K")


def _by(items: list[_T], key: Callable[[_T], _K]) -> dict[_K, list[_T]]:
    out: dict[_K, list[_T]] = {}
    for item in items:
        out.setdefault(key(item), []).append(item)
    return out
