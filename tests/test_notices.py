"""Notices from the shop's system: API keys, the notice in the customer's conversation, the
shopper's answer to a delay reaching agents, the shop's API and its webhook (a real receiver)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chatserver.domain import protocol as p
from chatserver.domain.customer import customer_shopper_id
from tests._redis import REDIS_URL
from tests._smtp import Mailbox, body, smtp  # noqa: F401 (smtp: a fixture)
from tests.conftest import Client, Server, ServerFactory

SECRET = "shop-webhook-secret"


def customer_token(server: Server, customer_id: str) -> str:
    """A widget token of the shop's verified customer (what identity's sign-in hands out)."""
    return str(server.hub.tokens._shopper.dumps({"sid": customer_shopper_id(customer_id)}))


async def customer(server: Server, customer_id: str, last_seq: int = 0) -> Client:
    return await server.shopper(customer_token(server, customer_id), last_seq=last_seq)


async def key(server: Server, *scopes: str) -> dict[str, str]:
    _, secret = await server.hub.keys.create("shop system", list(scopes), "admin")  # type: ignore[arg-type]
    return {"Authorization": "Bearer " + secret}


async def admin(server: Server, role: str = "admin") -> dict[str, str]:
    agent_id = f"boss-{role}"
    if await server.hub.accounts.get(agent_id) is None:
        await server.hub.accounts.add(agent_id, "Boss", "pw", role=role)  # type: ignore[arg-type]
    return {"Authorization": "Bearer " + server.hub.tokens.new_session(agent_id)}


async def call(
    server: Server, method: str, path: str, headers: dict[str, str], body: Any = None
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        return await http.request(method, path, headers=headers, json=body)


def delay(notice_id: str = "n-1", customer_id: str = "cust-7", **extra: Any) -> dict[str, Any]:
    return {
        "notice_id": notice_id,
        "customer_id": customer_id,
        "kind": "delayed",
        "first_name": "Jane",
        "order": "100234",
        "product": "the green kettle",
        "reason": "our supplier's delivery was held at customs",
        "new_date": "2027-01-15",
        **extra,
    }


# --- keys ---------------------------------------------------------------------------------------


async def test_an_admin_key_is_shown_once_and_refused_once_revoked(server: Server) -> None:
    boss = await admin(server)
    made = await call(
        server, "POST", "/api/admin/apikeys", boss, {"name": "ERP", "scopes": ["notices:write"]}
    )
    assert made.status_code == 200, made.text
    secret, key_id = made.json()["key"], made.json()["id"]
    assert secret.startswith(f"csk_{key_id}_")
    listed = (await call(server, "GET", "/api/admin/apikeys", boss)).json()["keys"]
    assert [k["id"] for k in listed] == [key_id]
    assert secret not in json.dumps(listed) and "hash" not in listed[0]
    stored = await server.hub.store.api_keys.get(key_id)
    assert stored is not None and secret not in stored  # only its hash is kept
    bearer = {"Authorization": "Bearer " + secret}
    assert (await call(server, "POST", "/api/notices", bearer, delay())).status_code == 201

    revoked = await call(server, "DELETE", f"/api/admin/apikeys/{key_id}", boss)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    refused = await call(server, "POST", "/api/notices", bearer, delay("n-2"))
    assert (refused.status_code, refused.json()) == (401, {"error": "this API key was revoked"})
    # Nothing of the refused notice was stored.
    assert await server.hub.store.ledger.get("notices", "n-2") is None


async def test_a_wrong_missing_or_out_of_scope_key_is_refused(server: Server) -> None:
    reader = await key(server, "choices:read")
    out_of_scope = await call(server, "POST", "/api/notices", reader, delay())
    assert out_of_scope.status_code == 403 and "notices:write" in out_of_scope.json()["error"]
    assert (await call(server, "GET", "/api/notices/choices", reader)).status_code == 200
    writer = await key(server, "notices:write")
    assert (await call(server, "GET", "/api/notices/choices", writer)).status_code == 403
    forged = writer["Authorization"][:-4] + "AAAA"
    for headers in ({}, {"Authorization": forged}, {"Authorization": "Bearer csk_nope_x"}):
        answer = await call(server, "POST", "/api/notices", headers, delay())
        assert answer.status_code == 401, headers
        assert "API key" in answer.json()["error"]
    # Agents cannot make keys; only admins.
    agent = await admin(server, "agent")
    denied = await call(
        server, "POST", "/api/admin/apikeys", agent, {"name": "x", "scopes": ["choices:read"]}
    )
    assert denied.status_code == 403


# --- notices ------------------------------------------------------------------------------------


async def test_the_same_notice_twice_is_stored_once_and_waits_for_a_customer_who_never_chatted(
    server: Server,
) -> None:
    writer = await key(server, "notices:write")
    first = await call(server, "POST", "/api/notices", writer, delay())
    again = await call(server, "POST", "/api/notices", writer, delay())
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {**first.json(), "duplicate": True}
    conversation_id = first.json()["conversation_id"]
    events = [json.loads(t) for _, t in await server.hub.store.log.read(conversation_id)]
    assert [e["type"] for e in events] == ["conversation_started", "notice_posted"]
    record = await server.hub.journal.get(conversation_id)
    assert (record.shopper_id, record.status) == (customer_shopper_id("cust-7"), "bot")
    # The customer opens the widget later (any device): the notice is there, with its choices.
    shopper = await customer(server, "cust-7")
    notice = await shopper.expect("notice_posted", notice_id="n-1")
    assert notice["choices"] == ["keep_waiting", "faster_shipping", "cancel_refund"]
    assert notice["title"] == "Order 100234 is delayed"
    assert "held at customs" in notice["text"] and "January 15, 2027" in notice["text"]
    assert "{" not in notice["text"]


async def test_a_notice_in_german_and_one_missing_a_value_is_refused_naming_it(
    server: Server,
) -> None:
    writer = await key(server, "notices:write")
    german = await call(server, "POST", "/api/notices", writer, delay(locale="de"))
    assert german.status_code == 201
    events = await server.hub.store.log.read(german.json()["conversation_id"])
    notice = json.loads(events[-1][1])
    assert notice["title"] == "Bestellung 100234 verzögert sich"
    assert "15. Januar 2027" in notice["text"]

    no_name = {"notice_id": "n-2", "customer_id": "cust-8", "kind": "confirmed", "order": "77"}
    refused = await call(server, "POST", "/api/notices", writer, no_name)
    assert refused.status_code == 422
    assert refused.json()["fields"] == {"first_name": "{first_name} has no value"}
    no_link = {"notice_id": "n-3", "customer_id": "cust-8", "kind": "shipped", "order": "77"}
    refused = await call(server, "POST", "/api/notices", writer, no_link)
    assert refused.status_code == 422 and "tracking_link" in refused.json()["error"]
    assert await server.hub.journal.latest(customer_shopper_id("cust-8")) is None

    # The admin's own text for a kind is used; an unknown placeholder is refused.
    boss = await admin(server)
    texts = {"texts": {"confirmed": {"title": "Danke {first_name}", "text": "Bestellung {order}."}}}
    assert (await call(server, "PUT", "/api/admin/notice-texts/de", boss, texts)).status_code == 200
    wrong = {"texts": {"confirmed": {"title": "Hi {firstname}", "text": "x"}}}
    bad = await call(server, "PUT", "/api/admin/notice-texts/de", boss, wrong)
    assert bad.status_code == 400 and bad.json()["fields"] == {
        "texts.confirmed.title": "{firstname} is not a placeholder"
    }
    thanks = {**no_name, "first_name": "Jana", "locale": "de"}
    sent = await call(server, "POST", "/api/notices", writer, thanks)
    assert sent.status_code == 201
    events = await server.hub.store.log.read(sent.json()["conversation_id"])
    assert json.loads(events[-1][1])["title"] == "Danke Jana"


# --- the answer to a delay ----------------------------------------------------------------------


@dataclass
class Receiver:
    """The shop's webhook endpoint: answers 500 to the first ``failures`` requests, then 200."""

    url: str = ""
    failures: int = 1
    seen: list[tuple[int, Request, bytes]] = field(default_factory=list)

    async def hook(self, request: Request) -> Response:
        status = 500 if len(self.seen) < self.failures else 200
        self.seen.append((status, request, await request.body()))
        return Response("", status)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    shop = Receiver()
    app = Starlette(routes=[Route("/hooks/chat", shop.hook, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, port=0, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    shop.url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/hooks/chat"
    yield shop
    server.should_exit = True
    await task


async def test_a_delay_reaches_the_widget_with_three_choices_and_the_answer_reaches_agents_and_the_shop(
    start_server: ServerFactory, receiver: Receiver
) -> None:
    url, seen = receiver.url, receiver.seen
    server = await start_server(notice_webhook_url=url, notice_webhook_secret=SECRET)
    agent = await server.agent("ann")
    shopper = await customer(server, "cust-7")
    await shopper.send(p.SendMessage(client_id="m1", text="Hello, where is my kettle?"))
    await agent.expect("conversation_assigned")

    writer = await key(server, "notices:write", "choices:read")
    sent = await call(server, "POST", "/api/notices", writer, delay())
    assert sent.status_code == 201
    notice = await shopper.expect("notice_posted", notice_id="n-1")
    assert notice["choices"] == ["keep_waiting", "faster_shipping", "cancel_refund"]
    assert (await agent.expect("notice_posted", notice_id="n-1"))["seq"] == notice["seq"]

    await shopper.send(p.ChooseOption(notice_id="n-1", choice="faster_shipping"))
    made = await shopper.expect("choice_made", notice_id="n-1", choice="faster_shipping")
    await agent.expect("choice_made", notice_id="n-1", choice="faster_shipping")
    # A second answer (or a retry) changes nothing: the first stands.
    await shopper.send(p.ChooseOption(notice_id="n-1", choice="cancel_refund"))
    await shopper.send(p.ChooseOption(notice_id="n-9", choice="cancel_refund"))
    await shopper.expect("error", code="not_allowed")
    assert len(shopper.all("choice_made")) == 1

    # The shop reads it back ...
    listed = (await call(server, "GET", "/api/notices/choices?since=0", writer)).json()
    assert [(c["notice_id"], c["choice"], c["number"]) for c in listed["choices"]] == [
        ("n-1", "faster_shipping", 1)
    ]
    assert listed["next"] == 1
    assert (await call(server, "GET", "/api/notices/choices?since=1", writer)).json()[
        "choices"
    ] == []

    # ... and gets it signed, at the first attempt (500), then 30 s later on the fake clock.
    async def attempts(n: int) -> bool:
        return len(seen) >= n

    await server.until(lambda: attempts(1))
    failed_at = server.clock.now()
    _, request, body = seen[0]
    timestamp = request.headers["x-chat-timestamp"]
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    assert request.headers["x-chat-signature"] == expected.hexdigest()
    assert json.loads(body)["choice"] == "faster_shipping"
    assert json.loads(body)["conversation_id"] == made["conversation_id"]

    async def retry_due() -> bool:
        pending = await server.hub.webhooks.pending()
        return bool(pending) and pending[0].attempts == 1

    await server.until(retry_due)
    item = await server.hub.store.trays.get("webhooks", "choice-n-1")
    assert item is not None and item.score == failed_at + 30
    await server.clock.advance(29)
    await asyncio.sleep(0.2)
    assert len(seen) == 1
    await server.clock.advance(1)
    await server.until(lambda: attempts(2))
    assert seen[1][0] == 200 and seen[1][2] == body
    assert seen[1][1].headers["x-chat-delivery"] == "choice-n-1"

    async def delivered() -> bool:
        return not await server.hub.webhooks.pending()

    await server.until(delivered)
    await server.clock.advance(3600)
    await asyncio.sleep(0.2)
    assert len(seen) == 2  # delivered once


# --- reports ------------------------------------------------------------------------------------


async def test_reports_count_notices_per_kind_and_choices_per_choice(server: Server) -> None:
    writer = await key(server, "notices:write")
    shipped = {
        "kind": "shipped",
        "first_name": "Jo",
        "order": "9",
        "tracking_link": "https://t.example/9",
    }
    seeded = [
        delay("d-1", "cust-1"),
        delay("d-2", "cust-2"),
        delay("d-3", "cust-3"),
        delay("d-1", "cust-1"),  # the same notice again: counted once
        {"notice_id": "s-1", "customer_id": "cust-1", **shipped},
        {"notice_id": "c-1", "customer_id": "cust-4", "kind": "confirmed", "first_name": "Al", "order": "8"},
    ]  # fmt: skip
    for notice in seeded:
        assert (await call(server, "POST", "/api/notices", writer, notice)).status_code in (
            200,
            201,
        )
    for customer_id, notice_id, choice in (
        ("cust-1", "d-1", "faster_shipping"),
        ("cust-2", "d-2", "faster_shipping"),
        ("cust-3", "d-3", "cancel_refund"),
    ):
        shopper = await customer(server, customer_id)
        await shopper.expect("notice_posted", notice_id=notice_id)
        await shopper.send(p.ChooseOption(notice_id=notice_id, choice=choice))  # type: ignore[arg-type]
        await shopper.expect("choice_made", notice_id=notice_id)

    async def all_recorded() -> bool:
        return len(await server.hub.store.ledger.after("choices")) == 3

    await server.until(all_recorded)

    # An answer that asks the shop to act puts a bot-led conversation in front of a person.
    async def queued() -> bool:
        latest = await server.hub.journal.latest(customer_shopper_id("cust-3"))
        return latest is not None and latest.status == "queued"

    await server.until(queued)
    manager = await admin(server, "manager")
    body = (await call(server, "GET", "/api/reports", manager)).json()
    assert body["notices"] == {
        "sent": 5,
        "by_kind": [
            {"key": "confirmed", "count": 1},
            {"key": "shipped", "count": 1},
            {"key": "delayed", "count": 3},
            {"key": "refund", "count": 0},
        ],
        "choices": [
            {"key": "keep_waiting", "count": 0},
            {"key": "faster_shipping", "count": 2},
            {"key": "cancel_refund", "count": 1},
        ],
    }
    csv = await call(server, "GET", "/api/reports/notices.csv", manager)
    assert csv.text.splitlines() == [
        "what,key,count",
        "notice,confirmed,1",
        "notice,shipped,1",
        "notice,delayed,3",
        "notice,refund,0",
        "choice,keep_waiting,0",
        "choice,faster_shipping,2",
        "choice,cancel_refund,1",
    ]


# --- e-mail, restarts and workers ---------------------------------------------------------------


async def test_a_notice_is_emailed_too_when_smtp_is_set_and_the_address_known(
    start_server: ServerFactory, smtp: Mailbox
) -> None:
    server = await start_server(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none")
    writer = await key(server, "notices:write")
    mailed = delay(email="jane@example.com")
    assert (await call(server, "POST", "/api/notices", writer, mailed)).status_code == 201
    assert (await call(server, "POST", "/api/notices", writer, mailed)).status_code == 200
    [mail] = await smtp.next(1)
    assert mail["To"] == "jane@example.com"
    assert mail["Subject"] == "Order 100234 is delayed"
    assert "held at customs" in body(mail)
    no_address = delay("n-2", "cust-8")
    assert (await call(server, "POST", "/api/notices", writer, no_address)).status_code == 201
    assert not [m for m in await server.hub.mailer.outbox() if m.kind == "notice"]
    assert len(smtp.received) == 1  # the duplicate was not mailed again


async def test_a_webhook_waiting_for_the_shop_survives_a_restart_and_one_worker_sends_it(
    start_server: ServerFactory,
    receiver: Receiver,
    backend_kind: str,
) -> None:
    receiver.failures = 0
    url, seen = receiver.url, receiver.seen
    down = "http://127.0.0.1:9/hooks/chat"  # nothing listens there
    first = await start_server(notice_webhook_url=down, notice_webhook_secret=SECRET)
    writer = await key(first, "notices:write")
    sent = await call(first, "POST", "/api/notices", writer, delay())
    shopper = await customer(first, "cust-7")
    await shopper.send(p.ChooseOption(notice_id="n-1", choice="cancel_refund"))
    await shopper.expect("choice_made")

    async def failed_once() -> bool:
        pending = await first.hub.webhooks.pending()
        return bool(pending) and pending[0].attempts == 1

    await first.until(failed_once)
    await first.hub.close()  # the worker stops (its tray stays in the store)
    if backend_kind == "sqlite":
        await first.hub.store.close()
        from chatserver.store.sqlite import SQLiteStore

        stores = [SQLiteStore(first.settings.database_path)]
    else:
        from chatserver.store.redis import RedisStore

        prefix = first.hub.store.prefix  # type: ignore[attr-defined]
        stores = [RedisStore(REDIS_URL, prefix=prefix), RedisStore(REDIS_URL, prefix=prefix)]
    workers = [
        await start_server(store=store, notice_webhook_url=url, notice_webhook_secret=SECRET)
        for store in stores
    ]
    for worker in workers:
        await worker.clock.advance(30)

    async def delivered() -> bool:
        return not await workers[0].hub.webhooks.pending()

    await workers[0].until(delivered)
    for worker in workers:
        await worker.clock.advance(3600)
    await asyncio.sleep(0.2)
    hooks = [json.loads(b) for _, _, b in seen]
    assert [(h["notice_id"], h["choice"]) for h in hooks] == [("n-1", "cancel_refund")]
    assert hooks[0]["conversation_id"] == sent.json()["conversation_id"]
