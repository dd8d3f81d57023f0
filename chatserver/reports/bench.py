"""Benchmark reports over a large store (`chatserver bench reports`): seed, then time the report."""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from chatserver.domain.conversation import Conversation
from chatserver.domain.hours import StaffedHours
from chatserver.reports.compute import Yardstick
from chatserver.reports.source import build_report
from chatserver.store.sqlite import SQLiteStore

DAY = 86_400.0
START = 1_780_000_000.0  # a Thursday in 2026
_HOURS = StaffedHours(
    "Europe/Berlin",
    {day: ["08:00-20:00"] for day in ("monday", "tuesday", "wednesday", "thursday", "friday")},
)
SETTINGS = Yardstick(target_s=60.0, time_zone="Europe/Berlin", hours=_HOURS)


def _conversation(i: int, rng: random.Random, days: int) -> Conversation:
    """A closed conversation with random times; a quarter start with the bot, which settles the
    question or hands it over (its outcome on the record, as the hub keeps it)."""
    created = START + rng.random() * days * DAY
    with_bot = i % 4 == 0
    handoff = with_bot and rng.random() < 0.4
    queued_at = created + 30 if handoff else (None if with_bot else created)
    answered = queued_at is not None and rng.random() < 0.95
    first = round(rng.expovariate(1 / 40), 3) if answered else None
    times = (
        [first, *(round(rng.expovariate(1 / 50), 3) for _ in range(rng.randrange(4)))]
        if first
        else []
    )
    question = rng.choice(["where is my kite", "do you ship to norway", "discount code?"])
    return Conversation(
        id=f"c-{i:07d}",
        shop_id="bench",
        shopper_id=f"s-{i}",
        status="closed",
        created_at=created,
        agent_id=f"agent-{i % 40}" if queued_at is not None else None,
        queued_at=queued_at,
        first_response_s=first,
        response_times=times,
        clock_started=None if answered or queued_at is None else queued_at,
        closed_at=created + 600,
        closed_by="agent" if answered else "shopper",
        rating=rng.choice([None, None, 1, 2, 3, 4, 5, 5]),
        rating_comment=rng.choice(["", "", "quick and kind", "slow"]),
        messages=2 + 2 * len(times),
        tags=rng.sample(["shipping", "returns", "payment", "sizes"], rng.randrange(3)),
        bot_spoke=with_bot,
        bot_helpful=with_bot and not handoff,
        handoffs=int(handoff),
        unanswered=[question] if handoff else [],
    )


async def _seed(store: SQLiteStore, count: int, days: int) -> None:
    rng = random.Random(6)
    batch = 10_000
    for first in range(0, count, batch):
        made = [_conversation(i, rng, days) for i in range(first, min(count, first + batch))]
        await asyncio.gather(*(store.records.create(c.id, c.shopper_id, c.fields()) for c in made))


async def run(
    conversations: int = 100_000, days: int = 30, repeat: int = 3, path: Path | None = None
) -> dict[str, Any]:
    """Seed ``conversations`` over ``days`` days in a fresh SQLite file and time the full report."""
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(path or Path(tmp) / "bench.sqlite3")
        await store.start()
        try:
            began = time.perf_counter()
            await _seed(store, conversations, days)
            seeded = time.perf_counter() - began
            timings = []
            for _ in range(repeat):
                began = time.perf_counter()
                report = await build_report(
                    store, SETTINGS, START, START + days * DAY, START + days * DAY
                )
                timings.append(time.perf_counter() - began)
        finally:
            await store.close()
    return {
        "conversations": report.workload.conversations,
        "bot_conversations": report.bot.conversations,
        "seed_s": round(seeded, 2),
        "report_s_best": round(min(timings), 3),
        "report_s_all": [round(t, 3) for t in timings],
        "first_response_p90_s": report.response.overall.first.p90_s,
    }


def main(conversations: int = 100_000) -> int:
    result = asyncio.run(run(conversations))
    for key, value in result.items():
        print(f"{key}: {value}")
    return 0 if result["report_s_best"] < 1.0 else 1
