"""``chatserver apikeys add|list|revoke``: the shop's API keys in the configured store.

``add`` prints the key once; the store keeps only its hash.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from chatserver.core.api_keys import KeyRing
from chatserver.domain.clock import SystemClock
from chatserver.domain.errors import NotFound
from chatserver.domain.settings import Settings
from chatserver.store import store_for


@contextlib.asynccontextmanager
async def _keys(settings: Settings) -> AsyncIterator[KeyRing]:
    store = store_for(settings)
    await store.start()
    try:
        yield KeyRing(store.api_keys, SystemClock())
    finally:
        await store.close()


async def add(settings: Settings, args: argparse.Namespace) -> int:
    async with _keys(settings) as keys:
        record, key = await keys.create(args.name, args.scope, "cli")
    print(f"API key {record.id} ({args.name}; {', '.join(record.scopes)}), shown only now:")
    print(key)
    return 0


async def list_keys(settings: Settings, args: argparse.Namespace) -> int:
    async with _keys(settings) as keys:
        everyone = await keys.all()
    for key in everyone:
        made = datetime.fromtimestamp(key.created_at, UTC).strftime("%Y-%m-%d")
        state = "revoked" if key.revoked_at is not None else "active"
        print(f"{key.id}\t{key.name}\t{','.join(key.scopes)}\t{made}\t{state}")
    if not everyone:
        print("no API keys")
    return 0


async def revoke(settings: Settings, args: argparse.Namespace) -> int:
    async with _keys(settings) as keys:
        try:
            await keys.revoke(args.key_id)
        except NotFound as exc:
            print(f"chatserver: {exc.message}", file=sys.stderr)
            return 1
    print(f"API key {args.key_id} revoked")
    return 0
