"""Helpers for tests on the real Redis: one database kept for tests, a unique prefix per test."""

from __future__ import annotations

import os
import uuid

import redis.asyncio as aioredis

REDIS_URL = os.environ.get("CHAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


def unique_prefix() -> str:
    """A key prefix no other test uses, so tests never see each other's data."""
    return f"test-{uuid.uuid4().hex[:12]}:"


async def drop_keys(prefix: str, url: str = REDIS_URL) -> None:
    """Delete every key a test wrote under its prefix."""
    client = aioredis.Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=prefix + "*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
