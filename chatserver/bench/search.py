"""``chatserver bench search``: time history searches over many conversations.

Seeds the search index of a fresh store (SQLite FTS5 in a temporary file, or Redis with
``--redis-url`` under a throwaway prefix) with conversations of shop-like text (words drawn with
Zipf-like frequencies, names, e-mail addresses, tags, over 90 days), then times each kind of
query several times through the store's ``Search`` port and prints the figures in milliseconds.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from chatserver.store.base import Store
from chatserver.store.ports import search_words

DAY = 86_400.0
START = 1_800_000_000.0
DAYS = 90
_NAMES = ["jane", "ola", "mei", "lukas", "sofia", "arjun", "chloe", "mateo", "yuki", "amara"]
_TAGS = ["refund", "damaged", "sizing", "shipping", "vip", "return", "invoice", "gift"]
_COMMON = [
    "my", "order", "the", "parcel", "is", "where", "when", "can", "you", "please", "help",
    "thanks", "size", "return",
]  # fmt: skip


def _vocabulary(rng: random.Random, size: int = 5000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = {"".join(rng.choices(letters, k=rng.randint(4, 9))) for _ in range(size)}
    return [*_COMMON, *sorted(words)]


def _document(i: int, rng: random.Random, vocabulary: list[str], weights: list[float]) -> str:
    name = _NAMES[i % len(_NAMES)]
    words = rng.choices(vocabulary, weights=weights, k=rng.randint(12, 40))
    tags = rng.sample(_TAGS, rng.randint(0, 2))
    return f"{name} {name}{i}@example.com {' '.join(words)} {' '.join(tags)}"


async def _seed(store: Store, count: int) -> None:
    rng = random.Random(12)
    vocabulary = _vocabulary(rng)
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    batch = 500
    for first in range(0, count, batch):
        await asyncio.gather(
            *(
                store.search.index(
                    f"c-{i:07d}",
                    START + rng.random() * DAYS * DAY,
                    search_words(_document(i, rng, vocabulary, weights)),
                )
                for i in range(first, min(count, first + batch))
            )
        )


QUERIES: list[tuple[str, str, float, float]] = [
    ("common word", "parcel", 0, float("inf")),
    ("two common words", "order help", 0, float("inf")),
    ("three words", "where parcel thanks", 0, float("inf")),
    ("tag", "refund", 0, float("inf")),
    ("name and tag", "mei vip", 0, float("inf")),
    ("e-mail", "chloe1236@example.com", 0, float("inf")),
    ("absent word", "zzzzqqq", 0, float("inf")),
    ("two names, no match", "jane ola", 0, float("inf")),
    ("word in one week", "return", START + 40 * DAY, START + 47 * DAY),
    ("date only, one day", "", START + 10 * DAY, START + 11 * DAY),
    ("everything, newest", "", 0, float("inf")),
]


async def _time(store: Store, repeat: int) -> list[dict[str, Any]]:
    rows = []
    for label, query, since, until in QUERIES:
        words = search_words(query)
        timings, found = [], 0
        for _ in range(repeat):
            began = time.perf_counter()
            found = len(await store.search.find(words, since, until, 50))
            timings.append((time.perf_counter() - began) * 1000)
        rows.append(
            {
                "query": label,
                "found": found,
                "median_ms": round(statistics.median(timings), 2),
                "max_ms": round(max(timings), 2),
            }
        )
    return rows


async def run(conversations: int, redis_url: str = "", repeat: int = 20) -> dict[str, Any]:
    """Seed ``conversations`` search documents and time every query kind ``repeat`` times."""
    with tempfile.TemporaryDirectory() as tmp:
        store: Store
        prefix = f"bench-search-{uuid.uuid4().hex[:8]}:"
        if redis_url:
            from chatserver.store.redis import RedisStore

            store = RedisStore(redis_url, prefix=prefix)
        else:
            from chatserver.store.sqlite import SQLiteStore

            store = SQLiteStore(Path(tmp) / "bench.sqlite3")
        await store.start()
        try:
            began = time.perf_counter()
            await _seed(store, conversations)
            seeded = time.perf_counter() - began
            rows = await _time(store, repeat)
        finally:
            if redis_url:
                await _drop(store, prefix)
            await store.close()
    backend = "redis" if redis_url else "sqlite"
    return {
        "backend": backend,
        "conversations": conversations,
        "seed_s": round(seeded, 1),
        "queries": rows,
    }


async def _drop(store: Store, prefix: str) -> None:
    client = store.search._redis  # type: ignore[attr-defined]
    async for key in client.scan_iter(match=prefix + "*", count=5000):
        await client.unlink(key)


def main(conversations: int, redis_url: str = "") -> int:
    result = asyncio.run(run(conversations, redis_url))
    print(
        f"search bench: {result['conversations']} conversations on {result['backend']}"
        f" (seeded in {result['seed_s']} s), 50 newest matches per query"
    )
    print(f"{'query':<22}{'found':>7}{'median ms':>12}{'max ms':>10}")
    for row in result["queries"]:
        print(f"{row['query']:<22}{row['found']:>7}{row['median_ms']:>12}{row['max_ms']:>10}")
    worst = max(row["max_ms"] for row in result["queries"])
    print(f"slowest: {worst} ms (target: under 100 ms)")
    return 0 if worst < 100 else 1
