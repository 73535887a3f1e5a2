"""The channels beyond the inbox, each against a real server the test starts: SMS through the
HTTP gateway adapter (a local HTTP server that records what it is sent and answers as a
provider would), phone numbers verified with a code before any SMS goes to them, delivery
receipts, and e-mail whose unsubscribe link works without signing in. The service's own
dispatcher sends, as in ``volmatch serve``."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.usecases.dispatch import Gateway, Outgoing
from matcher.model.domain import World
from tests.api.mailbox import Mailbox, smtp_server
from tests.api.served import free_port
from tests.api.test_signups import Clock, serve, sign_up
from tests.conftest import activity, saturday_shift, volunteer

TOKEN = "gateway-secret"


class Provider:
    """An SMS provider's HTTP API: records each request; refuses numbers it is told to."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.refuse: set[str] = set()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                provider.requests.append(body | {"auth": self.headers.get("Authorization"),
                                                 "key": self.headers.get("Idempotency-Key")})  # fmt: skip
                refused = body["to"] in provider.refuse
                answer = (
                    {"error": f"number {body['to']} unreachable"}
                    if refused
                    else {"id": f"g{len(provider.requests)}", "status": "accepted"}
                )
                data = json.dumps(answer).encode()
                self.send_response(400 if refused else 202)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def until(what: Any, timeout_s: float = 15) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.fixture
def served(db: str) -> Iterator[tuple[TestClient, dict[str, dict[str, str]], Provider, Mailbox]]:
    provider, mailbox = Provider(), Mailbox()
    world = World(
        tuple(volunteer(f"v{i}", email=f"v{i}@example.org", languages=("en",)) for i in range(1, 4)),
        (activity("a1", title="Flood watch 防汛值守", shifts=(saturday_shift("s1"),)),),
    )
    try:
        with smtp_server(mailbox) as smtp_url:
            client, heads = serve(
                db, Clock(), world, smtp_url=smtp_url, sms_gateway_url=provider.url,
                sms_gateway_token=TOKEN, sms_templates="phone_code=SMS_0001", receipts_token="receipts-secret",
                public_url="http://volmatch.test",
            )  # fmt: skip
            with client:
                yield client, heads, provider, mailbox
    finally:
        provider.close()


def test_a_number_is_verified_by_code_before_any_sms_goes_to_it(
    served: tuple[TestClient, dict[str, dict[str, str]], Provider, Mailbox],
) -> None:
    client, h, provider, _ = served
    prefs = client.put(
        "/api/v1/volunteers/v1/notification-preferences", headers=h["v1"],
        json={"channels": ["sms"], "language": "en"},
    )  # fmt: skip
    assert prefs.status_code == 200 and prefs.json()["verified_phone"] is None
    sign_up(client, h["v1"])
    time.sleep(1.5)  # the dispatcher has had its chance: no verified number, no SMS
    assert provider.requests == []

    sent = client.post("/api/v1/volunteers/v1/phone-codes", headers=h["v1"], json={"phone": "138 0013 8000"})
    assert sent.status_code == 202 and sent.json()["phone"] == "+861******8000", sent.text
    (asked,) = until(lambda: provider.requests)
    assert asked["to"] == "+8613800138000" and asked["template_id"] == "SMS_0001"
    assert asked["auth"] == f"Bearer {TOKEN}" and asked["key"].endswith(".sms")
    code = asked["params"]["code"]
    assert len(code) == 6 and code in asked["text"] and asked["language"] == "en"
    inbox = client.get("/api/v1/notifications", headers=h["v1"]).json()["items"]
    assert inbox[0]["kind"] == "phone_code" and "8000" in inbox[0]["detail"]["to"]  # masked, and in the inbox

    wrong = client.post(
        "/api/v1/volunteers/v1/phone-codes/verify",
        headers=h["v1"],
        json={"code": "000000" if code != "000000" else "111111"},
    )
    assert wrong.status_code == 422 and "tries left" in wrong.text
    right = client.post("/api/v1/volunteers/v1/phone-codes/verify", headers=h["v1"], json={"code": code})
    assert right.status_code == 200 and right.json() == {"verified_phone": "+8613800138000"}
    again = client.post("/api/v1/volunteers/v1/phone-codes/verify", headers=h["v1"], json={"code": code})
    assert again.status_code == 409  # a code is used once

    correction = client.post(
        "/api/v1/volunteers/v1/hours/corrections", headers=h["ad"], json={"hours": 2, "note": "flood duty"}
    )
    assert correction.status_code == 201
    told = until(
        lambda: [r for r in provider.requests if r["to"] == "+8613800138000" and r["template_id"] is None]
    )
    assert "Service hours corrected" in told[0]["text"] and told[0]["params"]["hours"] == "+2"

    receipt = {"channel": "sms", "id": "g2", "status": "delivered"}
    assert client.post("/api/v1/notifications/receipts", json=receipt).status_code == 401
    ok = client.post(
        "/api/v1/notifications/receipts", json=receipt, headers={"Authorization": "Bearer receipts-secret"}
    )
    assert ok.status_code == 204, ok.text


def test_a_refused_number_is_dead_at_once_and_an_admin_sees_it(
    served: tuple[TestClient, dict[str, dict[str, str]], Provider, Mailbox],
) -> None:
    client, h, provider, _ = served
    provider.refuse.add("+447700900123")
    assert (
        client.post(
            "/api/v1/volunteers/v2/phone-codes", headers=h["v2"], json={"phone": "+44 7700 900123"}
        ).status_code
        == 202
    )
    dead = until(lambda: client.get("/api/v1/admin/dead-letters", headers=h["ad"]).json()["items"])
    assert dead[0]["channel"] == "sms" and dead[0]["attempts"] == 1 and "unreachable" in dead[0]["error"]
    assert "+447700900123" not in json.dumps(dead)  # the provider echoed it: scrubbed from what admins list


def test_every_email_can_be_unsubscribed_from_without_signing_in(
    served: tuple[TestClient, dict[str, dict[str, str]], Provider, Mailbox],
) -> None:
    client, h, _, mailbox = served
    sign_up(client, h["v3"])
    (mail,) = until(lambda: mailbox.mails)
    assert mail["Subject"] == "You have a place: Flood watch 防汛值守"  # English, as v3 speaks
    link = mail["List-Unsubscribe"].strip("<>")
    assert link.startswith("http://volmatch.test/unsubscribe/") and link in mail.get_content()
    path = link.removeprefix("http://volmatch.test")
    assert client.get(path).status_code == 200  # opening the link changes nothing
    assert (
        "email"
        in client.get("/api/v1/volunteers/v3/notification-preferences", headers=h["v3"]).json()["channels"]
    )
    done = client.post(path)  # the page's button, or a mail program's one-click unsubscribe
    assert done.status_code == 200
    assert (
        "email"
        not in client.get("/api/v1/volunteers/v3/notification-preferences", headers=h["v3"]).json()[
            "channels"
        ]
    )
    assert client.post(path[:-3] + "xyz").status_code == 422  # a tampered link does nothing


def test_the_gateway_adapter_retries_what_a_provider_failed_to_take() -> None:
    gone = Gateway("sms", f"http://127.0.0.1:{free_port()}/send", None, {})
    (result,) = gone.send([Outgoing(("1.sms",), "+8613800138000", "hello", "hello", "reminder")])
    assert result.error is not None and not result.permanent  # tried again later
