"""The bot answers "where is my order" with the shop's real order data, on real servers: the
demo order service started for real, and shop systems that are slow or fail."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chatserver.domain import protocol as p
from chatserver.orders.demo_service import DEMO_SECRET, create_order_service
from tests.conftest import Client, Server, ServerFactory
from tests.test_identity import customer, shopper_as
from tests.test_reports import login

FAQ = Path(__file__).resolve().parent.parent / "faq_data"
TRACKING = "https://www.dhl.com/track?id=JD0146000123"

Serve = Callable[[Any], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Serve an ASGI app (a shop's order system) on a free port; returns its base URL."""
    running: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def start(app: Any) -> str:
        config = uvicorn.Config(
            app, port=0, log_level="warning", lifespan="off", timeout_graceful_shutdown=0.1
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        running.append((server, task))
        return f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"

    yield start
    for server, task in running:
        server.should_exit = True
        await task


async def shop_with_orders(start_server: ServerFactory, base: str, **settings: Any) -> Server:
    settings.setdefault("orders_customer_url", base + "/api/chat/customers/{customer}/orders")
    return await start_server(
        faq_dir=FAQ,
        identity_secret="shop-identity-secret",
        orders_url=base + "/api/chat/orders/{order}",
        orders_secret=DEMO_SECRET,
        **settings,
    )


async def ask(client: Client, text: str, client_id: str) -> dict[str, Any]:
    """The bot's reply to one shopper message."""
    await client.send(p.SendMessage(client_id=client_id, text=text))
    await client.expect("message_posted", client_id=client_id)
    return await client.expect("message_posted", author="bot")


async def test_a_customer_asking_where_their_order_is_gets_its_status_and_tracking_link(
    start_server: ServerFactory, serve: Serve
) -> None:
    server = await shop_with_orders(start_server, await serve(create_order_service()))
    jane, _ = await shopper_as(server, customer(server, "cust-1001"))
    answer = await ask(jane, "where is my order?", "q1")
    assert answer["faq_id"] == "order-status"
    assert "100234" in answer["text"] and "shipped" in answer["text"]
    assert TRACKING in answer["text"] and "DHL" in answer["text"]
    assert "100301" not in answer["text"]  # Max's order, not hers
    record = await server.hub.journal.get(answer["conversation_id"])
    assert record.bot_order_answers == 1

    # Agents see the looked-up orders beside the chat (the staff log), shoppers never do.
    await jane.send(p.SendMessage(client_id="h", text="I want to talk to a real person please"))
    await jane.expect("conversation_queued")
    alice = await server.agent("alice")
    looked = await alice.expect("order_looked_up", outcome="found")
    assert [o["number"] for o in looked["orders"]] == ["100234", "100198"]
    assert looked["orders"][0]["tracking_url"] == TRACKING
    assert looked["orders"][0]["items"] == ["Trail running shoes"]
    assert not jane.all("order_looked_up")


async def test_a_german_customer_gets_the_answer_in_german(
    start_server: ServerFactory, serve: Serve
) -> None:
    server = await shop_with_orders(start_server, await serve(create_order_service()))
    max_, _ = await shopper_as(server, customer(server, "cust-1002"))
    answer = await ask(max_, "Wo ist meine Bestellung?", "q1")
    assert "Bestellung 100301: verspätet" in answer["text"]
    assert "Bestellung 100290: in Bearbeitung" in answer["text"]
    assert "Voraussichtliche Zustellung" in answer["text"]
    jane, _ = await shopper_as(server, customer(server, "cust-1001"))
    answer = await ask(jane, "Wo ist meine Bestellung?", "q2")
    assert "versandt" in answer["text"] and TRACKING in answer["text"]


async def test_a_guest_gets_an_order_only_with_its_email_or_postcode(
    start_server: ServerFactory, serve: Serve
) -> None:
    server = await shop_with_orders(start_server, await serve(create_order_service()))
    guest = await server.shopper()
    first = await ask(guest, "where is my order?", "q1")
    assert "order number" in first["text"] and "100234" not in first["text"].split("(")[0]
    nosy = await ask(guest, "100234 mallory@example.com", "q2")
    assert "couldn't find" in nosy["text"]
    assert "shipped" not in nosy["text"] and "DHL" not in nosy["text"]
    number_only = await ask(guest, "order 100234 please", "q3")
    assert "shipped" not in number_only["text"] and TRACKING not in number_only["text"]
    own = await ask(guest, "100234 jane@example.com", "q4")
    assert "shipped" in own["text"] and TRACKING in own["text"]
    by_postcode = await ask(guest, "where is my order? 100301, postcode 10115", "q5")
    assert "delayed" in by_postcode["text"]
    record = await server.hub.journal.get(own["conversation_id"])
    assert record.bot_order_answers == 2

    # The manager's report counts the chat the bot settled with real order data (once).
    other = await server.shopper()
    await ask(other, "What payment methods do you accept?", "p1")
    token = await login(server, "mona", "manager")
    day = datetime.fromtimestamp(server.clock.now(), ZoneInfo("Europe/Berlin")).date().isoformat()
    async with httpx.AsyncClient(base_url=server.url) as client:
        body = (
            await client.get(
                "/api/reports",
                params={"from": day, "to": day},
                headers={"Authorization": f"Bearer {token}"},
            )
        ).json()
    assert body["bot"]["conversations"] == 2 and body["bot"]["order_answers"] == 1


async def test_without_a_customer_endpoint_a_customer_is_asked_for_the_order_number(
    start_server: ServerFactory, serve: Serve
) -> None:
    server = await shop_with_orders(
        start_server, await serve(create_order_service()), orders_customer_url=""
    )
    jane, _ = await shopper_as(server, customer(server, "cust-1001"))
    first = await ask(jane, "where is my order?", "q1")
    assert "order number" in first["text"] and TRACKING not in first["text"]
    own = await ask(jane, "100234 jane@example.com", "q2")
    assert "shipped" in own["text"] and TRACKING in own["text"]


async def test_a_slow_shop_system_gets_the_faq_answer_and_the_offer_of_a_person(
    start_server: ServerFactory, serve: Serve
) -> None:
    release = asyncio.Event()

    async def slow(request: Request) -> Response:
        await release.wait()
        return Response("{}", media_type="application/json")

    base = await serve(Starlette(routes=[Route("/api/chat/customers/{customer}/orders", slow)]))
    server = await shop_with_orders(start_server, base, orders_timeout_s=1.0)
    jane, _ = await shopper_as(server, customer(server, "cust-1001"))
    began = time.monotonic()
    answer = await ask(jane, "where is my order?", "q1")
    waited = time.monotonic() - began
    release.set()
    assert waited < 1.9  # the timeout bounds the whole lookup: no second slow attempt
    assert answer["faq_id"] == "order-status"
    assert "Shipped" in answer["text"]  # the FAQ's general answer
    assert "ask for a person" in answer["text"]
    assert jane.all("typing_notice")[0]["role"] == "bot"
    record = await server.hub.journal.get(answer["conversation_id"])
    assert record.bot_order_answers == 0


async def test_a_failing_shop_system_gets_the_faq_answer_and_the_offer_of_a_person(
    start_server: ServerFactory, serve: Serve
) -> None:
    calls: list[str] = []

    async def broken(request: Request) -> Response:
        calls.append(request.url.path)
        return Response("database down", 503)

    base = await serve(Starlette(routes=[Route("/api/chat/orders/{order}", broken)]))
    server = await shop_with_orders(start_server, base)
    guest = await server.shopper()
    answer = await ask(guest, "where is my order 100234 jane@example.com", "q1")
    assert "can't reach our order system" in answer["text"]
    assert "shipped" not in answer["text"].split("\n\n")[-1]
    assert len(calls) == 2  # one retry, then the fallback


async def test_the_demo_shop_answers_from_its_own_order_service(
    start_server: ServerFactory,
) -> None:
    server = await start_server(faq_dir=FAQ)  # demo data on, no orders_url: /demo-orders
    async with httpx.AsyncClient() as http:
        signed = (await http.get(server.url + "/api/demo/customer")).json()
    jane, welcome = await shopper_as(server, p.CustomerIdentity.model_validate(signed))
    assert str(welcome["user_id"]).startswith("c-")
    answer = await ask(jane, "where is my order?", "q1")
    assert "shipped" in answer["text"] and TRACKING in answer["text"]
    record = json.loads(
        (await server.hub.store.records.get(answer["conversation_id"]))["customer_name"]
    )  # type: ignore[index]
    assert record == "Jane Doe"
