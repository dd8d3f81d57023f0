"""Reads what a report needs from the store, then hands it to the pure computation."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from chatserver.domain.settings import Settings
from chatserver.domain.shop import load_shop
from chatserver.reports import _bot
from chatserver.reports.compute import Yardstick, compute
from chatserver.reports.models import Live, Report
from chatserver.reports.notices import notice_figures
from chatserver.reports.playbook import qa_report
from chatserver.store.base import Store


def report_settings(settings: Settings) -> Yardstick:
    """The target from the server's settings; time zone and staffed hours from the shop's file."""
    path = Path(settings.faq_dir) / "shop.toml"
    if not path.is_file():
        return Yardstick(target_s=settings.response_target_s)
    shop = load_shop(path)
    return Yardstick(
        target_s=settings.response_target_s, time_zone=shop.time_zone, hours=shop.staffed_hours()
    )


def day_range(first: date, last: date, time_zone: str) -> tuple[float, float]:
    """``[since, until)`` covering the days ``first`` to ``last`` inclusive in the shop's zone."""
    zone = ZoneInfo(time_zone)
    since = datetime.combine(first, time(), tzinfo=zone)
    until = datetime.combine(last + timedelta(days=1), time(), tzinfo=zone)
    return since.timestamp(), until.timestamp()


@contextlib.contextmanager
def _without_gc() -> Iterator[None]:
    """Pause the cycle collector while a report holds a million short-lived objects, none in a
    cycle: it would otherwise scan them all again and again (that halves the time at 100k
    records). Other tasks running meanwhile only have their cycles collected a little later."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _parse(text: str) -> list[list[Any]]:
    # orjson parses this twice as fast as the standard library (100k records: 0.1 s, not 0.25 s).
    rows: list[list[Any]] = orjson.loads(text)
    return rows


async def load_rows(store: Store, since: float, until: float) -> list[list[Any]]:
    """The ``REPORT_FIELDS`` values of every conversation created in ``[since, until)``."""
    return _parse(await store.records.scan(since, until))


async def build_report(
    store: Store, settings: Yardstick, since: float, until: float, now: float
) -> Report:
    """The report of conversations created in ``[since, until)``, as it stands at ``now``.

    The CPU-bound parts run in a thread: a report over 100k conversations takes about a second,
    and the event loop must keep serving chats meanwhile (it gets the GIL every few ms).
    """
    with _without_gc():
        text = await store.records.scan(since, until)
        rows = await asyncio.to_thread(_parse, text)
        del text
        # Only records made before the bot's outcome was kept need their logs (none, once all are
        # newer). Not read while computing: the store's thread would then wait for the GIL.
        older = await asyncio.to_thread(_bot.older, rows)
        logs = await store.log.read_many(older) if older else {}
        report = await asyncio.to_thread(_compute, rows, logs, settings, since, until, now)
    notices = await notice_figures(store.ledger, since, until)
    qa = await qa_report(store, since, until)
    return report.model_copy(update={"notices": notices, "qa": qa})


def _compute(
    rows: list[list[Any]],
    logs: Mapping[str, Sequence[str]],
    settings: Yardstick,
    since: float,
    until: float,
    now: float,
) -> Report:
    _bot.fill_older(rows, logs)
    return compute(rows, settings, since, until, now)


async def live(store: Store, now: float) -> Live:
    """Agents online, chats open, the queue and its oldest wait, from the shared store."""
    presence = await store.router.presence()
    queue = await store.router.waiting()
    started = []
    for conversation_id in queue:
        record = await store.records.get(conversation_id)
        if record is not None:
            at = json.loads(record.get("queued_at", "null")) or json.loads(record["created_at"])
            started.append(at)
    oldest = round(max(0.0, now - min(started)), 3) if started else None
    chats = await store.router.held()
    return Live(
        at=now,
        agents_online=sum(1 for a in presence if a.status == "online"),
        agents_away=sum(1 for a in presence if a.status == "away"),
        chats_open=sum(len(held) for held in chats.values()),
        queue_length=len(queue),
        oldest_wait_s=oldest,
    )
