"""Reports: figures checked exactly on a seeded store, CSV export, and who may read them over HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from chatserver.cli import main
from chatserver.domain import protocol as p
from chatserver.domain.conversation import Conversation
from chatserver.domain.hours import StaffedHours
from chatserver.reports import tables
from chatserver.reports.compute import Yardstick
from chatserver.reports.models import Report
from chatserver.reports.source import build_report, day_range
from chatserver.store.sqlite import SQLiteStore
from tests.conftest import Server

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS_8_TO_20 = {
    d: ["08:00-20:00"] for d in ("monday", "tuesday", "wednesday", "thursday", "friday")
}
SETTINGS = Yardstick(
    target_s=60, time_zone="Europe/Berlin", hours=StaffedHours("Europe/Berlin", WEEKDAYS_8_TO_20)
)
MONDAY = date(2026, 6, 1)


def at(hour: int, minute: int = 0) -> float:
    """An instant on Monday 2026-06-01, Berlin time."""
    return datetime(2026, 6, 1, hour, minute, tzinfo=BERLIN).timestamp()


NOW = at(15)


def event(kind: type[p.Event], conversation_id: str, **fields: Any):  # type: ignore[no-untyped-def]
    def render(seq: int) -> str:
        return kind(conversation_id=conversation_id, seq=seq, ts=NOW, **fields).model_dump_json()

    return render


async def seed(backend: SQLiteStore, older: bool = False) -> None:
    """Nine conversations on one Monday whose figures are worked out by hand in the tests.

    ``older``: records as stored before they kept the bot's outcome (it is then in the logs only).
    """

    async def add(cid: str, created: float, events: tuple[Any, ...] = (), **fields: Any) -> None:
        fields.setdefault("queued_at", created)
        record = Conversation(
            id=cid, shop_id="kitebay", shopper_id=f"s-{cid}", created_at=created, **fields
        ).fields()
        if older:
            for name in ("bot_spoke", "bot_helpful", "handoffs", "unanswered"):
                del record[name]
        await backend.records.create(cid, f"s-{cid}", record)
        for render in events:
            await backend.log.append(cid, render)

    closed = {"status": "closed", "closed_by": "agent"}
    # Inside staffed hours (Monday 08:00-20:00).
    await add(
        "c1",
        at(10),
        agent_id="alice",
        first_response_s=20,
        response_times=[20, 40],
        closed_at=at(10, 30),
        rating=5,
        rating_comment="great",
        messages=4,
        tags=["shipping"],
        **closed,
    )
    await add(
        "c2",
        at(11),
        agent_id="alice",
        first_response_s=50,
        response_times=[50],
        closed_at=at(11, 30),
        rating=4,
        messages=2,
        tags=["shipping", "returns"],
        **closed,
    )
    await add(
        "c3",
        at(12),
        agent_id="bob",
        first_response_s=70,
        response_times=[70, 100],
        closed_at=at(12, 30),
        rating=2,
        rating_comment="slow",
        messages=4,
        **closed,
    )
    # Outside: answered; waited 90 s and left (a miss); waited 30 s and left (neither).
    await add(
        "c4",
        at(21),
        agent_id="bob",
        first_response_s=30,
        response_times=[30],
        closed_at=at(21, 30),
        messages=2,
        **closed,
    )
    await add(
        "c5",
        at(21, 30),
        clock_started=at(21, 30),
        status="closed",
        closed_by="shopper",
        closed_at=at(21, 30) + 90,
        messages=1,
    )
    await add(
        "c6",
        at(22),
        clock_started=at(22),
        status="closed",
        closed_by="shopper",
        closed_at=at(22) + 30,
        messages=1,
    )
    # The bot settles one; hands another off, which alice answers in 10 s.
    await add(
        "c7",
        at(9),
        queued_at=None,
        status="closed",
        closed_by="shopper",
        closed_at=at(9, 5),
        bot_spoke=True,
        bot_helpful=True,
        events=(
            event(p.MessagePosted, "c7", author="shopper", author_id="s", text="Where is my kite?"),
            event(
                p.MessagePosted,
                "c7",
                author="bot",
                author_id="bot",
                text="Here: ...",
                faq_id="track",
            ),
            event(p.BotFeedbackGiven, "c7", answer_seq=2, helpful=True),
        ),
    )
    await add(
        "c8",
        at(13),
        queued_at=at(13) + 30,
        agent_id="alice",
        first_response_s=10,
        response_times=[10],
        closed_at=at(13, 30),
        messages=3,
        **closed,
        bot_spoke=True,
        handoffs=1,
        unanswered=["do you ship to mars?"],
        events=(
            event(
                p.MessagePosted, "c8", author="shopper", author_id="s", text="Do you ship to  Mars?"
            ),
            event(
                p.MessagePosted,
                "c8",
                author="bot",
                author_id="bot",
                text="A person will follow up.",
            ),
            event(p.ConversationQueued, "c8", reason="handoff"),
        ),
    )
    # Still open: answered once in 15 s, and a shopper message has waited 120 s since.
    await add("c9", at(14), agent_id="bob", status="assigned", first_response_s=15, response_times=[15],
              clock_started=NOW - 120, messages=3)  # fmt: skip


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    backend = SQLiteStore(tmp_path / "chat.sqlite3")
    await backend.start()
    await seed(backend)
    yield backend
    await backend.close()


@pytest.fixture
async def report(store: SQLiteStore) -> Report:
    since, until = day_range(MONDAY, MONDAY, "Europe/Berlin")
    return await build_report(store, SETTINGS, since, until, NOW)


def test_first_response_percentiles_share_and_misses(report: Report) -> None:
    first = report.response.overall.first
    # Answered 10, 15, 20, 30, 50, 70; c5 waited 90 s unanswered: a miss; c6 left at 30 s: not counted.
    assert (first.count, first.answered, first.misses) == (7, 6, 1)
    assert (first.p50_s, first.p90_s, first.max_s) == (20, 70, 70)
    assert (first.within_target, first.share_within) == (5, round(5 / 7, 4))


def test_every_response_counts_running_clocks_past_the_target_as_misses(report: Report) -> None:
    every = report.response.overall.every
    # 10 15 20 30 40 50 70 100; misses: c5 (closed unanswered) and c9 (waiting 120 s now).
    assert (every.count, every.answered, every.misses) == (10, 8, 2)
    assert (every.p50_s, every.p90_s, every.max_s, every.share_within) == (30, 100, 100, 0.6)


def test_inside_and_outside_staffed_hours_are_split(report: Report) -> None:
    split = {row.key: row.first for row in report.response.by_staffed}
    assert (split["inside"].count, split["inside"].p50_s, split["inside"].share_within) == (
        5,
        20,
        0.8,
    )
    assert (split["outside"].count, split["outside"].misses, split["outside"].share_within) == (
        2,
        1,
        0.5,
    )


def test_breakdowns_per_agent_hour_and_weekday(report: Report) -> None:
    agents = {row.key: row.first for row in report.response.by_agent}
    assert (agents["alice"].count, agents["alice"].p50_s, agents["alice"].share_within) == (
        3,
        20,
        1.0,
    )
    assert (agents["bob"].count, agents["bob"].p90_s, agents["bob"].share_within) == (
        3,
        70,
        round(2 / 3, 4),
    )
    assert agents["(none)"].misses == 1
    hours = {row.key: row.first.count for row in report.response.by_hour}
    assert hours == {"10": 1, "11": 1, "12": 1, "13": 1, "14": 1, "21": 2}
    assert [row.key for row in report.response.by_weekday] == ["monday"]
    assert [row.key for row in report.response.by_shop] == ["kitebay"]


def test_csat_comments_tags_and_effort(report: Report) -> None:
    quality = report.quality
    assert (quality.ratings, quality.satisfied, quality.csat, quality.average) == (
        3,
        2,
        0.6667,
        3.667,
    )
    assert [(c.conversation_id, c.comment) for c in quality.comments] == [
        ("c3", "slow"),
        ("c1", "great"),
    ]
    assert {r.agent_id: r.average for r in quality.by_agent} == {"alice": 4.5, "bob": 2.0}
    assert [(t.tag, t.count) for t in quality.tags] == [("shipping", 2), ("returns", 1)]
    # Resolved: c1 c2 c3 c4 c7 c8 (c5, c6 were abandoned; c9 is open): 16 messages, 1 hand-off.
    assert (quality.resolved, quality.messages_per_resolved, quality.handoffs_per_resolved) == (
        6,
        2.5,
        0.167,
    )


def test_workload_and_abandoned(report: Report) -> None:
    workload = report.workload
    assert (workload.conversations, workload.queued, workload.abandoned) == (9, 8, 2)
    assert workload.staffed_hours == 12
    loads = {a.agent_id: (a.conversations, a.messages) for a in workload.by_agent}
    assert loads == {"alice": (3, 9), "bob": (3, 9)}


def test_bot_settled_handoffs_and_unanswered_questions(report: Report) -> None:
    bot = report.bot
    assert (bot.conversations, bot.settled, bot.handoffs, bot.handoff_rate) == (2, 1, 1, 0.5)
    assert [(q.text, q.count) for q in bot.unanswered] == [("do you ship to mars?", 1)]


def test_days_follow_the_shop_time_zone(report: Report) -> None:
    assert [(d.day, d.conversations, d.first.count) for d in report.days] == [("2026-06-01", 9, 7)]


def test_csv_tables_carry_the_same_figures(report: Report) -> None:
    text = tables.to_csv(tables.response(report))
    header, overall = text.splitlines()[:2]
    row = dict(zip(header.split(","), overall.split(","), strict=True))
    assert (row["dimension"], row["first_p90_s"], row["first_misses"], row["every_count"]) == (
        "all",
        "70.0",
        "1",
        "10",
    )
    summary = dict(
        line.split(",") for line in tables.to_csv(tables.summary(report)).splitlines()[1:]
    )
    assert summary["first_response_within_target"] == str(round(5 / 7, 4))


async def test_an_empty_range_reports_zeros(store: SQLiteStore) -> None:
    since, until = day_range(date(2026, 6, 2), date(2026, 6, 2), "Europe/Berlin")
    empty = await build_report(store, SETTINGS, since, until, NOW)
    assert empty.response.overall.first.count == 0
    assert empty.response.overall.first.p50_s is None
    assert empty.workload.conversations == 0


def test_report_command_prints_the_headline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    data = tmp_path / "data"

    async def prepare() -> None:
        backend = SQLiteStore(data / "chat.sqlite3")
        await backend.start()
        await seed(backend)
        await backend.close()

    asyncio.run(prepare())
    args = ["report", "--from", "2026-06-01", "--to", "2026-06-01", "--data-dir", str(data)]
    assert main([*args, "--csv"]) == 0
    lines = dict(line.split(",") for line in capsys.readouterr().out.splitlines()[1:])
    assert (lines["first_response_p90_s"], lines["first_response_misses"]) == ("70.0", "1")
    assert main(args) == 0
    assert "first_response_p50_s" in capsys.readouterr().out


# --- over HTTP, on a real server --------------------------------------------------------------


async def login(server: Server, agent_id: str, role: str) -> str:
    await server.hub.accounts.add(agent_id, agent_id.title(), "pw-" + agent_id, role=role)  # type: ignore[arg-type]
    async with httpx.AsyncClient(base_url=server.url) as client:
        reply = await client.post(
            "/api/login", json={"username": agent_id, "password": "pw-" + agent_id}
        )
    return str(reply.json()["token"])


async def test_only_managers_and_admins_read_reports(server: Server) -> None:
    tokens = {
        role: await login(server, f"user-{role}", role) for role in ("agent", "manager", "admin")
    }
    async with httpx.AsyncClient(base_url=server.url) as client:
        for path in ("/api/reports", "/api/reports/live", "/api/reports/summary.csv"):
            assert (await client.get(path)).status_code == 401
            bad = await client.get(path, headers={"Authorization": "Bearer forged"})
            assert bad.status_code == 401
            refused = await client.get(path, headers={"Authorization": f"Bearer {tokens['agent']}"})
            assert refused.status_code == 403
            for role in ("manager", "admin"):
                ok = await client.get(path, headers={"Authorization": f"Bearer {tokens[role]}"})
                assert ok.status_code == 200, ok.text


async def test_a_live_chat_shows_in_the_report_csv_and_metrics(server: Server) -> None:
    token = await login(server, "mona", "manager")
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="q1", text="Is this kite waterproof?"))
    conversation_id = (await shopper.expect("ack", client_id="q1"))["conversation_id"]
    await server.clock.advance(25)
    alice = await server.agent("alice", capacity=1)
    await alice.expect("conversation_assigned", conversation_id=conversation_id)
    await alice.send(p.SendMessage(conversation_id=conversation_id, client_id="a1", text="Yes."))
    await alice.expect("ack", client_id="a1")
    shopper2 = await server.shopper()
    await shopper2.send(p.SendMessage(client_id="q1", text="Anyone there?"))
    await shopper2.expect("ack", client_id="q1")
    await server.clock.advance(5)

    day = datetime.fromtimestamp(server.clock.now(), ZoneInfo("Europe/Berlin")).date().isoformat()
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers) as client:
        body = (await client.get("/api/reports", params={"from": day, "to": day})).json()
        first = body["response"]["overall"]["first"]
        assert (first["answered"], first["p50_s"], first["share_within"]) == (1, 25.0, 1.0)
        assert body["workload"]["conversations"] == 2

        live = (await client.get("/api/reports/live")).json()
        assert (live["agents_online"], live["chats_open"], live["queue_length"]) == (1, 1, 1)
        assert live["oldest_wait_s"] == 5.0

        csv = await client.get("/api/reports/agents.csv", params={"from": day, "to": day})
        assert csv.headers["content-type"].startswith("text/csv")
        assert csv.text.splitlines()[1].startswith("alice,1,2,0,")
        assert (await client.get("/api/reports/nothing.csv")).status_code == 404
        assert (await client.get("/api/reports", params={"from": "June"})).status_code == 400

        metrics = (await client.get("/metrics")).text
    assert 'chat_first_response_seconds_bucket{le="60.0"} 1.0' in metrics
    assert "chat_first_response_seconds_count 1.0" in metrics
    assert "chat_queue_length 1.0" in metrics
    assert "chat_oldest_wait_seconds 5.0" in metrics
    assert 'chat_connections{role="shopper"} 2.0' in metrics


async def test_a_file_made_before_the_report_column_still_reports(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE conversations (id TEXT PRIMARY KEY, shopper_id TEXT NOT NULL,"
        " created_at REAL NOT NULL, doc TEXT NOT NULL)"
    )
    doc = {"id": "c1", "shop_id": "kitebay", "shopper_id": "s", "status": "closed",
           "created_at": at(10), "queued_at": at(10), "first_response_s": 42.0,
           "response_times": [42.0], "closed_at": at(10, 5), "closed_by": "agent", "agent_id": "alice"}  # fmt: skip
    old.execute("INSERT INTO conversations VALUES ('c1', 's', ?, ?)", (at(10), json.dumps(doc)))
    old.commit()
    old.close()
    backend = SQLiteStore(path)
    await backend.start()
    try:
        since, until = day_range(MONDAY, MONDAY, "Europe/Berlin")
        result = await build_report(backend, SETTINGS, since, until, NOW)
    finally:
        await backend.close()
    assert (result.response.overall.first.count, result.response.overall.first.p50_s) == (1, 42.0)


async def test_a_store_made_before_the_bot_outcome_fields_reads_it_from_the_logs(
    tmp_path: Path,
) -> None:
    import sqlite3

    # The conversations table as made when REPORT_FIELDS had no bot fields: its stored report_row
    # column lacks them, and the records lack them too.
    older_fields = ("id", "shop_id", "status", "created_at", "agent_id", "queued_at",
                    "clock_started", "first_response_s", "response_times", "closed_at",
                    "closed_by", "rating", "rating_comment", "messages", "tags")  # fmt: skip
    report_row = "json_extract(doc, {})".format(", ".join(f"'$.{n}'" for n in older_fields))
    path = tmp_path / "older.sqlite3"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE conversations (id TEXT PRIMARY KEY, shopper_id TEXT NOT NULL,"
        f" created_at REAL NOT NULL, doc TEXT NOT NULL, report_row TEXT GENERATED ALWAYS AS"
        f" ({report_row}) STORED)"
    )
    old.close()
    backend = SQLiteStore(path)
    await backend.start()
    try:
        await seed(backend, older=True)
        since, until = day_range(MONDAY, MONDAY, "Europe/Berlin")
        result = await build_report(backend, SETTINGS, since, until, NOW)
    finally:
        await backend.close()
    bot = result.bot
    assert (bot.conversations, bot.settled, bot.handoffs, bot.handoff_rate) == (2, 1, 1, 0.5)
    assert [(q.text, q.count) for q in bot.unanswered] == [("do you ship to mars?", 1)]
    assert result.quality.handoffs_per_resolved == 0.167
    assert (result.response.overall.first.count, result.response.overall.first.p90_s) == (7, 70)
