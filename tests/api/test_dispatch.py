"""Sending the outbox by e-mail to a real SMTP server the test starts (aiosmtpd): what a
volunteer is told arrives once, worded in their language with a Chinese subject that decodes;
a server that refuses is retried with backoff and then dead-lettered; several dispatchers at
once never send a delivery twice. On both stores."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest

from api.auth import Links
from api.usecases.dispatch import Dispatcher, Smtp
from matcher.model.domain import World
from matcher.store.base import Store
from matcher.store.connect import open_store
from matcher.store.deliveries import BACKOFF_S, MAX_ATTEMPTS
from matcher.store.operations import Policy
from tests.api.mailbox import Mailbox, smtp_server
from tests.api.served import free_port
from tests.api.test_served_operations import next_saturday
from tests.conftest import activity, volunteer

LINKS = Links("a-test-signing-key-of-32-characters!", "http://volmatch.test")


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, str]]:
    box = Mailbox()
    with smtp_server(box) as url:
        yield box, url


def city(db: str, people: int) -> tuple[Store, int]:
    """``people`` volunteers with e-mail addresses (one without), one shift with room for all."""
    shift = next_saturday(people + 1)
    store = open_store(db)
    store.load_world(
        World(
            tuple(volunteer(f"v{i}", email=f"v{i}@example.org" if i else None) for i in range(people)),
            (activity("a1", title="西湖边清洁 River clean-up", shifts=(shift,)),),
        )
    )
    return store, int((shift.starts_at - timedelta(days=2)).timestamp())


def test_a_sign_up_is_mailed_once_in_the_volunteers_language(db: str, smtp: tuple[Mailbox, str]) -> None:
    inbox, url = smtp
    store, now_s = city(db, 3)
    try:
        for i in range(3):
            store.ops.sign_up(f"su{i}", "s1", f"v{i}", now_s, Policy())
        sender = Dispatcher(store, {"email": Smtp(url, "team@example.org")}, LINKS, clock=lambda: now_s)
        assert sender.run_once() == 2  # v0 gave no address: told in the console only
        assert sender.run_once() == 0  # nothing is sent twice
        assert store.deliveries.counts() == {"sent": 2, "pending": 4}  # and the reminders, due later
    finally:
        store.close()
    assert sorted(m["To"] for m in inbox.mails) == ["v1@example.org", "v2@example.org"]
    mail = inbox.mails[0]
    assert mail["Subject"] == "报名成功：西湖边清洁 River clean-up"  # the volunteer's language
    assert mail["X-Volmatch-Delivery"].endswith(".email")
    assert "西湖边清洁 River clean-up" in mail.get_content()


def test_a_refusing_server_is_retried_then_dead_lettered(db: str) -> None:
    store, now_s = city(db, 2)
    clock = [float(now_s)]
    try:
        store.ops.sign_up("su1", "s1", "v1", now_s, Policy())
        down = Smtp(f"smtp://127.0.0.1:{free_port()}", "team@example.org")  # nobody listens there
        sender = Dispatcher(store, {"email": down}, LINKS, clock=lambda: clock[0])
        assert sender.run_once() == 1
        assert store.deliveries.counts() == {"pending": 3}  # with its two reminders, due later
        assert sender.run_once() == 0  # not before the backoff
        for attempt in range(2, MAX_ATTEMPTS + 1):
            clock[0] += BACKOFF_S * 2 ** (attempt - 1)
            assert sender.run_once() == 1, attempt
        assert store.deliveries.counts() == {"dead": 1, "pending": 2}
        (dead,) = store.deliveries.dead()
        assert dead["attempts"] == MAX_ATTEMPTS and "SMTP" in dead["error"]
        assert store.deliveries.retry(dead["message_id"], "email", int(clock[0]))
        assert store.deliveries.counts() == {"pending": 3}
    finally:
        store.close()


def test_two_dispatchers_at_once_send_each_delivery_once(db: str, smtp: tuple[Mailbox, str]) -> None:
    inbox, url = smtp
    people = 120
    store, now_s = city(db, people)
    try:
        for i in range(people):
            store.ops.sign_up(f"su{i}", "s1", f"v{i}", now_s, Policy())
    finally:
        store.close()
    stores = [open_store(db), open_store(db)]  # two processes' connections
    try:
        senders = [
            Dispatcher(s, {"email": Smtp(url, "team@example.org")}, LINKS, clock=lambda: now_s)
            for s in stores
        ]
        for i, sender in enumerate(senders):
            sender.worker += f"-{i}"

        def drain(sender: Dispatcher) -> int:
            done = 0
            while (batch := sender.run_once(limit=7)) > 0:
                done += batch
            return done

        threads = [threading.Thread(target=drain, args=(s,)) for s in senders]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert stores[0].deliveries.counts() == {"sent": people - 1, "pending": 2 * (people - 1)}
    finally:
        for s in stores:
            s.close()
    keys = Counter(m["X-Volmatch-Delivery"] for m in inbox.mails)
    assert len(keys) == people - 1 and max(keys.values()) == 1


def test_updates_due_together_go_as_one_message_and_urgent_ones_alone(
    db: str, smtp: tuple[Mailbox, str]
) -> None:
    box, url = smtp
    store, now_s = city(db, 3)
    try:
        store.ops.sign_up("su1", "s1", "v1", now_s, Policy())  # a place (not urgent)
        store.ops.correct_hours("v1", 2.0, "carried over", "admin", now_s)  # hours (not urgent)
        store.ops.sign_up("su2", "s1", "v2", now_s, Policy())
        store.ops.cancel("su2", now_s, Policy())  # frees nothing urgent for v2: a plain update
        sender = Dispatcher(store, {"email": Smtp(url, "team@example.org")}, LINKS, clock=lambda: now_s)
        assert sender.run_once() == 3
    finally:
        store.close()
    by_address = {m["To"]: m for m in box.mails}
    assert len(box.mails) == 2  # v1's two updates in one e-mail, v2's one alone
    bundle = by_address["v1@example.org"]
    assert len(str(bundle["X-Volmatch-Delivery"]).split(",")) == 2
    text = bundle.get_content()
    assert "报名成功" in text and "服务时长已更正" in text and bundle["Subject"].startswith("你有 2 条新通知")
