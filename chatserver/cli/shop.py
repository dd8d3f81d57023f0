"""``chatserver shop export|import DIR``: the shop's configuration as the files of ``faq_data/``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from chatserver.core.shop_config import TOPIC
from chatserver.domain.settings import Settings
from chatserver.faq import shop_docs
from chatserver.store import store_for


async def export(settings: Settings, args: argparse.Namespace) -> int:
    store = store_for(settings)
    await store.start()
    try:
        documents = await store.config.documents()
    finally:
        await store.close()
    if not documents:
        print("the shop has no stored configuration yet (it is imported on the first start)")
        return 1
    shop_docs.write_dir(documents, Path(args.dir))
    print(f"wrote {', '.join(sorted(documents))} to {args.dir}")
    return 0


async def import_(settings: Settings, args: argparse.Namespace) -> int:
    """Replace the stored configuration with the folder's files, if they load; nothing otherwise."""
    documents = shop_docs.read_dir(Path(args.dir))
    if "shop.toml" not in documents:
        print(f"chatserver: no shop.toml in {args.dir}: nothing imported", file=sys.stderr)
        return 1
    try:
        shop_docs.build(documents, settings.response_target_s)
    except shop_docs.ConfigProblems as exc:
        for where, message in exc.problems:
            print(f"chatserver: {where}: {message}", file=sys.stderr)
        print("nothing imported", file=sys.stderr)
        return 1
    store = store_for(settings)
    await store.start()
    try:
        stored = await store.config.documents()
        changes: dict[str, str | None] = {name: None for name in stored if name not in documents}
        changes.update(documents)
        entry = {"at": time.time(), "who": "cli", "what": f"import {args.dir}", "documents": ""}
        await store.config.change(changes, json.dumps(entry))
        await store.bus.signal(TOPIC, "cli-import")  # running workers on Redis reload
    finally:
        await store.close()
    print(f"imported {', '.join(sorted(documents))} from {args.dir}")
    return 0
