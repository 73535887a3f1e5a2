"""The outbox survives its dispatcher dying: ``volmatch notify`` is killed (SIGKILL) in the middle
of 1,000 messages to a real SMTP server the test starts, then started again. Every message
arrives; a receiver counting by delivery key counts each once (sending is at least once: what
was in flight when it died may be sent again, never more than one batch). Two dispatchers at
once on PostgreSQL send 10,000 messages with no delivery key twice. On both stores."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.usecases.dispatch import BATCH
from matcher.model.domain import World
from matcher.model.vocabulary import MessageKind
from matcher.store.connect import open_store
from matcher.store.outbox import tell_many
from tests.api.mailbox import Mailbox, smtp_server
from tests.api.test_served_operations import next_saturday
from tests.conftest import activity, volunteer

CLAIM_S = 2
"""How long the killed dispatcher's claims last before the next one takes them over."""


@pytest.fixture
def keys() -> Iterator[tuple[Mailbox, str]]:
    counted = Mailbox(delay_s=0.002)
    with smtp_server(counted) as url:
        yield counted, url


def queue(db: str, n: int) -> None:
    """``n`` volunteers with addresses, each told one urgent message (an emergency call's wave:
    no quiet hours or weekly cap to hold any back)."""
    store = open_store(db)
    try:
        store.load_world(
            World(
                tuple(volunteer(f"v{i}", email=f"v{i}@example.org") for i in range(n)),
                (activity("a1", title="防汛值守 Flood watch", shifts=(next_saturday(5),)),),
            )
        )
        with store._ops_tx() as tx:  # the store's own transaction, as an operation writes it
            told = tell_many(
                tx, [f"v{i}" for i in range(n)], MessageKind.EMERGENCY_CALL, int(time.time()), "call:crash",
                shift_id="s1", detail={"call_id": "crash", "until_s": int(time.time()) + 3600}, urgent=True,
            )  # fmt: skip
        assert told == n
    finally:
        store.close()


def notify(
    db: str, smtp_url: str, log: Path, *, once: bool = False, claim_s: int = CLAIM_S
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "VOLMATCH_SMTP_URL": smtp_url,
        "VOLMATCH_SECRET_KEY": "a-test-signing-key-of-32-characters!",
        "VOLMATCH_ENVIRONMENT": "test",
        "VOLMATCH_NOTIFY_CLAIM_SECONDS": str(claim_s),
    }
    with log.open("a") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "api.cli", "notify", "--db", db, *(["--once"] if once else [])],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def sent(db: str) -> dict[str, int]:
    store = open_store(db)
    try:
        return store.deliveries.counts()
    finally:
        store.close()


def delivery_keys(db: str) -> set[str]:
    store = open_store(db)
    try:
        with store._ops_tx() as tx:
            return {f"{r[0]}.{r[1]}" for r in tx.all("SELECT message_id, channel FROM deliveries")}
    finally:
        store.close()


def wait_for(what: Any, timeout_s: float, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; the dispatcher's log:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)


def test_a_killed_dispatcher_loses_nothing_and_the_receiver_counts_each_once(
    db: str, keys: tuple[Mailbox, str], tmp_path: Path
) -> None:
    counted, url = keys
    n = 1000
    queue(db, n)
    log = tmp_path / "notify.log"
    first = notify(db, url, log)
    try:
        wait_for(lambda: counted.distinct() >= 150, 120, log)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(30)
    arrived = counted.distinct()
    assert arrived < n, "the dispatcher finished before it was killed: nothing was tested"
    left = sent(db)
    assert left.get("sent", 0) < n  # some were claimed, or not yet, when it died

    time.sleep(CLAIM_S + 1)  # the dead dispatcher's claims run out
    second = notify(db, url, log, once=True)
    assert second.wait(300) == 0, log.read_text()[-3000:]

    assert sent(db) == {"sent": n}
    assert set(counted.keys) == delivery_keys(db)  # every message arrived, counted once by key
    again = sum(c - 1 for c in counted.keys.values())
    assert again <= BATCH, f"{again} sent twice: more than one batch was in flight"  # at least once, bounded


@pytest.mark.postgis
def test_two_dispatchers_on_postgresql_send_ten_thousand_with_no_key_twice(
    postgis_url: str, tmp_path: Path
) -> None:
    counted = Mailbox()
    with smtp_server(counted) as url:
        n = 10_000
        queue(postgis_url, n)
        log = tmp_path / "notify.log"
        # The default claim (60 s): a claim shorter than a batch takes to send is taken over
        # while it is being sent, and sent twice, as designed for a dispatcher that died.
        both = [notify(postgis_url, url, log, once=True, claim_s=60) for _ in range(2)]
        for p in both:
            assert p.wait(600) == 0, log.read_text()[-3000:]
        assert sent(postgis_url) == {"sent": n}
    assert set(counted.keys) == delivery_keys(postgis_url) and len(counted.mails) == n
    assert max(counted.keys.values()) == 1  # neither sent what the other had claimed
