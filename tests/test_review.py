"""The quality review: the week's queue, who may score, agents' own reviews and QA report figures
(exact, on a seeded store of each backend)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatserver.core.review import Review, build_queue
from chatserver.domain import protocol as p
from chatserver.domain.conversation import Conversation
from chatserver.reports.playbook import qa_report
from chatserver.store.base import Store
from chatserver.store.redis import RedisStore
from chatserver.store.sqlite import SQLiteStore
from tests._redis import REDIS_URL, drop_keys, unique_prefix
from tests.conftest import Server
from tests.test_reports import login

MONDAY = datetime(2027, 3, 1, tzinfo=UTC).timestamp()  # 2027-W09


def record(cid: str, agent: str | None, **fields: Any) -> dict[str, str]:
    fields.setdefault("status", "closed")
    return Conversation(
        id=cid,
        shop_id="kitebay",
        shopper_id=f"s-{cid}",
        created_at=fields.pop("created_at", MONDAY + 3600),
        agent_id=agent,
        **fields,
    ).fields()


# --- the queue --------------------------------------------------------------------------------


def week_of_chats() -> list[dict[str, str]]:
    chats = [record(f"a{i}", "alice", created_at=MONDAY + i) for i in range(6)]
    chats += [record(f"b{i}", "bob", created_at=MONDAY + 100 + i) for i in range(3)]
    chats.append(record("c0", "carol", created_at=MONDAY + 200))
    chats.append(record("low", "dave", rating=2, created_at=MONDAY + 300))
    chats.append(record("ok", "dave", rating=5, created_at=MONDAY + 301))
    chats.append(record("open", "dave", status="assigned", rating=1))
    chats.append(record("bot", None, rating=1))
    flagged = record("rude", "erin", created_at=MONDAY + 400)
    flagged["tone_flagged"] = "3"  # stored by the tone coach (h18a's field)
    chats.append(flagged)
    return chats


def test_queue_samples_two_per_agent_and_adds_low_ratings_and_flagged_tone() -> None:
    queue = build_queue(week_of_chats(), 2, "2027-W09")
    by_agent: dict[str, list[str]] = {}
    for item in queue:
        if "sample" in item.reasons:
            by_agent.setdefault(item.agent_id, []).append(item.conversation_id)
    assert {a: len(ids) for a, ids in by_agent.items()} == {
        "alice": 2,
        "bob": 2,
        "carol": 1,
        "dave": 2,
        "erin": 1,
    }
    reasons = {i.conversation_id: i.reasons for i in queue}
    assert reasons["low"] == ["sample", "low_rating"] and reasons["rude"] == ["sample", "tone"]
    assert "open" not in reasons and "bot" not in reasons  # only closed chats an agent handled
    assert [i.tone_flagged for i in queue if i.conversation_id == "rude"] == [3]


def test_a_weeks_sample_is_the_same_every_time_and_another_weeks_differs() -> None:
    chats = [record(f"a{i:02d}", "alice", created_at=MONDAY + i) for i in range(40)]
    first = [i.conversation_id for i in build_queue(chats, 2, "2027-W09")]
    assert first == [i.conversation_id for i in build_queue(list(reversed(chats)), 2, "2027-W09")]
    assert first != [i.conversation_id for i in build_queue(chats, 2, "2027-W10")]
    assert len(first) == 2


# --- QA figures on a seeded store, on each backend ----------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    prefix = unique_prefix()
    backend: Store = (
        SQLiteStore(tmp_path / "chat.sqlite3")
        if request.param == "sqlite"
        else RedisStore(REDIS_URL, prefix=prefix)
    )
    await backend.start()
    yield backend
    await backend.close()
    if request.param == "redis":
        await drop_keys(prefix)


async def put_review(store: Store, cid: str, agent: str, created: float, *scores: int) -> None:
    rubric = ("accuracy", "attitude", "process", "resolution")
    review = Review(
        conversation_id=cid,
        agent_id=agent,
        reviewer_id="mona",
        at=created + 86400,
        created_at=created,
        scores=dict(zip(rubric, scores, strict=True)),
        average=sum(scores) / len(scores),
    )
    await store.reviews.put(cid, agent, created, review.model_dump_json())


async def test_qa_score_per_agent_averages_every_criterion(store: Store) -> None:
    await put_review(store, "a1", "alice", MONDAY + 10, 5, 4, 4, 5)
    await put_review(store, "a2", "alice", MONDAY + 20, 3, 4, 2, 3)
    await put_review(store, "b1", "bob", MONDAY + 30, 1, 2, 2, 1)
    await put_review(store, "old", "bob", MONDAY - 10, 5, 5, 5, 5)  # before the period
    qa = {q.agent_id: q for q in await qa_report(store, MONDAY, MONDAY + 7 * 86400)}
    assert list(qa) == ["alice", "bob"]
    # alice: (5+4+4+5+3+4+2+3) / 8 = 30 / 8
    assert (qa["alice"].reviews, qa["alice"].score) == (2, 3.75)
    assert qa["alice"].by_criterion == {
        "accuracy": 4.0,
        "attitude": 4.0,
        "process": 3.0,
        "resolution": 4.0,
    }
    assert (qa["bob"].reviews, qa["bob"].score) == (1, 1.5)


# --- over a real server --------------------------------------------------------------------------


async def closed_chat(server: Server, agent_id: str, text: str) -> str:
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="q1", text=text))
    cid = str((await shopper.expect("ack", client_id="q1"))["conversation_id"])
    agent = await server.agent(agent_id)
    await agent.expect("conversation_assigned", conversation_id=cid)
    await agent.send(p.SendMessage(conversation_id=cid, client_id="a1", text="Sorted, thanks!"))
    await agent.expect("ack", client_id="a1")
    await agent.send(p.CloseConversation(conversation_id=cid))
    await agent.expect("conversation_closed", conversation_id=cid)
    await shopper.send(p.Rate(score=1))
    await shopper.expect("rating_given")
    await agent.send(p.SetStatus(status="offline"))
    await agent.expect("status_changed", status="offline")
    return cid


SCORES = {"accuracy": 4, "attitude": 5, "process": 3, "resolution": 4}


async def test_a_manager_scores_an_agent_cannot_and_nobody_scores_their_own_chat(
    server: Server,
) -> None:
    mona = await login(server, "mona", "manager")
    alice = await login(server, "alice", "agent")
    mine = await closed_chat(server, "alice", "Where is my parcel?")
    monas = await closed_chat(server, "mona", "Can I change my address?")
    week = datetime.fromtimestamp(server.clock.now(), UTC).strftime("%G-W%V")
    origin = {"Origin": server.settings.base_url}
    async with httpx.AsyncClient(base_url=server.url, headers=origin) as http:

        def auth(token: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {token}"}

        queue = await http.get("/api/review/queue", headers=auth(mona))
        assert queue.status_code == 200, queue.text
        assert queue.json()["week"] == week
        items = {i["conversation_id"]: i for i in queue.json()["items"]}
        assert items[mine]["reasons"] == ["sample", "low_rating"]
        assert (await http.get("/api/review/queue", headers=auth(alice))).status_code == 403

        body = {"scores": SCORES, "comment": "Kind, but check the tracking link first."}
        by_agent = await http.post(f"/api/review/{mine}", json=body, headers=auth(alice))
        assert by_agent.status_code == 403
        own = await http.post(f"/api/review/{monas}", json=body, headers=auth(mona))
        assert own.status_code == 403 and "own chat" in own.json()["error"]
        partial = await http.post(
            f"/api/review/{mine}", json={"scores": {"accuracy": 4}}, headers=auth(mona)
        )
        assert partial.status_code == 400 and "missing attitude" in partial.json()["error"]
        foreign = await http.post(
            f"/api/review/{mine}",
            json=body,
            headers={**auth(mona), "Origin": "https://evil.example"},
        )
        assert foreign.status_code == 403
        scored = await http.post(f"/api/review/{mine}", json=body, headers=auth(mona))
        assert scored.status_code == 200, scored.text
        assert scored.json()["review"]["average"] == 4.0

        reviews = (await http.get("/api/review/mine", headers=auth(alice))).json()["reviews"]
        assert [(r["conversation_id"], r["comment"]) for r in reviews] == [
            (mine, "Kind, but check the tracking link first.")
        ]
        assert (await http.get(f"/api/review/{mine}", headers=auth(alice))).status_code == 200
        assert (await http.get(f"/api/review/{monas}", headers=auth(alice))).status_code == 403
        queue = (await http.get("/api/review/queue", headers=auth(mona))).json()
        assert {i["conversation_id"]: i["reviewed"] for i in queue["items"]}[mine] is True

        day = datetime.fromtimestamp(server.clock.now(), UTC).date().isoformat()
        csv = await http.get(
            "/api/reports/agents.csv", params={"from": day, "to": day}, headers=auth(mona)
        )
    header, *rows = [line.split(",") for line in csv.text.splitlines()]
    assert header[-2:] == ["qa_reviews", "qa_score"]
    assert {row[0]: row[-2:] for row in rows}["alice"] == ["1", "4.0"]
