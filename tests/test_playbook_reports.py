"""The insight report: flagged tone per agent and day, customer effort per topic and agent, and
the product table with the products that stand out, checked exactly on a seeded store (embedded
and Redis), over HTTP as JSON and CSV for managers only, and fed end to end by a real chat."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from chatserver.domain import protocol as p
from chatserver.domain.conversation import Conversation
from chatserver.reports.insight import build_insight
from chatserver.reports.insight_models import InsightReport
from chatserver.reports.source import day_range
from chatserver.store.base import Store
from chatserver.store.redis import RedisStore
from chatserver.store.sqlite import SQLiteStore
from tests._redis import REDIS_URL, drop_keys, unique_prefix
from tests.conftest import Server
from tests.test_admin_api import login

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY, TUESDAY = date(2026, 6, 1), date(2026, 6, 2)


def at(day: date, hour: int) -> float:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN).timestamp()


def product(pid: str) -> p.PageContext:
    return p.PageContext(product_id=pid, product_name=f"Kite {pid}", url=f"https://shop/{pid}")


async def seed(store: Store) -> None:
    """Ten chats on a Monday and Tuesday (and one on Wednesday, outside the range)."""

    async def add(cid: str, created: float, **fields: Any) -> None:
        record = Conversation(
            id=cid,
            shop_id="kitebay",
            shopper_id=f"s-{cid}",
            status="closed",
            created_at=created,
            **fields,
        ).fields()
        await store.records.create(cid, f"s-{cid}", record)

    p1, p2, p3, p4 = product("P1"), product("P2"), product("P3"), product("P4")
    mon, tue = MONDAY, TUESDAY
    await add("c1", at(mon, 10), agent_id="alice", tone_by_agent={"alice": [4, 1]},
              tone_flagged=1, faq_ids=["shipping-time"], effort=6, context=p1)  # fmt: skip
    await add("c2", at(mon, 11), agent_id="alice", tone_by_agent={"alice": [2, 0]},
              faq_ids=["shipping-time"], effort=4, context=p1)  # fmt: skip
    # Transferred from alice to bob: each agent's messages count for them.
    await add("c3", at(mon, 12), agent_id="bob", tone_by_agent={"bob": [3, 2], "alice": [1, 1]},
              tone_flagged=3, tags=["damaged", "refund"], effort=2, context=p2)  # fmt: skip
    await add("c4", at(tue, 9), agent_id="bob", tone_by_agent={"bob": [5, 0]}, context=p1)
    await add("c5", at(tue, 10), faq_ids=["returns"], effort=7, context=p1)
    await add("c6", at(tue, 11), faq_ids=["sizing"], context=p1)
    await add("c7", at(tue, 12), faq_ids=["sizing"], context=p1)
    await add("c8", at(tue, 13), context=p3)
    await add("c9", at(tue, 14), context=p3)
    await add("c10", at(tue, 15), context=p4)
    await add("c11", at(tue, 16), context=p.PageContext(url="https://shop/blog"))
    await add("c12", at(date(2026, 6, 3), 9), agent_id="alice",
              tone_by_agent={"alice": [9, 9]}, effort=1, context=p2)  # fmt: skip


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    prefix = unique_prefix()
    backend: Store = (
        SQLiteStore(tmp_path / "chat.sqlite3")
        if request.param == "sqlite"
        else RedisStore(REDIS_URL, prefix=prefix)
    )
    await backend.start()
    await seed(backend)
    yield backend
    await backend.close()
    if request.param == "redis":
        await drop_keys(prefix)


@pytest.fixture
async def report(store: Store) -> InsightReport:
    since, until = day_range(MONDAY, TUESDAY, "Europe/Berlin")
    return await build_insight(store, since, until, "Europe/Berlin")


def rows(items: list[Any], *names: str) -> list[tuple[Any, ...]]:
    return [tuple(getattr(item, n) for n in names) for item in items]


def test_flagged_share_per_agent_and_per_day(report: InsightReport) -> None:
    # alice 4+2+1 messages, 1+0+1 flagged; bob 3+5, 2+0; Wednesday's chat is outside the range.
    assert rows([report.tone], "messages", "flagged", "share") == [(15, 4, 0.2667)]
    assert rows(report.tone_by_agent, "key", "messages", "flagged", "share") == [
        ("alice", 7, 2, 0.2857),
        ("bob", 8, 2, 0.25),
    ]
    assert rows(report.tone_by_day, "key", "messages", "flagged", "share") == [
        ("2026-06-01", 10, 4, 0.4),
        ("2026-06-02", 5, 0, 0.0),
    ]


def test_customer_effort_per_topic_and_per_agent(report: InsightReport) -> None:
    # Topic: the bot's FAQ entry, else the first tag. Scores 6, 4, 2, 7.
    assert rows([report.effort], "answers", "average", "share_easy") == [(4, 4.75, 0.5)]
    assert rows(report.effort_by_topic, "key", "answers", "average", "share_easy") == [
        ("damaged", 1, 2.0, 0.0),
        ("returns", 1, 7.0, 1.0),
        ("shipping-time", 2, 5.0, 0.5),
    ]
    assert rows(report.effort_by_agent, "key", "answers", "average", "share_easy") == [
        ("(none)", 1, 7.0, 1.0),
        ("alice", 2, 5.0, 0.5),
        ("bob", 1, 2.0, 0.0),
    ]


def test_products_by_topic_with_the_one_that_stands_out(report: InsightReport) -> None:
    # Chats per product 6, 2, 1, 1: median 1.5; P1 has at least 5 and more than twice that.
    assert report.product_median == 1.5
    assert rows(report.products, "product_id", "chats", "stands_out") == [
        ("P1", 6, True),
        ("P3", 2, False),
        ("P2", 1, False),
        ("P4", 1, False),
    ]
    top = report.products[0]
    assert (top.product_name, top.url) == ("Kite P1", "https://shop/P1")
    assert rows(top.topics, "topic", "chats") == [
        ("shipping-time", 2),
        ("sizing", 2),
        ("(none)", 1),
        ("returns", 1),
    ]


@pytest.mark.parametrize("backend_kind", ["sqlite"])
async def test_managers_get_it_as_json_and_csv_agents_do_not(server: Server) -> None:
    await seed(server.hub.store)
    dates = {"from": "2026-06-01", "to": "2026-06-02"}
    manager, agent = await login(server, "mia", "manager"), await login(server, "al", "agent")
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get("/api/reports/insight", params=dates)).status_code == 401
        refused = await http.get("/api/reports/insight", params=dates, headers=agent)
        assert refused.status_code == 403
        body = (await http.get("/api/reports/insight", params=dates, headers=manager)).json()
        tone = await http.get("/api/reports/tone.csv", params=dates, headers=manager)
        products = await http.get("/api/reports/products.csv", params=dates, headers=manager)
        effort = await http.get("/api/reports/effort.csv", params=dates, headers=manager)
        missing = await http.get("/api/reports/nothing.csv", headers=manager)
    assert body["tone"]["share"] == 0.2667 and body["products"][0]["stands_out"] is True
    assert list(csv.reader(io.StringIO(tone.text)))[:3] == [
        ["dimension", "key", "messages", "flagged", "share_flagged"],
        ["all", "all", "15", "4", "0.2667"],
        ["agent", "alice", "7", "2", "0.2857"],
    ]
    assert list(csv.reader(io.StringIO(products.text)))[1] == [
        "P1", "Kite P1", "https://shop/P1", "6", "True",
        "shipping-time: 2; sizing: 2; (none): 1; returns: 1",
    ]  # fmt: skip
    assert ["topic", "shipping-time", "2", "5.0", "0.5"] in list(
        csv.reader(io.StringIO(effort.text))
    )
    assert missing.status_code == 404 and "products" in missing.text


@pytest.mark.parametrize("backend_kind", ["sqlite"])
async def test_a_real_chat_feeds_the_record(server: Server) -> None:
    """Product context from hello, the agent's flagged message, and the effort answer."""
    shopper = await server.raw("/ws/shopper", origin=server.settings.base_url)
    await shopper.send(p.Hello(version=p.PROTOCOL_VERSION, context=product("P9")))
    await shopper.expect("welcome")
    agent = await server.agent("al")
    await shopper.send(p.SendMessage(client_id="s1", text="Is this kite big enough?"))
    cid = (await agent.expect("conversation_assigned"))["conversation_id"]
    await agent.send(
        p.SendMessage(client_id="a1", text="You need to measure it.", conversation_id=cid)
    )
    await shopper.expect("message_posted", text="You need to measure it.")
    await shopper.send(p.RateEffort(score=6))  # before the end: refused
    await shopper.expect("error", frame_type="rate_effort")
    await agent.send(p.CloseConversation(conversation_id=cid))
    await shopper.expect("conversation_closed")
    await shopper.send(p.Rate(score=5))
    await shopper.expect("rating_given", score=5)
    await shopper.send(p.RateEffort(score=6))
    await shopper.expect("effort_given", score=6)
    await shopper.send(p.RateEffort(score=2))
    await shopper.expect("error", frame_type="rate_effort")
    record = await server.hub.journal.get(cid)
    assert (record.tone_flagged, record.tone_by_agent, record.effort) == (1, {"al": [1, 1]}, 6)
    assert record.context is not None and record.context.product_id == "P9"
