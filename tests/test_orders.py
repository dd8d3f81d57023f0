"""The order connector against real HTTP services: the demo shop's, and ones that fail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chatserver.orders.connector import CircuitBreaker, OrderConnector
from chatserver.orders.demo_service import DEMO_SECRET, create_order_service

Serve = Callable[[Any], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Serve an ASGI app on a free port in this loop; returns its base URL."""
    running: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def start(app: Any) -> str:
        server = uvicorn.Server(
            uvicorn.Config(
                app, port=0, log_level="warning", lifespan="off", timeout_graceful_shutdown=0.1
            )
        )
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        running.append((server, task))
        return f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"

    yield start
    for server, task in running:
        server.should_exit = True
        await task


def connector(base: str, secret: str = DEMO_SECRET, **kwargs: Any) -> OrderConnector:
    return OrderConnector(
        base + "/api/chat/orders/{order}",
        base + "/api/chat/customers/{customer}/orders",
        secret,
        **kwargs,
    )


async def test_an_order_comes_back_with_its_email_or_postcode(serve: Serve) -> None:
    orders = connector(await serve(create_order_service()))
    try:
        by_email = await orders.order("100234", email="jane@example.com")
        by_postcode = await orders.order("100301", postcode="10115")
    finally:
        await orders.close()
    assert by_email.outcome == "found" and by_email.orders[0].status == "shipped"
    assert by_email.orders[0].tracking_url.startswith("https://www.dhl.com/")
    assert by_postcode.orders[0].status == "delayed"


async def test_someone_elses_order_number_without_its_email_gives_nothing(serve: Serve) -> None:
    orders = connector(await serve(create_order_service()))
    try:
        wrong_email = await orders.order("100234", email="mallory@example.com")
        no_proof = await orders.order("100234")
        unknown = await orders.order("999999", email="jane@example.com")
    finally:
        await orders.close()
    assert wrong_email.outcome == no_proof.outcome == unknown.outcome == "not_found"
    assert wrong_email.orders == no_proof.orders == []


async def test_an_identified_customer_gets_their_recent_orders(serve: Serve) -> None:
    orders = connector(await serve(create_order_service()))
    try:
        mine = await orders.recent("cust-1002")
    finally:
        await orders.close()
    assert mine.outcome == "found"
    assert {o.number for o in mine.orders} == {"100301", "100290"}


async def test_a_request_with_the_wrong_secret_is_refused_by_the_shop(serve: Serve) -> None:
    orders = connector(await serve(create_order_service()), secret="not-the-shops-secret")
    try:
        lookup = await orders.order("100234", email="jane@example.com")
    finally:
        await orders.close()
    assert lookup.outcome == "not_found"


async def test_a_slow_or_failing_shop_system_gives_unavailable_within_the_time_limit(
    serve: Serve,
) -> None:
    calls = {"slow": 0, "broken": 0}

    async def slow(request: Request) -> Response:
        calls["slow"] += 1
        await asyncio.sleep(30)
        return Response("{}", media_type="application/json")

    async def broken(request: Request) -> Response:
        calls["broken"] += 1
        return Response("boom", 503)

    base = await serve(
        Starlette(routes=[Route("/slow/{order}", slow), Route("/api/chat/orders/{order}", broken)])
    )
    timing_out = OrderConnector(
        base + "/slow/{order}", base + "/slow/{customer}", "s", timeout_s=0.3
    )
    failing = connector(base, secret="s")
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        slow_lookup = await timing_out.order("1", email="a@example.com")
        took = loop.time() - started
        broken_lookup = await failing.order("1", email="a@example.com")
    finally:
        await timing_out.close()
        await failing.close()
    assert slow_lookup.outcome == broken_lookup.outcome == "unavailable"
    assert took < 10  # two attempts of 0.3 s each, not the shop's 30 s
    assert calls["broken"] == 2  # retried once


async def test_the_breaker_stops_asking_a_failing_system_until_it_cools_off(serve: Serve) -> None:
    calls = 0

    async def broken(request: Request) -> Response:
        nonlocal calls
        calls += 1
        return Response("boom", 500)

    now = [0.0]
    breaker = CircuitBreaker(trip_after=2, cool_off_s=30, clock=lambda: now[0])
    base = await serve(Starlette(routes=[Route("/api/chat/orders/{order}", broken)]))
    orders = connector(base, secret="s", breaker=breaker)
    try:
        for _ in range(2):
            assert (await orders.order("1", email="a@example.com")).outcome == "unavailable"
        asked = calls
        assert (await orders.order("1", email="a@example.com")).outcome == "unavailable"
        assert calls == asked  # open: not asked at all
        now[0] = 31.0
        await orders.order("1", email="a@example.com")
        assert calls == asked + 2  # half-open: one lookup (with its retry) goes through
    finally:
        await orders.close()
